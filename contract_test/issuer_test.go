package contract_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// TestDefaultIssuer: gatehouse serve with no --issuer issues tokens whose
// iss is the URL it serves, http:// and --addr, and names it as the issuer
// of both discovery documents, so that OIDC clients (openid-client,
// oauth4webapi, go-oidc), which parse the issuer as a URL and compare it
// with the one they discovered from, work out of the box; --public-url,
// when set, is the default instead. A non-URL --issuer stops the start.
func TestDefaultIssuer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	check := func(t *testing.T, p *process, want string) {
		t.Helper()
		if p.Issuer != want {
			t.Errorf("the start's log names the issuer %q, want %q", p.Issuer, want)
		}
		oidc, err := p.Client.GetOpenIDConfigurationWithResponse(ctx)
		if err != nil || oidc.JSON200 == nil {
			t.Fatalf("openid-configuration: %v", err)
		}
		as, err := p.Client.GetAuthorizationServerMetadataWithResponse(ctx)
		if err != nil || as.JSON200 == nil {
			t.Fatalf("oauth-authorization-server: %v", err)
		}
		for doc, iss := range map[string]string{"openid-configuration": oidc.JSON200.Issuer, "oauth-authorization-server": as.JSON200.Issuer} {
			if iss != want {
				t.Errorf("%s: issuer %q, want %q", doc, iss, want)
			}
			if u, err := url.Parse(iss); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
				t.Errorf("%s: issuer %q is not an http(s) URL", doc, iss)
			}
		}
		tok, err := p.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr(adminPassword),
		})
		if err != nil || tok.JSON200 == nil {
			t.Fatalf("login: %v", err)
		}
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(tok.JSON200.AccessToken, claims); err != nil {
			t.Fatal(err)
		}
		if claims["iss"] != want {
			t.Errorf("token iss %v, want %q", claims["iss"], want)
		}
	}
	t.Run("from --addr", func(t *testing.T) {
		t.Parallel()
		p := startGatehouse(t)
		if !strings.HasPrefix(p.URL, "http://127.0.0.1:") {
			t.Fatalf("listens on %q", p.URL)
		}
		check(t, p, p.URL)
		// Discovery works from the issuer itself: its well-known URL is
		// where the metadata is, and the endpoints it names answer.
		md, err := p.Client.GetOpenIDConfigurationWithResponse(ctx)
		if err != nil || md.JSON200 == nil || md.JSON200.TokenEndpoint != p.URL+"/oauth/token" || md.JSON200.JwksUri != p.URL+"/.well-known/jwks.json" {
			t.Errorf("metadata %s", md.Body)
		}
	})
	t.Run("from --public-url", func(t *testing.T) {
		t.Parallel()
		check(t, startGatehouse(t, "--public-url", "https://auth.example.com/"), "https://auth.example.com")
	})
	t.Run("an explicit --issuer", func(t *testing.T) {
		t.Parallel()
		check(t, startGatehouse(t, "--issuer", "https://id.example.com/tenant"), "https://id.example.com/tenant")
	})
	t.Run("not a URL", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			env  []string
			args []string
			want string
		}{
			{"flag", nil, []string{"serve", "--addr", "127.0.0.1:0", "--issuer", "gatehouse"}, `--issuer: "gatehouse" is not an http or https URL`},
			{"environment", []string{"GATEHOUSE_ISSUER=urn:gatehouse"}, []string{"serve", "--addr", "127.0.0.1:0"}, `--issuer: "urn:gatehouse" is not an http or https URL`},
			{"query", nil, []string{"serve", "--addr", "127.0.0.1:0", "--issuer", "https://auth.example.com/?tenant=1"}, `has a query or a fragment`},
			{"public URL", nil, []string{"serve", "--addr", "127.0.0.1:0", "--public-url", "auth.example.com"}, `--public-url (the default issuer): "auth.example.com" is not an http or https URL`},
		} {
			if out := gatehouseFails(t, tc.env, tc.args...); !strings.Contains(out, tc.want) {
				t.Errorf("%s: printed %q, want it to say %q", tc.name, out, tc.want)
			}
		}
	})
}
