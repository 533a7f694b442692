package verify_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/testserver"
	"github.com/gatehouse-auth/gatehouse/verify"
)

const adminPassword = testserver.AdminPassword

// startGatehouse starts the real server in-process on a fresh SQLite file,
// its issuer its own URL, with the administrator "admin".
func startGatehouse(t *testing.T) (base string, inst *gatehouse.Instance) {
	t.Helper()
	ts := testserver.Start(t, func(url string, o *gatehouse.Options) {
		o.DB, o.Auth.Issuer = filepath.Join(t.TempDir(), "gatehouse.db"), url
	})
	return ts.URL, ts.Instance
}

// post sends a form or JSON body and decodes the JSON answer into out.
func post(t *testing.T, u, contentType, body, bearer string, out any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v: %s", u, err, b)
		}
	}
	return resp.StatusCode
}

// login runs the password grant as the administrator.
func login(t *testing.T, base string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	form := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {adminPassword}}
	if st := post(t, base+"/oauth/token", "application/x-www-form-urlencoded", form.Encode(), "", &tok); st != http.StatusOK {
		t.Fatalf("login: %d", st)
	}
	return tok.AccessToken
}

func kid(t *testing.T, token string) string {
	t.Helper()
	var h struct {
		Kid string `json:"kid"`
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func get(t *testing.T, u, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The verifier against the real gatehouse: discovery, its ES256 and RS256
// tokens, its audience, scopes, introspection seeing a revocation the
// offline check cannot, and a key rotation picked up on the new kid.
func TestAgainstGatehouse(t *testing.T) {
	t.Parallel()
	base, inst := startGatehouse(t)
	ctx := context.Background()
	introspector := login(t, base)
	token := login(t, base)

	// The verifier's clock runs ahead on demand, so that the unknown kid
	// of the rotation below is past the refetch limit without waiting.
	var ahead atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	v, err := verify.New(ctx, base, verify.Options{
		Audience: inst.Service.OwnAudience(), Now: now,
		Introspection: &verify.Credentials{BearerToken: introspector},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	c, err := v.Verify(ctx, token)
	if err != nil {
		t.Fatalf("the password grant's token: %v", err)
	}
	if c.Username != "admin" || c.SubType != "admin" || c.Subject == "" || c.ID == "" ||
		!c.HasScopes("tokens:introspect") || !slices.Contains(c.Audience, inst.Service.OwnAudience()) {
		t.Errorf("claims %+v", c)
	}

	// The OCARIoT dialect signs RS256.
	var ocariot struct {
		AccessToken string `json:"access_token"`
	}
	if st := post(t, base+"/v1/auth", "application/json", `{"username":"admin","password":"`+adminPassword+`"}`, "", &ocariot); st != http.StatusOK {
		t.Fatalf("/v1/auth: %d", st)
	}
	if c, err := v.Verify(ctx, ocariot.AccessToken); err != nil || c.Username != "admin" {
		t.Errorf("the RS256 token of /v1/auth: %+v, %v", c, err)
	}

	// Another resource server's verifier refuses gatehouse's own tokens.
	other, err := verify.New(ctx, base, verify.Options{Audience: "api://someone-else"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Verify(ctx, token); !errors.Is(err, verify.ErrInvalidToken) {
		t.Errorf("a verifier of another audience: %v", err)
	}

	// Middleware: offline and introspected, before and after a revocation.
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("/offline", v.Require("tokens:introspect")(ok))
	mux.Handle("/active", v.RequireActive("tokens:introspect")(ok))
	mux.Handle("/nope", v.Require("no:such-scope")(ok))
	rs := httptest.NewServer(mux)
	defer rs.Close()
	for path, want := range map[string]int{"/offline": 200, "/active": 200, "/nope": 403} {
		if got := get(t, rs.URL+path, token); got != want {
			t.Errorf("%s before the revocation: %d, want %d", path, got, want)
		}
	}
	if st := post(t, base+"/oauth/revoke", "application/x-www-form-urlencoded", url.Values{"token": {token}}.Encode(), "", nil); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	for path, want := range map[string]int{"/offline": 200, "/active": 401} {
		if got := get(t, rs.URL+path, token); got != want {
			t.Errorf("%s after the revocation: %d, want %d", path, got, want)
		}
	}
	if _, err := v.Introspect(ctx, token); !errors.Is(err, verify.ErrInactive) {
		t.Errorf("Introspect of the revoked token: %v", err)
	}

	// An immediate rotation (a compromised key): the new key signs at
	// once, so its token names a kid the cache lacks. (A staged rotation
	// publishes the key long before it signs; the cache has it by then.)
	var key struct {
		Kid string `json:"kid"`
	}
	if st := post(t, base+"/v1/signing-keys/rotate?immediate=true", "", "", introspector, &key); st != http.StatusOK {
		t.Fatalf("rotate: %d", st)
	}
	rotated := login(t, base)
	if kid(t, rotated) != key.Kid {
		t.Fatalf("the token after the rotation has kid %q, want %q", kid(t, rotated), key.Kid)
	}
	ahead.Store(int64(verify.DefaultMinRefetchInterval))
	if _, err := v.Verify(ctx, rotated); err != nil {
		t.Errorf("a token of the rotated key: %v", err)
	}
	if _, err := v.Verify(ctx, introspector); err != nil {
		t.Errorf("a token of the retired key: %v", err)
	}
}

// The claims of gatehouse's own tokens reach the verifier's Claims whole:
// email_verified and sid (the session GET /v1/me/sessions names as the
// current one) as well as the rest.
func TestVerifyGatehouseClaims(t *testing.T) {
	t.Parallel()
	base, inst := startGatehouse(t)
	ctx := context.Background()
	admin := login(t, base)
	const password = "erin-password-for-tests"
	user := `{"username":"erin","password":"` + password + `","email":"erin@example.com","email_verified":true}`
	if st := post(t, base+"/v1/users", "application/json", user, admin, nil); st != http.StatusCreated {
		t.Fatalf("create user: %d", st)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	form := url.Values{"grant_type": {"password"}, "username": {"erin"}, "password": {password}}
	if st := post(t, base+"/oauth/token", "application/x-www-form-urlencoded", form.Encode(), "", &tok); st != http.StatusOK {
		t.Fatalf("login: %d", st)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/v1/me/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sessions struct {
		Items []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sessions); err != nil || len(sessions.Items) != 1 || !sessions.Items[0].Current {
		t.Fatalf("sessions: %d %v %+v", resp.StatusCode, err, sessions)
	}

	v, err := verify.New(ctx, base, verify.Options{Audience: inst.Service.OwnAudience()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	c, err := v.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !c.EmailVerified || c.Email != "erin@example.com" || c.SessionID != sessions.Items[0].ID || c.SessionID == "" ||
		c.Username != "erin" || c.SubType != "user" || !slices.Equal(c.AMR, []string{"pwd"}) {
		t.Errorf("claims %+v, want email_verified, the e-mail, sid %q, username, sub_type user and amr [pwd]", c, sessions.Items[0].ID)
	}
	if c.Raw["email_verified"] != true || c.Raw["sid"] != c.SessionID {
		t.Errorf("raw claims %v", c.Raw)
	}
}
