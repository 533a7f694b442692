package contract_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// TestInvalidClient: a token request whose client_id names no application
// answers 401 invalid_client on every grant (RFC 6749 §5.2), saying what
// is wrong. Only a client that used HTTP Basic is challenged, and with
// Basic: a Bearer challenge from the token endpoint makes OAuth client
// libraries (openid-client, oauth4webapi) raise a challenge error that
// hides the body.
func TestInvalidClient(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	refreshToken := s.login(t, "admin", adminPassword).RefreshToken
	const unknown = "7d2b7a43-2ad4-4d4f-8f0e-6b4f5b7f1c11"
	basic := func(id string) client.RequestEditorFn {
		return func(_ context.Context, r *http.Request) error {
			r.SetBasicAuth(id, "any-secret")
			return nil
		}
	}
	noEdit := func(context.Context, *http.Request) error { return nil }
	password := func(clientID string) client.CreateTokenFormdataRequestBody {
		b := tokenForm(client.TokenRequestGrantTypePassword)
		b.Username, b.Password = ptr("admin"), ptr(adminPassword)
		if clientID != "" {
			b.ClientId = &clientID
		}
		return b
	}
	refreshGrant := func(clientID string) client.CreateTokenFormdataRequestBody {
		b := tokenForm(client.TokenRequestGrantTypeRefreshToken)
		b.RefreshToken = &refreshToken
		if clientID != "" {
			b.ClientId = &clientID
		}
		return b
	}
	cases := []struct {
		name          string
		body          client.CreateTokenFormdataRequestBody
		edit          client.RequestEditorFn
		wantChallenge string
	}{
		{"password grant, client_id in the body", password(unknown), noEdit, ""},
		{"password grant, client_id not an id", password("my-app"), noEdit, ""},
		{"password grant, HTTP Basic", password(""), basic(unknown), `Basic realm="gatehouse"`},
		{"refresh grant, client_id in the body", refreshGrant(unknown), noEdit, ""},
		{"refresh grant, HTTP Basic", refreshGrant(""), basic(unknown), `Basic realm="gatehouse"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, tc.body, tc.edit)
			if err != nil {
				t.Fatal(err)
			}
			oauthError(t, resp.StatusCode(), resp.Body, resp.JSON401, http.StatusUnauthorized, client.OAuthErrorErrorInvalidClient)
			if d := resp.JSON401.ErrorDescription; d == nil || !strings.Contains(*d, "unknown client_id") {
				t.Errorf("body %s: the error_description does not say the client_id is unknown", resp.Body)
			}
			if got := resp.HTTPResponse.Header.Values("WWW-Authenticate"); tc.wantChallenge == "" && len(got) > 0 ||
				tc.wantChallenge != "" && (len(got) != 1 || got[0] != tc.wantChallenge) {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.wantChallenge)
			}
			if cc := resp.HTTPResponse.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
	// The refresh token was not spent by the refused requests.
	if r := refresh(t, s, refreshToken); r.JSON200 == nil {
		t.Errorf("refresh after the refused requests: %d %s", r.StatusCode(), r.Body)
	}
}
