package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/verify/internal/testissuer"
)

// writeClaims is the handler behind the middleware: it writes the
// subject and scope of the claims in the request context.
func writeClaims(w http.ResponseWriter, r *http.Request) {
	c, ok := ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims in the context", http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "%s %s", c.Subject, c.Scope)
}

// serve starts /read and /admin behind require.
func serve(t *testing.T, require func(...string) func(http.Handler) http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/read", require("read")(http.HandlerFunc(writeClaims)))
	mux.Handle("/admin", require("read", "admin")(http.HandlerFunc(writeClaims)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (f *fixture) middlewareCases(t *testing.T) []testissuer.MiddlewareCase {
	return testissuer.MiddlewareCases(
		f.token(t, f.es, nil),
		f.token(t, f.rs, func(c jwt.MapClaims) { c["exp"] = f.clock.Now().Add(-time.Hour).Unix() }),
		f.token(t, f.ed, func(c jwt.MapClaims) { c["aud"] = "api://other" }))
}

func TestRequire(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	testissuer.CheckMiddleware(t, serve(t, f.v.Require), f.middlewareCases(t))
}

// introspector is an introspection endpoint: it wants the credential
// "Bearer introspector", and tokens in revoked are inactive.
type introspector struct {
	calls   atomic.Int64
	mu      sync.Mutex
	revoked map[string]bool
	down    bool
	aud     string
	last    http.Header
}

func (in *introspector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.calls.Add(1)
	in.mu.Lock()
	defer in.mu.Unlock()
	in.last = r.Header.Clone()
	switch {
	case in.down:
		http.Error(w, "down", http.StatusInternalServerError)
	case r.Header.Get("Authorization") == "" && r.Header.Get("X-API-Key") == "":
		http.Error(w, "who are you", http.StatusUnauthorized)
	case r.PostFormValue("token_type_hint") != "access_token":
		http.Error(w, "hint", http.StatusBadRequest)
	case in.revoked[r.PostFormValue("token")]:
		fmt.Fprint(w, `{"active":false}`)
	default:
		fmt.Fprintf(w, `{"active":true,"sub":"user-1","aud":%q,"scope":"read write","exp":1900000000,"jti":"jti-1","token_type":"access_token"}`, in.aud)
	}
}

func (in *introspector) set(change func(*introspector)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	change(in)
}

func newIntrospected(t *testing.T, cred Credentials) (*fixture, *introspector) {
	t.Helper()
	in := &introspector{revoked: map[string]bool{}, aud: testAudience}
	f := newFixture(t, func(o *Options) { o.Introspection = &cred })
	f.iss.HandleIntrospection(in.ServeHTTP)
	return f, in
}

func TestRequireActive(t *testing.T) {
	t.Parallel()
	f, in := newIntrospected(t, Credentials{BearerToken: "introspector"})
	active := serve(t, f.v.RequireActive)
	offline := serve(t, f.v.Require)

	// Every case of Require holds; an invalid token is refused before
	// introspection is asked.
	testissuer.CheckMiddleware(t, active, f.middlewareCases(t))

	revoked := f.token(t, f.es, func(c jwt.MapClaims) { c["jti"] = "revoked" })
	in.set(func(in *introspector) { in.revoked[revoked] = true })
	calls := in.calls.Load()
	testissuer.CheckMiddleware(t, active, []testissuer.MiddlewareCase{
		{Name: "revoked", Path: "/read", Authorization: []string{"Bearer " + revoked}, Status: 401, Challenge: `Bearer error="invalid_token"`},
		{Name: "invalid, not introspected", Path: "/read", Authorization: []string{"Bearer x.y.z"}, Status: 401, Challenge: `Bearer error="invalid_token"`},
	})
	if got := in.calls.Load() - calls; got != 1 {
		t.Errorf("%d introspection calls, want 1 (the revoked token only)", got)
	}
	// Offline verification does not see the revocation.
	testissuer.CheckMiddleware(t, offline, []testissuer.MiddlewareCase{
		{Name: "revoked, offline", Path: "/read", Authorization: []string{"Bearer " + revoked}, Status: 200},
	})

	in.set(func(in *introspector) { in.down = true })
	testissuer.CheckMiddleware(t, active, []testissuer.MiddlewareCase{
		{Name: "introspection down", Path: "/read", Authorization: []string{"Bearer " + f.token(t, f.es, nil)}, Status: 503},
	})
}

func TestIntrospect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	creds := []struct {
		cred   Credentials
		header string
		want   string
	}{
		{Credentials{BearerToken: "introspector"}, "Authorization", "Bearer introspector"},
		{Credentials{ClientID: "app:1", ClientSecret: "s%cret"}, "Authorization", "Basic YXBwJTNBMTpzJTI1Y3JldA=="},
		{Credentials{APIKey: "gh_key"}, "X-API-Key", "gh_key"},
	}
	for _, tc := range creds {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			f, in := newIntrospected(t, tc.cred)
			tok := f.token(t, f.es, nil)
			c, err := f.v.Introspect(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if got := in.last.Get(tc.header); got != tc.want {
				t.Errorf("%s: %q, want %q", tc.header, got, tc.want)
			}
			if c.Subject != "user-1" || c.Scope != "read write" || c.ID != "jti-1" || c.ExpiresAt.Unix() != 1900000000 ||
				len(c.Audience) != 1 || c.Audience[0] != testAudience || c.Raw["token_type"] != "access_token" {
				t.Errorf("claims %+v", c)
			}
			in.set(func(in *introspector) { in.revoked[tok] = true })
			if _, err := f.v.Introspect(ctx, tok); !errors.Is(err, ErrInvalidToken) || !errors.Is(err, ErrInactive) {
				t.Errorf("revoked: %v", err)
			}
		})
	}

	t.Run("another audience", func(t *testing.T) {
		t.Parallel()
		f, in := newIntrospected(t, Credentials{APIKey: "k"})
		in.set(func(in *introspector) { in.aud = "api://other" })
		if _, err := f.v.Introspect(ctx, f.token(t, f.es, nil)); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("introspected aud of another audience: %v", err)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		if _, err := f.v.Introspect(ctx, f.token(t, f.es, nil)); !errors.Is(err, ErrNoIntrospection) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestErrorChallenge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		e    Error
		want string
	}{
		{Error{Status: 401}, "Bearer"},
		{Error{Status: 401, Code: "invalid_token"}, `Bearer error="invalid_token"`},
		{Error{Status: 403, Code: "insufficient_scope", Scope: `a "b" c\d`}, `Bearer error="insufficient_scope", scope="a b cd"`},
		{Error{Status: 503}, ""},
	}
	for _, tc := range cases {
		if got := tc.e.Challenge(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}
