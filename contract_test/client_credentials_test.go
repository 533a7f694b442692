package contract_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// confidentialApp is an application with scopes and a secret, made through
// the API.
type confidentialApp struct {
	ID, Secret, SecretID, Audience string
}

// newConfidentialApp creates an application with the scopes and a secret.
func (s *server) newConfidentialApp(t testing.TB, admin, name string, scopes ...string) confidentialApp {
	t.Helper()
	ctx := context.Background()
	aud := "api://" + name
	app, err := s.Client.CreateApplicationWithResponse(ctx, client.ApplicationCreate{Name: name, Audience: &aud, Scopes: &scopes}, bearer(admin))
	if err != nil || app.JSON201 == nil {
		t.Fatalf("create application: %v %s", err, app.Body)
	}
	if !slices.Equal(app.JSON201.Scopes, scopes) {
		t.Fatalf("created with scopes %v, want %v", app.JSON201.Scopes, scopes)
	}
	sec, err := s.Client.CreateApplicationSecretWithResponse(ctx, app.JSON201.Id, client.ApplicationSecretCreate{}, bearer(admin))
	if err != nil || sec.JSON201 == nil {
		t.Fatalf("create secret: %v %s", err, sec.Body)
	}
	if sec.HTTPResponse.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the secret's response is cacheable: %v", sec.HTTPResponse.Header)
	}
	return confidentialApp{ID: app.JSON201.Id.String(), Secret: sec.JSON201.Secret, SecretID: sec.JSON201.Id.String(), Audience: aud}
}

func basicAuth(id, secret string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.SetBasicAuth(id, secret)
		return nil
	}
}

// clientToken runs the client_credentials grant with Basic and fails the
// test unless it succeeds.
func (s *server) clientToken(t testing.TB, app confidentialApp, scope string) client.TokenResponse {
	t.Helper()
	body := client.CreateTokenFormdataRequestBody{GrantType: client.TokenRequestGrantTypeClientCredentials}
	if scope != "" {
		body.Scope = &scope
	}
	resp, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body, basicAuth(app.ID, app.Secret))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("client_credentials: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	return *resp.JSON200
}

