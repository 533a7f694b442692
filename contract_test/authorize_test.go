package contract_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/conformance"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// The authorization code flow driven as a browser would (a cookie jar,
// the sign-in page's form posted), every exchange validated against the
// contract, with golang.org/x/oauth2 exchanging the code and go-oidc
// verifying the ID token.

// browser is an http.Client that keeps cookies, stops at a redirect to
// another host (the client's redirect URI, which is not served), and
// validates every exchange with the server against the contract.
type browser struct {
	*http.Client
	t testing.TB
}

// secureJar treats the server's http://127.0.0.1 as the secure context
// browsers make of it, so that its __Host- cookies are kept and sent.
type secureJar struct{ *cookiejar.Jar }

func (j secureJar) https(u *url.URL) *url.URL {
	v := *u
	v.Scheme = "https"
	return &v
}

func (j secureJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.Jar.SetCookies(j.https(u), cs) }
func (j secureJar) Cookies(u *url.URL) []*http.Cookie        { return j.Jar.Cookies(j.https(u)) }

// contractTransport validates each exchange with gatehouse (every host,
// or only host when set) against the contract.
type contractTransport struct {
	t    testing.TB
	host string
}

func (c contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if c.host != "" && req.URL.Host != c.host {
		return http.DefaultTransport.RoundTrip(req)
	}
	loadContract(c.t)
	d := &conformance.Doer{Contract: contract.c, ReportBodies: true, Report: func(p string) { c.t.Errorf("%s", p) },
		Next: &http.Client{Transport: http.DefaultTransport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return d.Do(req)
}

// newBrowser is a browser that follows redirects to server (validated
// against the contract) and to the other servers given (a relying party's,
// not validated), and stops at any other.
func newBrowser(t testing.TB, server string, others ...string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(server, "http://")
	followed := map[string]bool{host: true}
	for _, o := range others {
		followed[strings.TrimPrefix(o, "http://")] = true
	}
	return &browser{t: t, Client: &http.Client{
		Jar: secureJar{jar}, Transport: contractTransport{t, host},
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if !followed[req.URL.Host] {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

// page is a response of the browser, its body read.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(u string) page {
	b.t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	return readPage(b.t, resp)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	resp, err := b.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return readPage(b.t, resp)
}

func readPage(t testing.TB, resp *http.Response) page {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// form is the hidden fields of the page's form.
func (p page) form() url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// signIn posts the sign-in page p's form with login and password.
func (b *browser) signIn(server string, p page, login, password string) page {
	b.t.Helper()
	f := p.form()
	f.Set("login", login)
	f.Set("password", password)
	return b.post(server+"/oauth/authorize", f)
}

// location is the redirect's Location, parsed.
func (p page) location(t testing.TB) *url.URL {
	t.Helper()
	u, err := url.Parse(p.header.Get("Location"))
	if err != nil || p.header.Get("Location") == "" {
		t.Fatalf("no Location in a %d: %v\n%s", p.status, err, p.body)
	}
	return u
}

// codeClient is an application registered for the code flow, with a
// member who may sign in to it.
type codeClient struct {
	app      client.Application
	redirect string
}

func (s *server) newCodeClient(t testing.TB, admin, name string, user client.User) codeClient {
	t.Helper()
	redirect := "https://" + name + ".example/cb"
	app := s.createApplication(t, admin, client.ApplicationCreate{Name: name, RedirectUris: &[]string{redirect}, FirstParty: ptr(true)})
	s.addMember(t, admin, app.Id, user.Id)
	return codeClient{app: app, redirect: redirect}
}

func (c codeClient) config(provider *oidc.Provider, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.app.Id.String(), Endpoint: provider.Endpoint(), RedirectURL: c.redirect, Scopes: scopes}
}

// TestCodeFlowGoClients: golang.org/x/oauth2 with PKCE and go-oidc's
// verifier sign a user in through the hosted page: the redirect carries
// the code, state and iss (RFC 9207); the ID token verifies with the
// nonce, at_hash and auth_time; the code is good once, and its second
// use revokes the session the first started.
func TestCodeFlowGoClients(t *testing.T) {
	t.Parallel()
	s, issuer := newSelfIssuedServer(t)
	admin := s.adminToken(t)
	alice := s.createUser(t, admin, client.UserCreate{Username: "alice", Password: "alice-password", Email: ptr(client.Email("alice@example.com")), FirstName: ptr("Alice"), LastName: ptr("Liddell")})
	cc := s.newCodeClient(t, admin, "dashboard", alice)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: contractTransport{t: t}})
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := cc.config(provider, oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess)
	verifier := oauth2.GenerateVerifier()
	b := newBrowser(t, issuer)

	signin := b.get(cfg.AuthCodeURL("the-state", oauth2.S256ChallengeOption(verifier), oidc.Nonce("the-nonce")))
	if signin.status != 200 || !strings.Contains(signin.body, "Username or e-mail") {
		t.Fatalf("sign-in page: %d\n%s", signin.status, signin.body)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := signin.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if csp := signin.header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "form-action 'self' https://dashboard.example") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q does not let the form end at the client, or lets the page be framed", csp)
	}

	wrong := b.signIn(issuer, signin, "alice", "not-her-password")
	if wrong.status != 200 || !strings.Contains(wrong.body, "Invalid username or password.") {
		t.Errorf("a wrong password: %d\n%s", wrong.status, wrong.body)
	}
	done := b.signIn(issuer, wrong, "alice", "alice-password")
	if done.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", done.status, done.body)
	}
	back := done.location(t)
	q := back.Query()
	if back.Host != "dashboard.example" || q.Get("state") != "the-state" || q.Get("iss") != s.Svc.Issuer() || q.Get("code") == "" {
		t.Fatalf("redirect %s: want the client's URI with code, state and iss", back)
	}

	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: cc.app.Id.String()}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		Email, Name       string
		PreferredUsername string `json:"preferred_username"`
		AMR               []string
		SID               string
		AuthTime          int64 `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != "the-nonce" || idt.Subject != alice.Id.String() || claims.PreferredUsername != "alice" || claims.Name != "Alice Liddell" || claims.Email != "alice@example.com" ||
		len(claims.AMR) != 1 || claims.AMR[0] != "pwd" || claims.SID == "" || claims.AuthTime == 0 {
		t.Errorf("ID token: nonce %q sub %q claims %+v", idt.Nonce, idt.Subject, claims)
	}
	if tok.RefreshToken == "" {
		t.Error("offline_access gave no refresh token")
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	var infoClaims struct {
		PreferredUsername string `json:"preferred_username"`
		FamilyName        string `json:"family_name"`
	}
	if err != nil || info.Subject != alice.Id.String() || info.Email != "alice@example.com" || info.Claims(&infoClaims) != nil ||
		infoClaims.PreferredUsername != "alice" || infoClaims.FamilyName != "Liddell" {
		t.Errorf("userinfo: %+v %+v %v", info, infoClaims, err)
	}

	// A second use of the code is refused and ends the first's session.
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("the code used again: %v, want invalid_grant", err)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("the first exchange's refresh token after the code's reuse: %v, want invalid_grant", err)
	}
}

// isOAuthError reports whether err is an RFC 6749 error response with code.
func isOAuthError(err error, code string) bool {
	re, ok := err.(*oauth2.RetrieveError)
	return ok && re.ErrorCode == code
}

// TestCodeFlowFaults: an unknown client and an unregistered or lookalike
// redirect URI get the error page and no redirect; every other fault of
// the request is redirected with error, state and iss; a CSRF token that
// is missing or another request's is refused; a wrong code_verifier, a
// code of another client and a disabled user get no tokens.
func TestCodeFlowFaults(t *testing.T) {
	t.Parallel()
	s, issuer := newSelfIssuedServer(t)
	admin := s.adminToken(t)
	bob := s.createUser(t, admin, client.UserCreate{Username: "bob", Password: "bob-password"})
	cc := s.newCodeClient(t, admin, "tool", bob)
	other := s.newCodeClient(t, admin, "other", bob)
	verifier := oauth2.GenerateVerifier()
	authURL := func(change func(url.Values)) string {
		v := url.Values{"client_id": {cc.app.Id.String()}, "redirect_uri": {cc.redirect}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"st"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
		if change != nil {
			change(v)
		}
		return issuer + "/oauth/authorize?" + v.Encode()
	}
	b := newBrowser(t, issuer)

	for _, tc := range []struct {
		name   string
		change func(url.Values)
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "3f1c2b7e-0000-4000-8000-000000000000") }},
		{"no client", func(v url.Values) { v.Del("client_id") }},
		{"unregistered redirect URI", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }},
		{"lookalike redirect URI", func(v url.Values) { v.Set("redirect_uri", cc.redirect+"/") }},
		{"another client's redirect URI", func(v url.Values) { v.Set("redirect_uri", other.redirect) }},
	} {
		p := b.get(authURL(tc.change))
		if p.status != 400 || p.header.Get("Location") != "" || !strings.Contains(p.body, `role="alert"`) {
			t.Errorf("%s: %d Location %q, want the error page\n%s", tc.name, p.status, p.header.Get("Location"), p.body)
		}
	}

	for _, tc := range []struct {
		name, code string
		change     func(url.Values)
	}{
		{"no PKCE", "invalid_request", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }},
		{"PKCE plain", "invalid_request", func(v url.Values) { v.Set("code_challenge_method", "plain") }},
		{"implicit", "unsupported_response_type", func(v url.Values) { v.Set("response_type", "token") }},
		{"repeated scope", "invalid_request", func(v url.Values) { v.Add("scope", "profile") }},
		{"prompt=none without a session", "login_required", func(v url.Values) { v.Set("prompt", "none") }},
		{"request object", "request_not_supported", func(v url.Values) { v.Set("request", "eyJhbGciOiJub25lIn0.e30.") }},
	} {
		p := b.get(authURL(tc.change))
		if p.status != http.StatusFound {
			t.Errorf("%s: %d, want a redirect\n%s", tc.name, p.status, p.body)
			continue
		}
		u := p.location(t)
		q := u.Query()
		if u.Host != "tool.example" || q.Get("error") != tc.code || q.Get("error_description") == "" || q.Get("state") != "st" || q.Get("iss") != issuer {
			t.Errorf("%s: redirect %s, want error %s with state and iss", tc.name, u, tc.code)
		}
	}

	// form_post: the response is a form that posts to the client.
	fp := b.get(authURL(func(v url.Values) { v.Set("response_mode", "form_post"); v.Set("prompt", "none") }))
	if f := fp.form(); fp.status != 200 || f.Get("error") != "login_required" || f.Get("iss") != issuer || !strings.Contains(fp.body, `action="https://tool.example/cb"`) {
		t.Errorf("form_post: %d %v\n%s", fp.status, f, fp.body)
	}

	// CSRF: missing, or another request's, is the error page.
	signin := b.get(authURL(nil))
	noCSRF := signin.form()
	noCSRF.Del("csrf_token")
	noCSRF.Set("login", "bob")
	noCSRF.Set("password", "bob-password")
	if p := b.post(issuer+"/oauth/authorize", noCSRF); p.status != 400 || p.header.Get("Location") != "" {
		t.Errorf("no CSRF token: %d %s", p.status, p.header.Get("Location"))
	}
	another := b.get(authURL(func(v url.Values) { v.Set("state", "other-state") }))
	mixed := signin.form()
	mixed.Set("csrf_token", another.form().Get("csrf_token"))
	mixed.Set("login", "bob")
	mixed.Set("password", "bob-password")
	if p := b.post(issuer+"/oauth/authorize", mixed); p.status != 400 || p.header.Get("Location") != "" {
		t.Errorf("another request's CSRF token: %d %s", p.status, p.header.Get("Location"))
	}
	if p := newBrowser(t, issuer).signIn(issuer, signin, "bob", "bob-password"); p.status != 400 {
		t.Errorf("the form posted from a browser without the cookie: %d", p.status)
	}

	// The exchange: a wrong verifier, another client, then the right one
	// is too late: a failed exchange spends the code.
	code := func() string {
		t.Helper()
		p := b.signIn(issuer, b.get(authURL(nil)), "bob", "bob-password")
		return p.location(t).Query().Get("code")
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: contractTransport{t: t}})
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cc.config(provider, oidc.ScopeOpenID)
	c := code()
	if _, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
		t.Errorf("wrong code_verifier: %v, want invalid_grant", err)
	}
	if _, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("the right verifier after a failed exchange: %v, want invalid_grant", err)
	}
	if _, err := cfg.Exchange(ctx, code()); !isOAuthError(err, "invalid_request") && !isOAuthError(err, "invalid_grant") {
		t.Errorf("no code_verifier: %v", err)
	}
	if _, err := other.config(provider, oidc.ScopeOpenID).Exchange(ctx, code(), oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("another client's exchange: %v, want invalid_grant", err)
	}
	tok, err := cfg.Exchange(ctx, code(), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Error("a public client without offline_access got a refresh token")
	}

	// A disabled user cannot sign in, nor exchange a code made before.
	c = code()
	if r, err := s.Client.UpdateUserWithResponse(context.Background(), bob.Id, client.UserUpdate{Disabled: ptr(true)}, bearer(admin)); err != nil || r.JSON200 == nil {
		t.Fatalf("disable: %v", err)
	}
	if _, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("a disabled user's code: %v, want invalid_grant", err)
	}
	if p := b.signIn(issuer, b.get(authURL(nil)), "bob", "bob-password"); p.status != 200 || !strings.Contains(p.body, "Invalid username or password.") {
		t.Errorf("a disabled user's sign-in: %d", p.status)
	}
}

// TestAuthorizeMalformed: a request the contract refuses (a parameter
// over its length) gets the error page, not a JSON body.
func TestAuthorizeMalformed(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp, err := s.Client.AuthorizeWithResponse(invalid(context.Background()), &client.AuthorizeParams{State: ptr(strings.Repeat("s", 5000))})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode() != 400 || !strings.HasPrefix(resp.HTTPResponse.Header.Get("Content-Type"), "text/html") || resp.HTTPResponse.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%d %s\n%s", resp.StatusCode(), resp.HTTPResponse.Header, resp.Body)
	}
	big, err := s.Client.AuthorizeFormWithBodyWithResponse(invalid(context.Background()), "application/x-www-form-urlencoded",
		strings.NewReader("state="+strings.Repeat("s", 2<<20)))
	if err != nil {
		t.Fatal(err)
	}
	if big.StatusCode() != 413 || big.JSON413 == nil {
		t.Errorf("a form over 1 MiB: %d %s", big.StatusCode(), big.Body)
	}
}

// TestUserInfo: the userinfo endpoint answers a token with openid (GET
// and POST), and challenges one without (403 insufficient_scope), a bad
// one and none (401), as RFC 6750 says.
func TestUserInfo(t *testing.T) {
	t.Parallel()
	s, issuer := newSelfIssuedServer(t)
	admin := s.adminToken(t)
	carol := s.createUser(t, admin, client.UserCreate{Username: "carol", Password: "carol-password"})
	cc := s.newCodeClient(t, admin, "info", carol)
	verifier := oauth2.GenerateVerifier()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: contractTransport{t: t}})
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cc.config(provider, oidc.ScopeOpenID)
	b := newBrowser(t, issuer)
	back := b.signIn(issuer, b.get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))), "carol", "carol-password").location(t)
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	c := context.Background()
	if r, err := s.Client.PostUserInfoWithResponse(c, bearer(tok.AccessToken)); err != nil || r.JSON200 == nil ||
		r.JSON200.Sub != carol.Id || r.JSON200.PreferredUsername != nil {
		t.Errorf("POST with openid alone: %v %s", err, r.Body)
	}
	get := func(editors ...client.RequestEditorFn) (*http.Response, error) {
		return s.Client.GetUserInfo(c, editors...)
	}
	post := func(editors ...client.RequestEditorFn) (*http.Response, error) {
		return s.Client.PostUserInfo(c, editors...)
	}
	for method, call := range map[string]func(...client.RequestEditorFn) (*http.Response, error){"GET": get, "POST": post} {
		resp, err := call(bearer(admin))
		readBody(t, resp, err)
		if resp.StatusCode != 403 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope", scope="openid"`) {
			t.Errorf("%s with a token without openid: %d %s", method, resp.StatusCode, resp.Header)
		}
		for name, editors := range map[string][]client.RequestEditorFn{"no token": nil, "a bad token": {bearer(tok.AccessToken + "x")}} {
			resp, err := call(editors...)
			readBody(t, resp, err)
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s with %s: %d %s", method, name, resp.StatusCode, resp.Header)
			}
		}
	}
}

