package contract_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// TestZitadelRelyingParty: zitadel/oidc's pkg/client/rp, an OpenID
// Certified relying party, with PKCE and its own state and verifier
// cookies, signs a user in through the hosted page as a browser would
// (login handler, gatehouse's sign-in form, its callback handler), and
// verifies the ID token (signature, iss, aud, exp, iat, at_hash).
func TestZitadelRelyingParty(t *testing.T) {
	t.Parallel()
	s, issuer := newSelfIssuedServer(t)
	admin := s.adminToken(t)
	dana := s.createUser(t, admin, client.UserCreate{Username: "dana", Password: "dana-password", Email: ptr(client.Email("dana@example.com"))})

	var handler atomic.Pointer[http.ServeMux]
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.Load().ServeHTTP(w, r) }))
	t.Cleanup(app.Close)
	redirect := app.URL + "/callback"
	registered := s.createApplication(t, admin, client.ApplicationCreate{Name: "zitadel-rp", RedirectUris: &[]string{redirect}, FirstParty: ptr(true)})
	s.addMember(t, admin, registered.Id, dana.Id)

	key := make([]byte, 32)
	rand.Read(key)
	party, err := rp.NewRelyingPartyOIDC(context.Background(), issuer, registered.Id.String(), "", redirect,
		[]string{zoidc.ScopeOpenID, zoidc.ScopeProfile, zoidc.ScopeEmail},
		rp.WithPKCE(httphelper.NewCookieHandler(key, key, httphelper.WithUnsecure())),
		rp.WithHTTPClient(&http.Client{Transport: contractTransport{t: t}}))
	if err != nil {
		t.Fatalf("relying party: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login", rp.AuthURLHandler(func() string { return "zitadel-state" }, party))
	mux.Handle("/callback", rp.CodeExchangeHandler(func(w http.ResponseWriter, r *http.Request, tokens *zoidc.Tokens[*zoidc.IDTokenClaims], state string, _ rp.RelyingParty) {
		json.NewEncoder(w).Encode(map[string]any{"state": state, "sub": tokens.IDTokenClaims.Subject, "email": tokens.IDTokenClaims.Email,
			"username": tokens.IDTokenClaims.PreferredUsername, "aud": tokens.IDTokenClaims.Audience, "amr": tokens.IDTokenClaims.AuthenticationMethodsReferences,
			"access": tokens.AccessToken != ""})
	}, party))
	handler.Store(mux)

	b := newBrowser(t, issuer, app.URL)
	signin := b.get(app.URL + "/login")
	if signin.status != 200 || !strings.Contains(signin.body, "Username or e-mail") {
		t.Fatalf("the RP's login did not reach the sign-in page: %d\n%s", signin.status, signin.body)
	}
	done := b.signIn(issuer, signin, "dana", "dana-password")
	if done.status != 200 {
		t.Fatalf("the RP's callback: %d\n%s", done.status, done.body)
	}
	var got struct {
		State, Sub, Email, Username string
		Aud, AMR                    []string
		Access                      bool
	}
	if err := json.Unmarshal([]byte(done.body), &got); err != nil {
		t.Fatalf("%v: %s", err, done.body)
	}
	if got.State != "zitadel-state" || got.Sub != dana.Id.String() || got.Email != "dana@example.com" || got.Username != "dana" ||
		len(got.Aud) != 1 || got.Aud[0] != registered.Id.String() || len(got.AMR) != 1 || got.AMR[0] != "pwd" || !got.Access {
		t.Errorf("the RP signed in %+v", got)
	}
}