// TestClientCredentialsSecrets: the grant with client_secret_basic and
// client_secret_post issues a client token (sub the application, sub_type
// client, aud the application's audience, scope as asked or all, no
// refresh token); wrong, unknown, expired and deleted secrets are 401
// invalid_client, challenged with Basic only when Basic was used; a scope
// outside the application's is 400 invalid_scope.
func TestClientCredentialsSecrets(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	app := s.newConfidentialApp(t, admin, "orders", "orders:read", "orders:write")

	tok := s.clientToken(t, app, "")
	if tok.RefreshToken != "" || tok.Scope != "orders:read orders:write" || tok.TokenType != client.Bearer {
		t.Errorf("token response %+v: want every scope and no refresh token", tok)
	}
	c, err := s.Svc.VerifyAccessToken(ctx, tok.AccessToken, app.Audience)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != app.ID || c.SubType != "client" || c.Username != "" {
		t.Errorf("claims %+v: want sub %s, sub_type client", c, app.ID)
	}
	// A client token is for the application's resource server, never
	// gatehouse's own API.
	if r, err := s.Client.ListUsersWithResponse(ctx, nil, bearer(tok.AccessToken)); err != nil || r.StatusCode() != 401 {
		t.Errorf("a client token on /v1/users: %v %d", err, r.StatusCode())
	}

	post, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypeClientCredentials, ClientId: &app.ID, ClientSecret: &app.Secret, Scope: ptr("orders:read"),
	})
	if err != nil || post.JSON200 == nil || post.JSON200.Scope != "orders:read" {
		t.Fatalf("client_secret_post: %v %s", err, post.Body)
	}
	if strings.Contains(string(post.Body), "refresh_token") {
		t.Errorf("a refresh token for client_credentials: %s", post.Body)
	}

	scope, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypeClientCredentials, Scope: ptr("orders:read users:write"),
	}, basicAuth(app.ID, app.Secret))
	if err != nil {
		t.Fatal(err)
	}
	oauthError(t, scope.StatusCode(), scope.Body, scope.JSON400, 400, client.OAuthErrorErrorInvalidScope)

	// An expired secret, and one deleted.
	expired, err := s.Client.CreateApplicationSecretWithResponse(ctx, uuid.MustParse(app.ID), client.ApplicationSecretCreate{ExpiresAt: ptr(time.Now().Add(-time.Minute))}, bearer(admin))
	if err != nil || expired.JSON201 == nil {
		t.Fatalf("create expired secret: %v %s", err, expired.Body)
	}
	second, err := s.Client.CreateApplicationSecretWithResponse(ctx, uuid.MustParse(app.ID), client.ApplicationSecretCreate{ExpiresAt: ptr(time.Now().Add(time.Hour))}, bearer(admin))
	if err != nil || second.JSON201 == nil {
		t.Fatalf("create second secret: %v %s", err, second.Body)
	}
	list, err := s.Client.ListApplicationSecretsWithResponse(ctx, uuid.MustParse(app.ID), bearer(admin))
	if err != nil || list.JSON200 == nil || len(list.JSON200.Items) != 3 || strings.Contains(string(list.Body), app.Secret) || strings.Contains(string(list.Body), `"secret"`) {
		t.Fatalf("list secrets: %v %s", err, list.Body)
	}
	// Two live secrets both work (rotation).
	s.clientToken(t, confidentialApp{ID: app.ID, Secret: second.JSON201.Secret}, "")
	if r, err := s.Client.DeleteApplicationSecretWithResponse(ctx, uuid.MustParse(app.ID), second.JSON201.Id.String(), bearer(admin)); err != nil || r.StatusCode() != 204 {
		t.Fatalf("delete secret: %v %d %s", err, r.StatusCode(), r.Body)
	}
	if r, err := s.Client.DeleteApplicationSecretWithResponse(ctx, uuid.MustParse(app.ID), second.JSON201.Id.String(), bearer(admin)); err != nil || r.StatusCode() != 404 {
		t.Errorf("delete a deleted secret: %v %d %s", err, r.StatusCode(), r.Body)
	}
	if r, err := s.Client.ListApplicationSecretsWithResponse(ctx, uuid.New(), bearer(admin)); err != nil || r.StatusCode() != 404 {
		t.Errorf("secrets of an unknown application: %v %d", err, r.StatusCode())
	}
	if r, err := s.Client.CreateApplicationSecretWithResponse(ctx, uuid.New(), client.ApplicationSecretCreate{}, bearer(admin)); err != nil || r.StatusCode() != 404 {
		t.Errorf("a secret for an unknown application: %v %d", err, r.StatusCode())
	}

	cases := []struct {
		name, id, secret string
		basic            bool
	}{
		{"wrong secret, Basic", app.ID, "not-the-secret", true},
		{"wrong secret, post", app.ID, "not-the-secret", false},
		{"unknown client, Basic", uuid.NewString(), app.Secret, true},
		{"client id not a uuid, post", "orders", app.Secret, false},
		{"expired secret", app.ID, expired.JSON201.Secret, true},
		{"deleted secret", app.ID, second.JSON201.Secret, true},
		{"empty secret, Basic", app.ID, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := client.CreateTokenFormdataRequestBody{GrantType: client.TokenRequestGrantTypeClientCredentials}
			eds := []client.RequestEditorFn{}
			if tc.basic {
				eds = append(eds, basicAuth(tc.id, tc.secret))
			} else {
				body.ClientId, body.ClientSecret = &tc.id, &tc.secret
			}
			r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, body, eds...)
			if err != nil {
				t.Fatal(err)
			}
			oauthError(t, r.StatusCode(), r.Body, r.JSON401, 401, client.OAuthErrorErrorInvalidClient)
			want := ""
			if tc.basic {
				want = `Basic realm="gatehouse"`
			}
			if got := r.HTTPResponse.Header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
		})
	}
	// No client authentication at all.
	r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{GrantType: client.TokenRequestGrantTypeClientCredentials})
	if err != nil {
		t.Fatal(err)
	}
	oauthError(t, r.StatusCode(), r.Body, r.JSON401, 401, client.OAuthErrorErrorInvalidClient)
	// Two methods at once.
	r, err = s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypeClientCredentials, ClientSecret: &app.Secret,
	}, basicAuth(app.ID, app.Secret))
	if err != nil {
		t.Fatal(err)
	}
	oauthError(t, r.StatusCode(), r.Body, r.JSON400, 400, client.OAuthErrorErrorInvalidRequest)
}

