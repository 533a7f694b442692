package contract_test

// Interoperability with clients nobody here wrote: golang.org/x/oauth2 and
// github.com/coreos/go-oidc/v3. Their requests do not pass through the
// harness's validating doer; what is checked is that they work unchanged.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// exchange is one request an interop client sent and what it got back.
type exchange struct {
	basicUser  string // the Basic credentials' user, if any
	hasBasic   bool
	formClient string // the client_id form field, if any
	status     int
}

// recorder is an http.RoundTripper that records what a library sends.
type recorder struct {
	mu  sync.Mutex
	log []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var e exchange
	e.basicUser, _, e.hasBasic = req.BasicAuth()
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			var buf [4096]byte
			n, _ := b.Read(buf[:])
			b.Close()
			if v, err := url.ParseQuery(string(buf[:n])); err == nil {
				e.formClient = v.Get("client_id")
			}
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if resp != nil {
		e.status = resp.StatusCode
	}
	r.mu.Lock()
	r.log = append(r.log, e)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) take() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

// oauth2Flow logs the admin in with x/oauth2's password grant, then forces
// a refresh through its TokenSource. It returns both tokens and what was
// sent on the wire for each step.
func oauth2Flow(t *testing.T, conf *oauth2.Config) (first, second *oauth2.Token, login, refresh []exchange) {
	t.Helper()
	rec := &recorder{}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: rec})

	first, err := conf.PasswordCredentialsToken(ctx, "admin", adminPassword)
	if err != nil {
		t.Fatalf("PasswordCredentialsToken: %v (exchanges %+v)", err, rec.take())
	}
	login = rec.take()
	if first.AccessToken == "" || first.RefreshToken == "" || first.TokenType != "Bearer" || first.Expiry.IsZero() {
		t.Fatalf("password grant token: %+v", first)
	}
	if !first.Valid() {
		t.Fatalf("fresh token not valid: %+v", first)
	}

	// A copy that x/oauth2 believes expired makes the TokenSource refresh.
	expired := *first
	expired.Expiry = time.Now().Add(-time.Minute)
	second, err = conf.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatalf("TokenSource refresh: %v (exchanges %+v)", err, rec.take())
	}
	refresh = rec.take()
	if second.AccessToken == "" || second.AccessToken == first.AccessToken {
		t.Errorf("refresh did not issue a new access token")
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Errorf("refresh did not rotate the refresh token")
	}
	if !second.Valid() {
		t.Errorf("refreshed token not valid: %+v", second)
	}

	// The rotated-out refresh token, presented again within the reuse
	// interval (a second tab), gets the same successor.
	again, err := conf.TokenSource(ctx, &expired).Token()
	if err != nil || again.RefreshToken != second.RefreshToken {
		t.Errorf("the spent refresh token again, within the reuse interval: %v; want the same successor", err)
	}
	rec.take()
	// Once its successor is spent too, it is reuse: refused, and x/oauth2
	// surfaces the RFC 6749 error.
	stale := *second
	stale.Expiry = time.Now().Add(-time.Minute)
	if _, err := conf.TokenSource(ctx, &stale).Token(); err != nil {
		t.Fatalf("TokenSource refresh of the successor: %v", err)
	}
	_, err = conf.TokenSource(ctx, &expired).Token()
	var re *oauth2.RetrieveError
	if err == nil {
		t.Errorf("the spent refresh token was accepted again")
	} else if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("reusing a spent refresh token: %v, want an invalid_grant RetrieveError", err)
	}
	rec.take()
	return first, second, login, refresh
}

func TestOAuth2Library(t *testing.T) {
	t.Parallel()
	s := newServer(t)

	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"InParams", oauth2.AuthStyleInParams},
		// AutoDetect first sends HTTP Basic client credentials (here with
		// an empty client id, "Authorization: Basic Og=="); on any error it
		// retries with the credentials in the form.
		{"AutoDetect", oauth2.AuthStyleAutoDetect},
		{"InHeader", oauth2.AuthStyleInHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := &oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: s.URL + "/oauth/token", AuthStyle: tc.style}}
			first, second, login, refresh := oauth2Flow(t, conf)
			// One request per step: the server must accept the first form
			// x/oauth2 tries, not make AutoDetect fall back (a fallback
			// would double every login and refresh).
			if len(login) != 1 || len(refresh) != 1 {
				t.Errorf("requests sent: login %+v, refresh %+v; want one each", login, refresh)
			}
			for _, tok := range []*oauth2.Token{first, second} {
				claims := verifyWithJWKS(t, s, tok.AccessToken)
				if claims["username"] != "admin" {
					t.Errorf("claims: %v", claims)
				}
			}
			// A token works as a bearer through the library's client; the
			// refreshed one no longer does: the reuse at the end of the
			// flow revoked its family, which ended its session.
			fresh, err := conf.PasswordCredentialsToken(context.Background(), "admin", adminPassword)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				tok  *oauth2.Token
				want int
			}{{"a fresh token", fresh, http.StatusOK}, {"the refreshed token of the ended session", second, http.StatusUnauthorized}} {
				resp, err := conf.Client(context.Background(), c.tok).Get(s.URL + "/v1/me")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Errorf("GET /v1/me with %s: %d, want %d", c.name, resp.StatusCode, c.want)
				}
			}
		})
	}
}

