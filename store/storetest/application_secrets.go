package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/store"
)

// testApplicationClients covers what a confidential application keeps:
// scopes, secrets, its JWK Set and the jtis of the assertions it used.
func testApplicationClients(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	seed(t, s)
	ctx := t.Context()

	app, err := s.GetApplication(ctx, "app-other")
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Scopes) != 0 {
		t.Errorf("new application scopes = %v, want none", app.Scopes)
	}
	app.Scopes = []string{"orders:read", "tokens:introspect"}
	if err := s.UpdateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetApplication(ctx, "app-other"); !cmp.Equal(got.Scopes, app.Scopes) {
		t.Errorf("scopes after update = %v, want %v", got.Scopes, app.Scopes)
	}

	secrets := []store.ApplicationSecret{
		{ID: "sec-1", AppID: "app-other", Hash: "h1", CreatedAt: at(10)},
		{ID: "sec-2", AppID: "app-other", Hash: "h2", CreatedAt: at(11), ExpiresAt: ptr(at(100))},
	}
	for _, sec := range secrets {
		if err := s.CreateApplicationSecret(ctx, sec); err != nil {
			t.Fatalf("CreateApplicationSecret(%s): %v", sec.ID, err)
		}
	}
	// Client credentials make an application confidential, and it stays
	// so while it holds them, whatever an update says.
	if got, _ := s.GetApplication(ctx, "app-other"); got.ClientType != store.ClientConfidential {
		t.Errorf("client type after a secret = %q, want confidential", got.ClientType)
	}
	app.ClientType = store.ClientPublic
	if err := s.UpdateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetApplication(ctx, "app-other"); !got.Confidential() {
		t.Errorf("an application holding a secret updated to %q", got.ClientType)
	}
	wantErr(t, "secret of an unknown application", s.CreateApplicationSecret(ctx, store.ApplicationSecret{ID: "sec-3", AppID: "nope", Hash: "h3", CreatedAt: at(12)}), store.ErrNotFound)
	wantErr(t, "duplicate secret hash", s.CreateApplicationSecret(ctx, store.ApplicationSecret{ID: "sec-4", AppID: "app-other", Hash: "h1", CreatedAt: at(12)}), store.ErrConflict)
	got, err := s.ListApplicationSecrets(ctx, "app-other")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(secrets, got); diff != "" {
		t.Errorf("ListApplicationSecrets (-want +got):\n%s", diff)
	}
	if got, err := s.ListApplicationSecrets(ctx, "nope"); err != nil || len(got) != 0 {
		t.Errorf("ListApplicationSecrets(unknown) = %v, %v; want none", got, err)
	}
	wantErr(t, "delete a secret of another application", s.DeleteApplicationSecret(ctx, "app-default", "sec-1"), store.ErrNotFound)
	if err := s.DeleteApplicationSecret(ctx, "app-other", "sec-1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete a deleted secret", s.DeleteApplicationSecret(ctx, "app-other", "sec-1"), store.ErrNotFound)

	if jwks, err := s.GetApplicationJWKS(ctx, "app-other"); err != nil || jwks != "" {
		t.Errorf("GetApplicationJWKS of a new application = %q, %v; want \"\"", jwks, err)
	}
	const set = `[{"kty":"OKP","kid":"k1","crv":"Ed25519","x":"abc"}]`
	if err := s.PutApplicationJWKS(ctx, "app-default", `[]`); err != nil {
		t.Fatal(err)
	}
	if err := s.PutApplicationJWKS(ctx, "app-other", set); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetApplication(ctx, "app-default"); got.Confidential() {
		t.Error("an empty JWK Set made the application confidential")
	}
	if err := s.PutApplicationJWKS(ctx, "app-default", set); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetApplication(ctx, "app-default"); !got.Confidential() {
		t.Error("a JWK Set left the application public")
	}
	if jwks, err := s.GetApplicationJWKS(ctx, "app-other"); err != nil || jwks != set {
		t.Errorf("GetApplicationJWKS = %q, %v; want %q", jwks, err, set)
	}
	wantErr(t, "jwks of an unknown application", s.PutApplicationJWKS(ctx, "nope", set), store.ErrNotFound)
	if _, err := s.GetApplicationJWKS(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetApplicationJWKS(unknown) = %v, want ErrNotFound", err)
	}

	// A jti is accepted once, by exactly one of concurrent users.
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Go(func() { results[i] = s.UseClientAssertion(ctx, "app-other", "jti-1", at(300)) })
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("UseClientAssertion: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent uses of one jti succeeded, want 1", ok, len(results))
	}
	if err := s.UseClientAssertion(ctx, "app-default", "jti-1", at(300)); err != nil {
		t.Errorf("the same jti for another application: %v", err)
	}
	// Purged after it expires, the jti could be recorded again (an
	// assertion past its exp is refused before it gets here).
	if err := s.PurgeExpired(ctx, at(301), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UseClientAssertion(ctx, "app-other", "jti-1", at(600)); err != nil {
		t.Errorf("a purged jti: %v", err)
	}
	// Deleting the application deletes its secrets.
	if _, err := s.DeleteApplication(ctx, "app-other", at(400), at(500)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListApplicationSecrets(ctx, "app-other"); len(got) != 0 {
		t.Errorf("secrets after the application was deleted: %v", got)
	}
}
