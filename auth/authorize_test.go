package auth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
)

// TestValidateAuthRequest: an unknown client and a redirect URI the
// client did not register exactly are error pages, never redirects; every
// later fault is a redirect with its error code, in zitadel/oidc's order.
func TestValidateAuthRequest(t *testing.T) {
	ctx := context.Background()
	svc := newTestService(t, openTestStore(t), Config{Issuer: "https://id.example.com"})
	one, err := svc.CreateApplication(ctx, ApplicationChange{Name: new("one"), FirstParty: new(true), RedirectURIs: &[]string{"https://one.example.com/cb?tenant=a"}}, "", Origin{})
	if err != nil {
		t.Fatal(err)
	}
	two, err := svc.CreateApplication(ctx, ApplicationChange{Name: new("two"), FirstParty: new(true),
		RedirectURIs: &[]string{"https://two.example.com/cb", "http://127.0.0.1:9000/cb"}}, "", Origin{})
	if err != nil {
		t.Fatal(err)
	}
	none, err := svc.CreateApplication(ctx, ApplicationChange{Name: new("none")}, "", Origin{})
	if err != nil {
		t.Fatal(err)
	}
	third, err := svc.CreateApplication(ctx, ApplicationChange{Name: new("third"), RedirectURIs: &[]string{"https://two.example.com/cb"}}, "", Origin{})
	if err != nil {
		t.Fatal(err)
	}
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	good := func(change func(*AuthParams)) AuthParams {
		p := AuthParams{ClientID: two.ID, RedirectURI: "https://two.example.com/cb", ResponseType: "code",
			Scope: "openid profile openid", State: "st", Nonce: "n", CodeChallenge: challenge, CodeChallengeMethod: "S256"}
		if change != nil {
			change(&p)
		}
		return p
	}

	r, err := svc.ValidateAuthRequest(ctx, good(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := AuthRequest{App: two, RedirectURI: "https://two.example.com/cb", Scopes: []string{"openid", "profile"},
		State: "st", Nonce: "n", CodeChallenge: challenge, MaxAge: -1}
	if diff := cmp.Diff(want, r, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("validated (-want +got):\n%s", diff)
	}
	if r, err := svc.ValidateAuthRequest(ctx, good(func(p *AuthParams) { p.ClientID, p.RedirectURI = one.ID, "" })); err != nil || r.RedirectURI != one.RedirectURIs[0] {
		t.Errorf("the one registered URI by default: %q, %v", r.RedirectURI, err)
	}

	pages := []struct {
		name   string
		change func(*AuthParams)
	}{
		{"no client", func(p *AuthParams) { p.ClientID = "" }},
		{"unknown client", func(p *AuthParams) { p.ClientID = uuid.NewString() }},
		{"client not a uuid", func(p *AuthParams) { p.ClientID = "grafana" }},
		{"unregistered redirect URI", func(p *AuthParams) { p.RedirectURI = "https://evil.example.com/cb" }},
		{"lookalike: trailing slash", func(p *AuthParams) { p.RedirectURI = "https://two.example.com/cb/" }},
		{"lookalike: case", func(p *AuthParams) { p.RedirectURI = "https://TWO.example.com/cb" }},
		{"lookalike: added query", func(p *AuthParams) { p.RedirectURI = "https://two.example.com/cb?x=1" }},
		{"lookalike: other port", func(p *AuthParams) { p.RedirectURI = "http://127.0.0.1:9001/cb" }},
		{"lookalike: subdomain", func(p *AuthParams) { p.RedirectURI = "https://two.example.com.evil.example/cb" }},
		{"another client's URI", func(p *AuthParams) { p.RedirectURI = "https://one.example.com/cb?tenant=a" }},
		{"none named of several", func(p *AuthParams) { p.RedirectURI = "" }},
		{"none registered", func(p *AuthParams) { p.ClientID, p.RedirectURI = none.ID, "" }},
		{"unregistered, and a bad response type", func(p *AuthParams) { p.RedirectURI, p.ResponseType = "https://evil.example/", "token" }},
	}
	for _, tc := range pages {
		_, err := svc.ValidateAuthRequest(ctx, good(tc.change))
		var page *AuthPageError
		if !errors.As(err, &page) {
			t.Errorf("%s: %v, want an error page", tc.name, err)
		}
	}

	redirects := []struct {
		name, code string
		change     func(*AuthParams)
	}{
		{"repeated parameter", AuthInvalidRequest, func(p *AuthParams) { p.Repeated = "scope" }},
		{"request object", AuthRequestNotSupported, func(p *AuthParams) { p.Request = "eyJ..." }},
		{"request_uri", AuthRequestURINotSupported, func(p *AuthParams) { p.RequestURI = "https://two.example.com/req" }},
		{"no response type", AuthInvalidRequest, func(p *AuthParams) { p.ResponseType = "" }},
		{"implicit", AuthUnsupportedResponseType, func(p *AuthParams) { p.ResponseType = "token" }},
		{"hybrid", AuthUnsupportedResponseType, func(p *AuthParams) { p.ResponseType = "code id_token" }},
		{"bad response mode", AuthInvalidRequest, func(p *AuthParams) { p.ResponseMode = "fragment" }},
		{"bad scope", AuthInvalidScope, func(p *AuthParams) { p.Scope = "openid Profile" }},
		{"no PKCE", AuthInvalidRequest, func(p *AuthParams) { p.CodeChallenge, p.CodeChallengeMethod = "", "" }},
		{"PKCE without method (plain)", AuthInvalidRequest, func(p *AuthParams) { p.CodeChallengeMethod = "" }},
		{"PKCE plain", AuthInvalidRequest, func(p *AuthParams) { p.CodeChallengeMethod = "plain" }},
		{"PKCE too short", AuthInvalidRequest, func(p *AuthParams) { p.CodeChallenge = challenge[:42] }},
		{"PKCE not base64url", AuthInvalidRequest, func(p *AuthParams) { p.CodeChallenge = strings.Repeat("+", 43) }},
		{"unknown prompt", AuthInvalidRequest, func(p *AuthParams) { p.Prompt = "select_account" }},
		{"prompt none with login", AuthInvalidRequest, func(p *AuthParams) { p.Prompt = "none login" }},
		{"negative max_age", AuthInvalidRequest, func(p *AuthParams) { p.MaxAge = "-1" }},
		{"max_age not a number", AuthInvalidRequest, func(p *AuthParams) { p.MaxAge = "1h" }},
		{"third party (no consent page yet)", AuthConsentRequired, func(p *AuthParams) { p.ClientID = third.ID }},
	}
	for _, tc := range redirects {
		_, err := svc.ValidateAuthRequest(ctx, good(tc.change))
		var redirect *AuthRedirectError
		if !errors.As(err, &redirect) || redirect.Code != tc.code || redirect.Request.RedirectURI != "https://two.example.com/cb" {
			t.Errorf("%s: %v, want a redirect with %s", tc.name, err, tc.code)
		}
	}

	// A redirect keeps the registered query and adds state and iss.
	r, err = svc.ValidateAuthRequest(ctx, good(func(p *AuthParams) { p.ClientID, p.RedirectURI = one.ID, "" }))
	if err != nil {
		t.Fatal(err)
	}
	got, err := url.Parse(svc.AuthRedirect(r, url.Values{"error": {AuthAccessDenied}}))
	if err != nil {
		t.Fatal(err)
	}
	wantQuery := url.Values{"tenant": {"a"}, "error": {"access_denied"}, "state": {"st"}, "iss": {"https://id.example.com"}}
	if got.Host != "one.example.com" || got.Path != "/cb" || cmp.Diff(wantQuery, got.Query()) != "" {
		t.Errorf("redirect %s, want one.example.com/cb with %v", got, wantQuery)
	}
}