// TestCodeFlowSecondStep: a user with a TOTP factor is asked for a code
// after the password on the hosted page; a wrong one shows the page
// again, a TOTP code or a recovery code completes the sign-in, and the
// ID token's amr says which.
func TestCodeFlowSecondStep(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s, issuer := newSelfIssuedServer(t, withClock(clk))
	admin := s.adminToken(t)
	erin := s.createUser(t, admin, client.UserCreate{Username: "erin", Password: "erin-password"})
	secret, _, recovery := enrol(t, s, clk, s.login(t, "erin", "erin-password").AccessToken)
	cc := s.newCodeClient(t, admin, "second", erin)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: contractTransport{t: t}})
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cc.config(provider, oidc.ScopeOpenID)
	verifier := oauth2.GenerateVerifier()
	b := newBrowser(t, issuer)

	for _, tc := range []struct {
		name string
		code func() string
		amr  []string
	}{
		{"totp", func() string { clk.Advance(30 * time.Second); return totpCode(t, secret, clk.Now()) }, []string{"pwd", "otp"}},
		{"recovery code", func() string { return recovery[0] }, []string{"pwd", "mfa"}},
	} {
		step := b.signIn(issuer, b.get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))), "erin", "erin-password")
		if step.status != 200 || !strings.Contains(step.body, `<label for="code">Code</label>`) || step.form().Get("mfa_token") == "" {
			t.Fatalf("%s: the second step: %d\n%s", tc.name, step.status, step.body)
		}
		f := step.form()
		f.Set("code", "000000")
		again := b.post(issuer+"/oauth/authorize", f)
		if again.status != 200 || !strings.Contains(again.body, "Wrong or expired code.") {
			t.Errorf("%s: a wrong code: %d\n%s", tc.name, again.status, again.body)
		}
		f = again.form()
		f.Set("code", tc.code())
		done := b.post(issuer+"/oauth/authorize", f)
		if done.status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", tc.name, done.status, done.body)
		}
		tok, err := cfg.Exchange(ctx, done.location(t).Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("%s: exchange: %v", tc.name, err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: cc.app.Id.String(), Now: clk.Now}).Verify(ctx, raw)
		var claims struct{ AMR []string }
		if err != nil || idt.Claims(&claims) != nil || !slices.Equal(claims.AMR, tc.amr) {
			t.Errorf("%s: ID token %v, amr %v, want %v", tc.name, err, claims.AMR, tc.amr)
		}
	}
}
