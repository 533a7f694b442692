package contract_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/conformance"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

func tokenForm(grant client.TokenRequestGrantType) client.CreateTokenFormdataRequestBody {
	return client.CreateTokenFormdataRequestBody{GrantType: grant}
}

func refresh(t *testing.T, s *server, token string) *client.CreateTokenResponse {
	t.Helper()
	body := tokenForm(client.TokenRequestGrantTypeRefreshToken)
	body.RefreshToken = &token
	resp, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func oauthError(t *testing.T, status int, body []byte, got *client.OAuthError, wantStatus int, wantCode client.OAuthErrorError) {
	t.Helper()
	if err := conformance.WantOAuthError(status, body, got, wantStatus, wantCode); err != nil {
		t.Fatal(err)
	}
}

func TestPasswordGrant(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	u := s.createUser(t, admin, client.UserCreate{Username: "Ada Lovelace", Password: "analytical-engine", Email: ptr(client.Email("ada@example.com"))})

	for _, login := range []string{"Ada Lovelace", "ada lovelace", "ADA@example.com"} {
		tok := s.login(t, login, "analytical-engine")
		if tok.TokenType != client.Bearer || tok.ExpiresIn != 3600 || tok.RefreshToken == "" || tok.Scope != "profile api_keys" {
			t.Errorf("login %q: %+v", login, tok)
		}
		claims := verifyWithJWKS(t, s, tok.AccessToken)
		if claims["sub"] != u.Id.String() || claims["sub_type"] != "user" || claims["iss"] != "gatehouse" || claims["username"] != "Ada Lovelace" {
			t.Errorf("claims: %v", claims)
		}
	}

	// JSON is accepted beside the form encoding, and scope narrows.
	resp, err := s.Client.CreateTokenWithResponse(context.Background(), client.CreateTokenJSONRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr(adminPassword), Scope: ptr("users:read profile"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON200 == nil || resp.JSON200.Scope != "users:read profile" || resp.HTTPResponse.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("JSON password grant: %d %s", resp.StatusCode(), resp.Body)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	runChecks(t, s, "the token endpoint's errors (RFC 6749 §5.2)")
	raw := []struct {
		name, contentType, body string
		wantStatus              int
		wantCode                client.OAuthErrorError
	}{
		{"unsupported grant type", "application/x-www-form-urlencoded", "grant_type=urn:ietf:params:oauth:grant-type:device_code", 400, client.OAuthErrorErrorUnsupportedGrantType},
		{"no grant type", "application/x-www-form-urlencoded", "username=admin", 400, client.OAuthErrorErrorInvalidRequest},
		{"malformed JSON", "application/json", `{"grant_type": "password",`, 400, client.OAuthErrorErrorInvalidRequest},
		{"wrong JSON type", "application/json", `{"grant_type": "password", "username": ["admin"], "password": "x"}`, 400, client.OAuthErrorErrorInvalidRequest},
		{"grant type not a string", "application/json", `{"grant_type": ["password"]}`, 400, client.OAuthErrorErrorUnsupportedGrantType},
		{"wrong content type", "text/plain", "grant_type=password", 400, client.OAuthErrorErrorInvalidRequest},
		{"empty body", "application/x-www-form-urlencoded", "", 400, client.OAuthErrorErrorInvalidRequest},
		{"over 1 MiB", "application/x-www-form-urlencoded", "grant_type=password&username=" + strings.Repeat("a", 2<<20), 413, client.OAuthErrorErrorInvalidRequest},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.CreateTokenWithBodyWithResponse(invalid(ctx), tc.contentType, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			got := resp.JSON400
			if tc.wantStatus == 413 {
				got = resp.JSON413
			}
			oauthError(t, resp.StatusCode(), resp.Body, got, tc.wantStatus, tc.wantCode)
		})
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	runChecks(t, newServer(t), "a refresh rotates the refresh token; replaying a spent one revokes its family")
}

// noReuseInterval turns the refresh reuse interval off: every reuse of a
// spent refresh token revokes its family at once.
func noReuseInterval(c *authConfig) { c.RefreshReuseInterval = -1 }

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	t.Parallel()
	s := newServer(t, noReuseInterval)
	tok := s.login(t, "admin", adminPassword)
	const racers = 16
	results := refreshOnNodes(t, tok.RefreshToken, slices.Repeat([]*server{s}, racers)...)
	wins := 0
	var winner string
	for _, r := range results {
		switch {
		case r.JSON200 != nil:
			wins++
			winner = r.JSON200.RefreshToken
		case r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant:
			t.Errorf("loser: %d %s", r.StatusCode(), r.Body)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent refreshes won, want exactly 1", wins, racers)
	}
	// The losers were reuse: the family is revoked, the winner's token too.
	if r := refresh(t, s, winner); r.JSON400 == nil {
		t.Fatalf("winner's token after reuse: %d %s", r.StatusCode(), r.Body)
	}
}

// TestConcurrentRefreshWithinReuseInterval is two tabs (here sixteen)
// refreshing one token at once: with the default reuse interval every one
// gets the same successor and a fresh access token, and the family stays
// one chain.
func TestConcurrentRefreshWithinReuseInterval(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := s.login(t, "admin", adminPassword)
	const racers = 16
	results := refreshOnNodes(t, tok.RefreshToken, slices.Repeat([]*server{s}, racers)...)
	jtis := map[any]bool{}
	for i, r := range results {
		if r.JSON200 == nil {
			t.Fatalf("refresh %d: %d %s; want 200 within the reuse interval", i, r.StatusCode(), r.Body)
		}
		if r.JSON200.RefreshToken != results[0].JSON200.RefreshToken {
			t.Fatalf("refresh %d got another successor: the family forked", i)
		}
		jtis[mustClaims(t, r.JSON200.AccessToken)["jti"]] = true
	}
	if len(jtis) != racers {
		t.Errorf("%d distinct access tokens for %d refreshes, want one each", len(jtis), racers)
	}
	successor := results[0].JSON200.RefreshToken
	next := refresh(t, s, successor)
	if next.JSON200 == nil {
		t.Fatalf("the successor: %d %s", next.StatusCode(), next.Body)
	}
	// The first token is now two links back: reuse, whatever the interval.
	replay := refresh(t, s, tok.RefreshToken)
	oauthError(t, replay.StatusCode(), replay.Body, replay.JSON400, 400, client.OAuthErrorErrorInvalidGrant)
	after := refresh(t, s, next.JSON200.RefreshToken)
	oauthError(t, after.StatusCode(), after.Body, after.JSON400, 400, client.OAuthErrorErrorInvalidGrant)
}

// TestRefreshReuseInterval walks the interval's edges on a clock the test
// moves: a reuse inside it gets the same successor, one at its end
// revokes the family.
func TestRefreshReuseInterval(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	base := time.Now()
	s := newServer(t, func(c *authConfig) {
		c.Now = func() time.Time { return base.Add(time.Duration(skew.Load())) }
		c.RefreshReuseInterval = 10 * time.Second
	})

	first := s.login(t, "admin", adminPassword)
	second := refresh(t, s, first.RefreshToken)
	if second.JSON200 == nil {
		t.Fatalf("refresh: %d %s", second.StatusCode(), second.Body)
	}
	skew.Store(int64(9 * time.Second))
	again := refresh(t, s, first.RefreshToken)
	if again.JSON200 == nil || again.JSON200.RefreshToken != second.JSON200.RefreshToken {
		t.Fatalf("reuse 9 s after the first use: %d %s; want 200 with the same successor", again.StatusCode(), again.Body)
	}
	if again.JSON200.AccessToken == second.JSON200.AccessToken {
		t.Error("the reuse got the same access token; want a fresh one")
	}

	skew.Store(int64(10 * time.Second))
	late := refresh(t, s, first.RefreshToken)
	oauthError(t, late.StatusCode(), late.Body, late.JSON400, 400, client.OAuthErrorErrorInvalidGrant)
	// That was reuse: the family is revoked, the successor with it.
	dead := refresh(t, s, second.JSON200.RefreshToken)
	oauthError(t, dead.StatusCode(), dead.Body, dead.JSON400, 400, client.OAuthErrorErrorInvalidGrant)
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	runChecks(t, s, "revocation (RFC 7009): a revoked access token and refresh token are refused; unknown tokens answer 200")
	for _, tc := range []struct {
		contentType, body string
		want              int
	}{
		{"application/x-www-form-urlencoded", "token_type_hint=access_token", 400},
		{"application/json", "[]", 400},
		{"application/x-www-form-urlencoded", "token=" + strings.Repeat("x", 2<<20), 413},
	} {
		resp, err := s.Client.RevokeTokenWithBodyWithResponse(invalid(ctx), tc.contentType, strings.NewReader(tc.body))
		if err != nil || resp.StatusCode() != tc.want {
			t.Errorf("revoke %s: %v %d %s", tc.body[:min(len(tc.body), 30)], err, resp.StatusCode(), resp.Body)
		}
	}
}

func TestIntrospect(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	runChecks(t, s, "introspection (RFC 7662): a user's tokens are active, spent and unknown ones not; the caller needs tokens:introspect")
	admin := s.adminToken(t)
	bad, err := s.Client.IntrospectTokenWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(`{"token": 7}`), bearer(admin))
	if err != nil || bad.JSON400 == nil {
		t.Fatalf("bad body: %v %d %s", err, bad.StatusCode(), bad.Body)
	}
	big, err := s.Client.IntrospectTokenWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(`{"token": "`+strings.Repeat("x", 2<<20)+`"}`), bearer(admin))
	if err != nil || big.JSON413 == nil {
		t.Fatalf("big body: %v %d %s", err, big.StatusCode(), big.Body)
	}
}

// TestAccessTokenExpiry: a token is refused once its exp plus the clock
// leeway has passed, and introspection, which allows no leeway, calls it
// inactive from its exp.
func TestAccessTokenExpiry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newServer(t, func(c *authConfig) { c.Now = clock })
	tok := s.login(t, "admin", adminPassword)
	if r, _ := s.Client.GetMeWithResponse(context.Background(), bearer(tok.AccessToken)); r.JSON200 == nil {
		t.Fatalf("fresh token: %d", r.StatusCode())
	}
	// The introspecting caller uses an API key, which the clock does not
	// expire.
	key := createAPIKey(t, s, bearer(tok.AccessToken), "introspector", nil).Key
	introspect := func() bool {
		t.Helper()
		in, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(context.Background(),
			client.IntrospectTokenFormdataRequestBody{Token: tok.AccessToken}, apiKeyHeader(key))
		if err != nil || in.JSON200 == nil {
			t.Fatalf("introspect: %v %d %s", err, in.StatusCode(), in.Body)
		}
		return in.JSON200.Active
	}
	if !introspect() {
		t.Fatal("fresh token introspected inactive")
	}
	// 10 s past exp: inside the leeway, a credential still; not active.
	mu.Lock()
	now = now.Add(time.Hour + 10*time.Second)
	mu.Unlock()
	if r, _ := s.Client.GetMeWithResponse(context.Background(), bearer(tok.AccessToken)); r.JSON200 == nil {
		t.Fatalf("token 10 s past exp (leeway 30 s): %d", r.StatusCode())
	}
	if introspect() {
		t.Error("token 10 s past exp introspected active; introspection allows no leeway")
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	r, _ := s.Client.GetMeWithResponse(context.Background(), bearer(tok.AccessToken))
	if r.ApplicationproblemJSON401 == nil || !strings.Contains(r.HTTPResponse.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("expired token: %d %s", r.StatusCode(), r.Body)
	}
}