// TestApplicationScopes: scopes are empty when created, set by POST and
// PATCH, and must be scope names.
func TestApplicationScopes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	app, err := s.Client.CreateApplicationWithResponse(ctx, client.ApplicationCreate{Name: "plain"}, bearer(admin))
	if err != nil || app.JSON201 == nil || app.JSON201.Scopes == nil || len(app.JSON201.Scopes) != 0 {
		t.Fatalf("create: %v %s", err, app.Body)
	}
	up, err := s.Client.UpdateApplicationWithResponse(ctx, app.JSON201.Id, client.ApplicationUpdate{Scopes: &[]string{"a:b", "c.d", "a:b"}}, bearer(admin))
	if err != nil || up.JSON200 == nil || !slices.Equal(up.JSON200.Scopes, []string{"a:b", "c.d"}) {
		t.Fatalf("update: %v %s", err, up.Body)
	}
	bad, err := s.Client.UpdateApplicationWithResponse(invalid(ctx), app.JSON201.Id, client.ApplicationUpdate{Scopes: &[]string{"Not A Scope"}}, bearer(admin))
	if err != nil || bad.StatusCode() != 400 {
		t.Errorf("a bad scope: %v %d %s", err, bad.StatusCode(), bad.Body)
	}
}

// jwkOf is the public JWK of an Ed25519 key.
func jwkOf(kid string, pub ed25519.PublicKey) client.ClientJWK {
	return client.ClientJWK{Kty: "OKP", Kid: kid, Crv: ptr("Ed25519"), X: ptr(base64.RawURLEncoding.EncodeToString(pub))}
}

func assertion(t testing.TB, key ed25519.PrivateKey, kid, iss, aud, jti string, exp time.Duration) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.RegisteredClaims{
		Issuer: iss, Subject: iss, Audience: jwt.ClaimStrings{aud}, ID: jti,
		IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(exp)),
	})
	tok.Header["kid"] = kid
	signed, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// assertionGrant runs the client_credentials grant with the client