// TestOAuth2LibraryClientIDInBasic checks that a client_id sent the
// RFC 6749 §2.3.1 way, as the HTTP Basic user (what x/oauth2's default
// AuthStyleAutoDetect sends first, and all AuthStyleInHeader sends),
// selects the application just as the client_id form field does.
//
// Known gap: the server reads client_id from the form only and ignores the
// Basic header, so such a login silently gets a token for the default
// application. Until CreateToken (impl/oauth.go) also takes client_id from
// the Basic user, the header cases skip with that message instead of
// failing; once it does, they assert.
func TestOAuth2LibraryClientIDInBasic(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	app := createApp(t, s, admin, "interop")

	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"InParams", oauth2.AuthStyleInParams},
		{"InHeader", oauth2.AuthStyleInHeader},
		{"AutoDetect", oauth2.AuthStyleAutoDetect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := &oauth2.Config{ClientID: app.Id.String(), Endpoint: oauth2.Endpoint{TokenURL: s.URL + "/oauth/token", AuthStyle: tc.style}}
			first, second, login, refresh := oauth2Flow(t, conf)
			if len(login) != 1 || len(refresh) != 1 {
				t.Errorf("requests sent: login %+v, refresh %+v; want one each", login, refresh)
			}
			for _, tok := range []*oauth2.Token{first, second} {
				claims := verifyWithJWKS(t, s, tok.AccessToken)
				aud, _ := claims.GetAudience()
				if len(aud) != 1 || aud[0] != app.Audience {
					t.Errorf("sent %+v: aud %v, want the client_id's application %s", login, aud, app.Audience)
				}
			}
		})
	}
}

