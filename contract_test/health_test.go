package contract_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

func TestDiscoveryMetadata(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	runChecks(t, s, "GET /.well-known/oauth-authorization-server matches openid-configuration")
	ctx := context.Background()
	docs := map[string]func() (*client.ServerMetadata, []byte, error){
		"openid-configuration": func() (*client.ServerMetadata, []byte, error) {
			r, err := s.Client.GetOpenIDConfigurationWithResponse(ctx)
			if err != nil {
				return nil, nil, err
			}
			return r.JSON200, r.Body, nil
		},
		"oauth-authorization-server": func() (*client.ServerMetadata, []byte, error) {
			r, err := s.Client.GetAuthorizationServerMetadataWithResponse(ctx)
			if err != nil {
				return nil, nil, err
			}
			return r.JSON200, r.Body, nil
		},
	}
	want := client.ServerMetadata{
		Issuer:                        s.Svc.Issuer(),
		TokenEndpoint:                 s.URL + "/oauth/token",
		RevocationEndpoint:            ptr(s.URL + "/oauth/revoke"),
		IntrospectionEndpoint:         ptr(s.URL + "/oauth/introspect"),
		JwksUri:                       s.URL + "/.well-known/jwks.json",
		AuthorizationEndpoint:         ptr(s.URL + "/oauth/authorize"),
		UserinfoEndpoint:              ptr(s.URL + "/oauth/userinfo"),
		GrantTypesSupported:           []string{"authorization_code", "password", "refresh_token", "client_credentials", "http://auth0.com/oauth/grant-type/mfa-otp", "http://auth0.com/oauth/grant-type/mfa-recovery-code"},
		ResponseTypesSupported:        ptr([]string{"code"}),
		ResponseModesSupported:        ptr([]string{"query", "form_post"}),
		CodeChallengeMethodsSupported: ptr([]string{"S256"}),
		PromptValuesSupported:         ptr([]string{"none", "login", "consent"}),
		AuthorizationResponseIssParameterSupported: ptr(true),
		ClaimsSupported: ptr([]string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid", "at_hash",
			"preferred_username", "name", "given_name", "family_name", "email", "email_verified"}),
		SubjectTypesSupported:                              ptr([]string{"public"}),
		ScopesSupported:                                    ptr(append([]string{"openid", "email", "offline_access"}, contractScopes(t)...)),
		TokenEndpointAuthMethodsSupported:                  ptr([]string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"}),
		RevocationEndpointAuthMethodsSupported:             ptr([]string{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"}),
		IntrospectionEndpointAuthMethodsSupported:          ptr([]string{"bearer", "client_secret_basic", "client_secret_post", "private_key_jwt"}),
		IdTokenSigningAlgValuesSupported:                   ptr([]string{"ES256", "RS256"}),
		TokenEndpointAuthSigningAlgValuesSupported:         ptr([]string{"ES256", "RS256", "EdDSA"}),
		RevocationEndpointAuthSigningAlgValuesSupported:    ptr([]string{"ES256", "RS256", "EdDSA"}),
		IntrospectionEndpointAuthSigningAlgValuesSupported: ptr([]string{"ES256", "RS256", "EdDSA"}),
	}
	for name, get := range docs {
		t.Run(name, func(t *testing.T) {
			md, body, err := get()
			if err != nil || md == nil {
				t.Fatalf("%v %s", err, body)
			}
			if diff := cmp.Diff(want, *md); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			if md.Issuer != "gatehouse" {
				t.Errorf("issuer %q", md.Issuer)
			}
		})
	}
	// The issuer is the tokens' iss, and the endpoints it names answer.
	tok := s.login(t, "admin", adminPassword)
	if claims := verifyWithJWKS(t, s, tok.AccessToken); claims["iss"] != want.Issuer {
		t.Errorf("token iss %v, metadata issuer %s", claims["iss"], want.Issuer)
	}
	resp, err := http.Get(want.JwksUri)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("jwks_uri %s: %d %s", want.JwksUri, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestJWKS: the JWKS's keys are well-formed signing keys (the
// conformance check), and every token the server signs verifies against
// it.
func TestJWKS(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	runChecks(t, s, "GET /.well-known/jwks.json lists signing keys with max-age")
	verifyWithJWKS(t, s, s.adminToken(t))
}

// TestOpenAPISpec: the served contract is YAML (the conformance check),
// byte for byte ../openapi.yaml.
func TestOpenAPISpec(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	runChecks(t, s, "GET /openapi.yaml serves the contract")
	want, err := os.ReadFile(filepath.Join("..", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.GetOpenAPISpecWithResponse(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Body, want) {
		t.Errorf("served contract (%d bytes) differs from ../openapi.yaml (%d bytes)", len(resp.Body), len(want))
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	runChecks(t, newServer(t), "GET /healthz answers 200", "GET /readyz answers 200")
}

func TestReadinessWithoutDatabase(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	ready, err := s.Client.GetReadinessWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ready.JSON503 == nil {
		t.Fatalf("readiness without a database: %d %s", ready.StatusCode(), ready.Body)
	}
	want := client.Health{Status: client.Unavailable, Checks: &map[string]string{"database": "unavailable"}}
	if diff := cmp.Diff(want, *ready.JSON503); diff != "" {
		t.Errorf("readiness (-want +got):\n%s", diff)
	}
	// The process is alive all the same.
	if health, err := s.Client.GetHealthWithResponse(ctx); err != nil || health.JSON200 == nil || health.JSON200.Status != client.Ok {
		t.Errorf("health without a database: %v", err)
	}
}