// assertion a (private_key_jwt) and the client_id id, when not nil.
func (s *server) assertionGrant(t testing.TB, a string, id *string) *client.CreateTokenResponse {
	t.Helper()
	r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypeClientCredentials, ClientId: id,
		ClientAssertionType: ptr(client.UrnIetfParamsOauthClientAssertionTypeJwtBearer), ClientAssertion: &a,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestClientCredentialsPrivateKeyJWT: PUT/GET the JWK Set; an assertion
// signed by one of its keys, for the token endpoint or the issuer, gets a
// token once; a replay, a far exp, another audience, an unknown key or a
// client_id that is not the iss is 401 invalid_client.
func TestClientCredentialsPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	app := s.newConfidentialApp(t, admin, "reports", "reports:read")
	appID := uuid.MustParse(app.ID)
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	_ = otherPub

	empty, err := s.Client.GetApplicationJWKSWithResponse(ctx, appID, bearer(admin))
	if err != nil || empty.JSON200 == nil || len(empty.JSON200.Keys) != 0 {
		t.Fatalf("get empty jwks: %v %s", err, empty.Body)
	}
	put, err := s.Client.PutApplicationJWKSWithResponse(ctx, appID, client.ClientJWKSet{Keys: []client.ClientJWK{jwkOf("k1", pub)}}, bearer(admin))
	if err != nil || put.JSON200 == nil || len(put.JSON200.Keys) != 1 || deref(put.JSON200.Keys[0].Alg) != client.EdDSA {
		t.Fatalf("put jwks: %v %s", err, put.Body)
	}
	got, err := s.Client.GetApplicationJWKSWithResponse(ctx, appID, bearer(admin))
	if err != nil || got.JSON200 == nil || len(got.JSON200.Keys) != 1 || got.JSON200.Keys[0].Kid != "k1" {
		t.Fatalf("get jwks: %v %s", err, got.Body)
	}
	for name, keys := range map[string][]client.ClientJWK{
		"duplicate kid": {jwkOf("k1", pub), jwkOf("k1", pub)},
		"short x":       {{Kty: "OKP", Kid: "k", Crv: ptr("Ed25519"), X: ptr("AAAA")}},
		"wrong alg":     {{Kty: "OKP", Kid: "k", Crv: ptr("Ed25519"), X: jwkOf("k", pub).X, Alg: ptr(client.ES256)}},
		"EC off curve":  {{Kty: "EC", Kid: "k", Crv: ptr("P-256"), X: ptr(strings.Repeat("A", 43)), Y: ptr(strings.Repeat("A", 43))}},
	} {
		r, err := s.Client.PutApplicationJWKSWithResponse(ctx, appID, client.ClientJWKSet{Keys: keys}, bearer(admin))
		if err != nil || r.StatusCode() != 400 {
			t.Errorf("%s: %v %d %s", name, err, r.StatusCode(), r.Body)
		}
	}
	if r, err := s.Client.PutApplicationJWKSWithResponse(ctx, uuid.New(), client.ClientJWKSet{Keys: []client.ClientJWK{}}, bearer(admin)); err != nil || r.StatusCode() != 404 {
		t.Errorf("jwks of an unknown application: %v %d", err, r.StatusCode())
	}
	if r, err := s.Client.GetApplicationJWKSWithResponse(ctx, uuid.New(), bearer(admin)); err != nil || r.StatusCode() != 404 {
		t.Errorf("jwks of an unknown application: %v %d", err, r.StatusCode())
	}

	grant := func(a string, id *string) *client.CreateTokenResponse { return s.assertionGrant(t, a, id) }
	tokenURL := s.URL + "/oauth/token"
	first := assertion(t, key, "k1", app.ID, tokenURL, "jti-1", time.Minute)
	if r := grant(first, nil); r.JSON200 == nil || r.JSON200.Scope != "reports:read" {
		t.Fatalf("private_key_jwt: %d %s", r.StatusCode(), r.Body)
	}
	if r := grant(assertion(t, key, "", app.ID, s.Svc.Issuer(), "jti-2", time.Minute), &app.ID); r.JSON200 == nil {
		t.Fatalf("private_key_jwt for the issuer, no kid: %d %s", r.StatusCode(), r.Body)
	}
	for name, a := range map[string]string{
		"replayed":           first,
		"exp too far":        assertion(t, key, "k1", app.ID, tokenURL, "jti-3", 10*time.Minute),
		"expired":            assertion(t, key, "k1", app.ID, tokenURL, "jti-4", -5*time.Minute),
		"other audience":     assertion(t, key, "k1", app.ID, "https://elsewhere.example/token", "jti-5", time.Minute),
		"unknown key":        assertion(t, otherKey, "k1", app.ID, tokenURL, "jti-6", time.Minute),
		"no jti":             assertion(t, key, "k1", app.ID, tokenURL, "", time.Minute),
		"unknown client":     assertion(t, key, "k1", uuid.NewString(), tokenURL, "jti-7", time.Minute),
		"not a jwt":          "garbage",
		"other client's iss": assertion(t, key, "k1", app.ID, tokenURL, "jti-8", time.Minute),
	} {
		t.Run(name, func(t *testing.T) {
			var id *string
			if name == "other client's iss" {
				id = ptr(uuid.NewString())
			}
			r := grant(a, id)
			oauthError(t, r.StatusCode(), r.Body, r.JSON401, 401, client.OAuthErrorErrorInvalidClient)
			if h := r.HTTPResponse.Header.Get("WWW-Authenticate"); h != "" {
				t.Errorf("challenged without Basic: %q", h)
			}
		})
	}
}