// defaultApp is the default application.
func defaultApp(t *testing.T, s *server, admin string) client.Application {
	t.Helper()
	apps, err := s.Client.ListApplicationsWithResponse(context.Background(), nil, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	if apps.JSON200 == nil {
		t.Fatalf("list applications: %d %s", apps.StatusCode(), apps.Body)
	}
	for _, a := range apps.JSON200.Items {
		if a.IsDefault {
			return a
		}
	}
	t.Fatalf("no default application in %s", apps.Body)
	return client.Application{}
}

// createApp makes an application with the admin as a member.
func createApp(t *testing.T, s *server, admin, name string) client.Application {
	t.Helper()
	ctx := context.Background()
	resp, err := s.Client.CreateApplicationWithResponse(ctx, client.ApplicationCreate{Name: name}, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON201 == nil {
		t.Fatalf("create application: %d %s", resp.StatusCode(), resp.Body)
	}
	app := *resp.JSON201
	me := getMe(t, s, admin)
	m, err := s.Client.AddApplicationMemberWithResponse(ctx, app.Id, me.Id, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	if m.StatusCode()/100 != 2 {
		t.Fatalf("add member: %d %s", m.StatusCode(), m.Body)
	}
	return app
}

func getMe(t *testing.T, s *server, token string) client.User {
	t.Helper()
	resp, err := s.Client.GetMeWithResponse(context.Background(), bearer(token))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON200 == nil {
		t.Fatalf("GET /v1/me: %d %s", resp.StatusCode(), resp.Body)
	}
	return *resp.JSON200
}

// newSelfIssuedServer starts gatehouse with its own URL as the issuer, as
// OIDC discovery requires (go-oidc insists that the discovery document's
// issuer be the URL it was fetched from). httptest only knows a server's
// URL once it has started, after the harness has built the service, so a
// front server is started first, its URL becomes the issuer, and it
// forwards everything to the harness's server. The proxy keeps the Host
// header, so the discovery document's endpoints name the front server too.
func newSelfIssuedServer(t *testing.T, opts ...option) (s *server, issuer string) {
	t.Helper()
	var backend atomic.Pointer[httputil.ReverseProxy]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		backend.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	s = newServer(t, append(opts, func(c *authConfig) { c.Issuer = front.URL })...)
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	backend.Store(httputil.NewSingleHostReverseProxy(u))
	return s, front.URL
}

func TestOIDCLibrary(t *testing.T) {
	t.Parallel()
	s, issuer := newSelfIssuedServer(t)
	ctx := context.Background()

	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("oidc discovery from %s: %v", issuer, err)
	}
	if got := provider.Endpoint().TokenURL; got != issuer+"/oauth/token" {
		t.Errorf("discovered token endpoint %q, want %q", got, issuer+"/oauth/token")
	}
	var extra struct {
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&extra); err != nil {
		t.Fatal(err)
	}
	if extra.JWKSURI != issuer+"/.well-known/jwks.json" || len(extra.Algs) == 0 {
		t.Errorf("discovery: jwks_uri %q, algs %v", extra.JWKSURI, extra.Algs)
	}

	// The x/oauth2 config comes from discovery, as a relying party's would.
	conf := &oauth2.Config{Endpoint: provider.Endpoint()}
	tok, err := conf.PasswordCredentialsToken(ctx, "admin", adminPassword)
	if err != nil {
		t.Fatalf("password grant at the discovered endpoint: %v", err)
	}
	me := getMe(t, s, tok.AccessToken)

	// The default application's audience is the aud to expect.
	audience := defaultApp(t, s, tok.AccessToken).Audience

	verifier := provider.Verifier(&oidc.Config{ClientID: audience, SupportedSigningAlgs: []string{oidc.ES256, oidc.RS256, oidc.EdDSA}})
	verify := func(what, token string) {
		t.Helper()
		idt, err := verifier.Verify(ctx, token)
		if err != nil {
			t.Fatalf("go-oidc rejects %s: %v", what, err)
		}
		if idt.Subject != me.Id.String() || idt.Issuer != issuer {
			t.Errorf("%s: sub %q iss %q, want %s and %s", what, idt.Subject, idt.Issuer, me.Id, issuer)
		}
	}
	verify("the password-grant token", tok.AccessToken)

	// A verifier for another audience must refuse it.
	other := provider.Verifier(&oidc.Config{ClientID: "someone-else", SupportedSigningAlgs: []string{oidc.ES256, oidc.RS256, oidc.EdDSA}})
	if _, err := other.Verify(ctx, tok.AccessToken); err == nil {
		t.Errorf("a verifier for another audience accepted the token")
	}

	// After a staged rotation the old key goes on signing: nothing for
	// go-oidc to refetch.
	staged := s.rotate(t, tok.AccessToken, nil)
	stagedTok, err := conf.PasswordCredentialsToken(ctx, "admin", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, stagedTok.AccessToken) != kidOf(t, tok.AccessToken) || kidOf(t, tok.AccessToken) == staged.Kid {
		t.Fatalf("kids after a staged rotation: old %s, new %s, staged %s", kidOf(t, tok.AccessToken), kidOf(t, stagedTok.AccessToken), staged.Kid)
	}
	verify("a token signed right after a staged rotation", stagedTok.AccessToken)

	// After an immediate rotation, go-oidc's remote key set (which caches
	// the JWKS) must verify both the old token (the retired key stays
	// published) and a new one (an unknown kid makes it refetch).
	rot := s.rotate(t, tok.AccessToken, &client.RotateSigningKeyParams{Immediate: ptr(true)})
	newTok, err := conf.PasswordCredentialsToken(ctx, "admin", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, newTok.AccessToken) != rot.Kid || kidOf(t, tok.AccessToken) == rot.Kid {
		t.Fatalf("kids: old %s, new %s, rotated to %s", kidOf(t, tok.AccessToken), kidOf(t, newTok.AccessToken), rot.Kid)
	}
	verify("a token signed with the new key", newTok.AccessToken)
	verify("a token signed with the retired key", tok.AccessToken)

	// A relying party that starts after the rotation sees both keys too.
	fresh, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier = fresh.Verifier(&oidc.Config{ClientID: audience, SupportedSigningAlgs: []string{oidc.ES256, oidc.RS256, oidc.EdDSA}})
	verify("the retired key's token, freshly discovered", tok.AccessToken)
	verify("the new key's token, freshly discovered", newTok.AccessToken)
}

// kidOf reads a JWT's kid without verifying it.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	var h struct {
		Kid string `json:"kid"`
	}
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil {
		t.Fatalf("JWT header of %q: %v", token, err)
	}
	return h.Kid
}
