package contract_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// An application that authenticates to /oauth/introspect as at the token
// endpoint but whose scopes lack tokens:introspect is refused as RFC 6749
// refuses a client (403 unauthorized_client), with no challenge: a Bearer
// challenge would tell it an access token it never sent was refused. A
// Bearer caller lacking the scope keeps RFC 6750's insufficient_scope
// challenge.
func TestIntrospectForbiddenByCaller(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	plain := s.newConfidentialApp(t, admin, "no-introspection", "orders:read")
	user := s.login(t, "admin", adminPassword)
	body := client.IntrospectTokenFormdataRequestBody{Token: user.AccessToken}

	for name, send := range map[string]func() (*client.IntrospectTokenResponse, error){
		"client_secret_basic": func() (*client.IntrospectTokenResponse, error) {
			return s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, body, basicAuth(plain.ID, plain.Secret))
		},
		"client_secret_post": func() (*client.IntrospectTokenResponse, error) {
			b := body
			b.ClientId, b.ClientSecret = &plain.ID, &plain.Secret
			return s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, b)
		},
	} {
		r, err := send()
		if err != nil {
			t.Fatal(err)
		}
		oauthError(t, r.StatusCode(), r.Body, r.JSON403, http.StatusForbidden, client.OAuthErrorErrorUnauthorizedClient)
		if h := r.HTTPResponse.Header.Get("WWW-Authenticate"); h != "" {
			t.Errorf("%s: WWW-Authenticate %q, want none", name, h)
		}
		if cc := r.HTTPResponse.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", name, cc)
		}
	}

	r, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, body, bearer(s.tokenWithScope(t, "profile")))
	if err != nil {
		t.Fatal(err)
	}
	oauthError(t, r.StatusCode(), r.Body, r.JSON403, http.StatusForbidden, client.OAuthErrorErrorInsufficientScope)
	if h, want := r.HTTPResponse.Header.Get("WWW-Authenticate"), `Bearer realm="gatehouse", error="insufficient_scope", scope="tokens:introspect"`; h != want {
		t.Errorf("Bearer caller: WWW-Authenticate %q, want %q", h, want)
	}
}