// TestClientIntrospectionAndRevocation: an application whose scopes hold
// tokens:introspect introspects with client authentication (Basic, post,
// private_key_jwt); one without gets 403; wrong credentials 401. Revocation
// takes client authentication too and refuses a wrong one.
func TestClientIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	rs := s.newConfidentialApp(t, admin, "resource", "tokens:introspect")
	plain := s.newConfidentialApp(t, admin, "plain", "orders:read")
	user := s.login(t, "admin", adminPassword)

	in, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: user.AccessToken}, basicAuth(rs.ID, rs.Secret))
	if err != nil || in.JSON200 == nil || !in.JSON200.Active || deref(in.JSON200.Username) != "admin" {
		t.Fatalf("introspect with Basic: %v %s", err, in.Body)
	}
	in, err = s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: user.AccessToken, ClientId: &rs.ID, ClientSecret: &rs.Secret})
	if err != nil || in.JSON200 == nil || !in.JSON200.Active {
		t.Fatalf("introspect with client_secret_post: %v %s", err, in.Body)
	}
	ct := s.clientToken(t, plain, "")
	in, err = s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: ct.AccessToken}, basicAuth(rs.ID, rs.Secret))
	if err != nil || in.JSON200 == nil || !in.JSON200.Active || deref(in.JSON200.SubType) != "client" || deref(in.JSON200.Sub) != plain.ID {
		t.Fatalf("introspect a client token: %v %s", err, in.Body)
	}
	// private_key_jwt at the introspection endpoint.
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	if r, err := s.Client.PutApplicationJWKSWithResponse(ctx, uuid.MustParse(rs.ID), client.ClientJWKSet{Keys: []client.ClientJWK{jwkOf("k", pub)}}, bearer(admin)); err != nil || r.StatusCode() != 200 {
		t.Fatalf("put jwks: %v %s", err, r.Body)
	}
	a := assertion(t, key, "k", rs.ID, s.Svc.Issuer(), "intro-1", time.Minute)
	in, err = s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{
		Token: user.AccessToken, ClientAssertionType: ptr(client.UrnIetfParamsOauthClientAssertionTypeJwtBearer), ClientAssertion: &a,
	})
	if err != nil || in.JSON200 == nil || !in.JSON200.Active {
		t.Fatalf("introspect with private_key_jwt: %v %s", err, in.Body)
	}

	forbidden, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: user.AccessToken}, basicAuth(plain.ID, plain.Secret))
	if err != nil || forbidden.StatusCode() != 403 {
		t.Errorf("introspect without tokens:introspect: %v %d %s", err, forbidden.StatusCode(), forbidden.Body)
	}
	for name, ed := range map[string]client.RequestEditorFn{
		"wrong secret":   basicAuth(rs.ID, "wrong"),
		"unknown client": basicAuth(uuid.NewString(), rs.Secret),
	} {
		r, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: user.AccessToken}, ed)
		if err != nil || r.StatusCode() != 401 || r.JSON401 == nil || r.JSON401.Error != client.OAuthErrorErrorInvalidClient {
			t.Errorf("%s: %v %d %s", name, err, r.StatusCode(), r.Body)
		}
		if h := r.HTTPResponse.Header.Get("WWW-Authenticate"); h != `Basic realm="gatehouse"` {
			t.Errorf("%s: WWW-Authenticate %q", name, h)
		}
	}
	r, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: user.AccessToken, ClientId: &rs.ID, ClientSecret: ptr("wrong")})
	if err != nil || r.StatusCode() != 401 || r.HTTPResponse.Header.Get("WWW-Authenticate") == `Basic realm="gatehouse"` {
		t.Errorf("wrong client_secret_post: %v %d %v", err, r.StatusCode(), r.HTTPResponse.Header)
	}

	// Revocation: a wrong secret is refused, a right one revokes.
	rv, err := s.Client.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: ct.AccessToken}, basicAuth(plain.ID, "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	oauthError(t, rv.StatusCode(), rv.Body, rv.JSON401, 401, client.OAuthErrorErrorInvalidClient)
	rv, err = s.Client.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: ct.AccessToken, ClientId: &plain.ID, ClientSecret: &plain.Secret})
	if err != nil || rv.StatusCode() != 200 {
		t.Fatalf("revoke with client_secret_post: %v %d %s", err, rv.StatusCode(), rv.Body)
	}
	in, err = s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: ct.AccessToken}, basicAuth(rs.ID, rs.Secret))
	if err != nil || in.JSON200 == nil || in.JSON200.Active {
		t.Errorf("a revoked client token is active: %v %s", err, in.Body)
	}
}

// TestClientCredentialsDiscovery: both documents list the grant, the
// three methods and the assertion algorithms.
func TestClientCredentialsDiscovery(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	oidc, err := s.Client.GetOpenIDConfigurationWithResponse(ctx)
	if err != nil || oidc.JSON200 == nil {
		t.Fatal(err)
	}
	as, err := s.Client.GetAuthorizationServerMetadataWithResponse(ctx)
	if err != nil || as.JSON200 == nil {
		t.Fatal(err)
	}
	for _, m := range []*client.ServerMetadata{oidc.JSON200, as.JSON200} {
		methods := []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
		if !hasAll(m.GrantTypesSupported, "client_credentials") ||
			!hasAll(deref(m.TokenEndpointAuthMethodsSupported), methods...) ||
			!hasAll(deref(m.IntrospectionEndpointAuthMethodsSupported), methods...) ||
			!hasAll(deref(m.RevocationEndpointAuthMethodsSupported), methods...) ||
			!hasAll(deref(m.TokenEndpointAuthSigningAlgValuesSupported), "ES256", "RS256", "EdDSA") {
			t.Errorf("metadata %+v", m)
		}
	}
}

// TestClientCredentialsGoOAuth2: golang.org/x/oauth2/clientcredentials
// works unchanged, with the secret in the header and in the body.
func TestClientCredentialsGoOAuth2(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	app := s.newConfidentialApp(t, admin, "go-client", "orders:read", "orders:write")
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams, oauth2.AuthStyleAutoDetect} {
		cfg := clientcredentials.Config{
			ClientID: app.ID, ClientSecret: app.Secret, TokenURL: s.URL + "/oauth/token",
			Scopes: []string{"orders:read"}, AuthStyle: style,
		}
		tok, err := cfg.Token(context.Background())
		if err != nil {
			t.Fatalf("auth style %d: %v", style, err)
		}
		if tok.RefreshToken != "" || tok.Extra("scope") != "orders:read" || tok.Expiry.IsZero() {
			t.Errorf("auth style %d: token %+v", style, tok)
		}
		if _, err := s.Svc.VerifyAccessToken(context.Background(), tok.AccessToken, app.Audience); err != nil {
			t.Errorf("auth style %d: %v", style, err)
		}
	}
	bad := clientcredentials.Config{ClientID: app.ID, ClientSecret: "wrong", TokenURL: s.URL + "/oauth/token"}
	_, err := bad.Token(context.Background())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
		t.Errorf("a wrong secret: %v", err)
	}
}

// TestApplicationSecretsBadRequests: a path id that is not a UUID is 400
// on every secrets and JWKS route.
func TestApplicationSecretsBadRequests(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := invalid(context.Background())
	admin := bearer(s.adminToken(t))
	id := uuid.New()
	bad := replacePath(id.String(), "not-a-uuid")
	calls := map[string]func() (int, []byte, error){
		"listApplicationSecrets": func() (int, []byte, error) {
			r, err := s.Client.ListApplicationSecretsWithResponse(ctx, id, admin, bad)
			return r.StatusCode(), r.Body, err
		},
		"createApplicationSecret": func() (int, []byte, error) {
			r, err := s.Client.CreateApplicationSecretWithResponse(ctx, id, client.ApplicationSecretCreate{}, admin, bad)
			return r.StatusCode(), r.Body, err
		},
		"deleteApplicationSecret": func() (int, []byte, error) {
			r, err := s.Client.DeleteApplicationSecretWithResponse(ctx, id, uuid.NewString(), admin, bad)
			return r.StatusCode(), r.Body, err
		},
		"getApplicationJWKS": func() (int, []byte, error) {
			r, err := s.Client.GetApplicationJWKSWithResponse(ctx, id, admin, bad)
			return r.StatusCode(), r.Body, err
		},
	}
	for name, call := range calls {
		status, body, err := call()
		if err != nil || status != 400 {
			t.Errorf("%s with a bad id: %v %d %s", name, err, status, body)
		}
	}
}
