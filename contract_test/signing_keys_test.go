package contract_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// tokenKID reads the kid of a JWT's header, unverified.
func tokenKID(t testing.TB, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}

// wantOnlyKeys checks that every object in items has no field but the
// allowed ones: no private key material leaves the server.
func wantOnlyKeys(t testing.TB, body []byte, items bool) {
	t.Helper()
	var objs []map[string]json.RawMessage
	if items {
		var list struct {
			Items []map[string]json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("body: %v: %s", err, body)
		}
		objs = list.Items
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(body, &one); err != nil {
			t.Fatalf("body: %v: %s", err, body)
		}
		objs = append(objs, one)
	}
	for _, o := range objs {
		for k := range o {
			if !slices.Contains([]string{"kid", "alg", "created_at", "active_from", "retired_at"}, k) {
				t.Errorf("signing key has the field %q: %s", k, body)
			}
		}
	}
}

func (s *server) signingKeys(t testing.TB, admin string) []client.SigningKey {
	t.Helper()
	resp, err := s.Client.ListSigningKeysWithResponse(context.Background(), bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("list signing keys: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	wantOnlyKeys(t, resp.Body, true)
	if !slices.IsSortedFunc(resp.JSON200.Items, func(a, b client.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) }) {
		t.Errorf("signing keys not newest first: %s", resp.Body)
	}
	return resp.JSON200.Items
}

func (s *server) jwksKIDs(t testing.TB) map[string]client.SigningAlg {
	t.Helper()
	resp, err := s.Client.GetJWKSWithResponse(context.Background())
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("jwks: %v", err)
	}
	out := map[string]client.SigningAlg{}
	for _, k := range resp.JSON200.Keys {
		out[k.Kid] = k.Alg
		if k.Use != client.Sig {
			t.Errorf("key %s use %q", k.Kid, k.Use)
		}
	}
	var raw struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(resp.Body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range raw.Keys {
		if _, ok := k["d"]; ok {
			t.Errorf("the JWKS publishes a private key: %s", resp.Body)
		}
	}
	return out
}

// activeKeys returns the unretired key of each algorithm: the one that
// signs, or the staged key that will replace it.
func activeKeys(keys []client.SigningKey) map[client.SigningAlg]string {
	out := map[client.SigningAlg]string{}
	for _, k := range keys {
		if k.RetiredAt == nil {
			out[k.Alg] = k.Kid
		}
	}
	return out
}

func TestListSigningKeys(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	keys := s.signingKeys(t, admin)
	// The default algorithm and RS256 have a key from the start.
	active := activeKeys(keys)
	if len(keys) != 2 || active[client.ES256] == "" || active[client.RS256] == "" {
		t.Fatalf("signing keys: %+v", keys)
	}
	// They are the JWKS's keys.
	runChecks(t, s, "GET /v1/signing-keys lists the JWKS's keys (no rotation)")
	if kid := tokenKID(t, admin); kid != active[client.ES256] {
		t.Errorf("token kid %s, want the active ES256 key %s", kid, active[client.ES256])
	}
}

// TestRotateSigningKey: a rotation is staged. The new key is in the JWKS
// and the key list at once, with its active_from; tokens are still signed
// with the old key until then, and with the new one from then on, by the
// server's clock alone.
func TestRotateSigningKey(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	admin := s.adminToken(t)
	ctx := context.Background()
	before := s.signingKeys(t, admin)
	oldKID := activeKeys(before)[client.ES256]
	oldRSA := activeKeys(before)[client.RS256]
	for _, k := range before {
		if !k.ActiveFrom.Equal(k.CreatedAt) {
			t.Errorf("a first key is active from %v, want at once (created %v)", k.ActiveFrom, k.CreatedAt)
		}
	}

	clk.Set(time.Minute) // the rotation comes after the bootstrap
	start := clk.Now()
	k := s.rotate(t, admin, nil)
	if k.Alg != client.ES256 || k.Kid == oldKID || k.RetiredAt != nil || k.CreatedAt.Before(start) {
		t.Fatalf("rotated key: %+v, old kid %s", k, oldKID)
	}
	if d := k.ActiveFrom.Sub(k.CreatedAt); d != auth.DefaultKeyActivationDelay {
		t.Errorf("the new key is active %v after its creation, want the activation delay %v", d, auth.DefaultKeyActivationDelay)
	}
	keys := s.signingKeys(t, admin)
	if len(keys) != 3 || keys[0].Kid != k.Kid || keys[0].RetiredAt != nil || !keys[0].ActiveFrom.Equal(k.ActiveFrom) {
		t.Fatalf("keys after rotation: %+v, want the new key first with active_from %v", keys, k.ActiveFrom)
	}
	for _, key := range keys {
		// The old key retires when the new one starts signing.
		if key.Kid == oldKID && (key.RetiredAt == nil || !key.RetiredAt.Equal(k.ActiveFrom)) {
			t.Errorf("old key retires at %v, want the new key's active_from %v", key.RetiredAt, k.ActiveFrom)
		}
	}
	if diff := cmp.Diff(map[client.SigningAlg]string{client.ES256: k.Kid, client.RS256: oldRSA}, activeKeys(keys)); diff != "" {
		t.Errorf("unretired keys (-want +got):\n%s", diff)
	}
	// The new key is published at once, beside the old one.
	jwks := s.jwksKIDs(t)
	if jwks[oldKID] != client.ES256 || jwks[k.Kid] != client.ES256 || len(jwks) != 3 {
		t.Errorf("JWKS after rotation: %v", jwks)
	}
	// Tokens are still signed with the old key...
	staged := s.adminToken(t)
	if kid := tokenKID(t, staged); kid != oldKID {
		t.Errorf("token right after a staged rotation has kid %s, want the old key %s", kid, oldKID)
	}
	verifyWithJWKS(t, s, staged, jwt.WithTimeFunc(clk.Now))
	// ...until a moment before active_from.
	clk.At(k.ActiveFrom.Add(-time.Second))
	if kid := tokenKID(t, s.adminToken(t)); kid != oldKID {
		t.Errorf("token a second before active_from has kid %s, want the old key %s", kid, oldKID)
	}
	// A token of the staged key verifies before its active_from: a node
	// whose clock runs ahead may already sign with it.
	early := resign(t, s, staged, k.Kid)
	if me, err := s.Client.GetMeWithResponse(ctx, bearer(early)); err != nil || me.JSON200 == nil {
		t.Errorf("me with a token of the staged key before its active_from: %v %d %s", err, me.StatusCode(), me.Body)
	}

	// From active_from on, the new key signs: no reload, no rotation.
	clk.At(k.ActiveFrom)
	after := s.adminToken(t)
	if kid := tokenKID(t, after); kid != k.Kid {
		t.Errorf("token at active_from has kid %s, want the new key %s", kid, k.Kid)
	}
	verifyWithJWKS(t, s, after, jwt.WithTimeFunc(clk.Now))
	// Tokens of the old key still work, and it is still published.
	for _, tok := range []string{admin, staged} {
		if me, err := s.Client.GetMeWithResponse(ctx, bearer(tok)); err != nil || me.JSON200 == nil {
			t.Fatalf("me with a token of the retired key: %v %d", err, me.StatusCode())
		}
	}
	if jwks := s.jwksKIDs(t); jwks[oldKID] != client.ES256 || len(jwks) != 3 {
		t.Errorf("JWKS once the new key signs: %v", jwks)
	}

	// Other algorithms, by name: RS256 is staged like the default; EdDSA
	// has no key yet, so nothing could sign in the meantime: at once.
	rsa := s.rotate(t, admin, &client.RotateSigningKeyParams{Alg: ptr(client.RS256)})
	if rsa.Alg != client.RS256 || rsa.Kid == oldRSA || rsa.ActiveFrom.Sub(rsa.CreatedAt) != auth.DefaultKeyActivationDelay {
		t.Errorf("rotated RS256 key: %+v", rsa)
	}
	ed := s.rotate(t, admin, &client.RotateSigningKeyParams{Alg: ptr(client.EdDSA)})
	if ed.Alg != client.EdDSA || !ed.ActiveFrom.Equal(ed.CreatedAt) {
		t.Errorf("first EdDSA key: %+v, want it active at once", ed)
	}
	keys = s.signingKeys(t, admin)
	if diff := cmp.Diff(map[client.SigningAlg]string{client.ES256: k.Kid, client.RS256: rsa.Kid, client.EdDSA: ed.Kid}, activeKeys(keys)); diff != "" {
		t.Errorf("unretired keys (-want +got):\n%s", diff)
	}
	if jwks := s.jwksKIDs(t); len(jwks) != 5 || jwks[ed.Kid] != client.EdDSA || jwks[oldRSA] != client.RS256 || jwks[rsa.Kid] != client.RS256 {
		t.Errorf("JWKS: %v", jwks)
	}
	// Rotating another algorithm leaves the default one alone.
	if kid := tokenKID(t, s.adminToken(t)); kid != k.Kid {
		t.Errorf("token kid %s after rotating other algorithms, want %s", kid, k.Kid)
	}
	md, err := s.Client.GetOpenIDConfigurationWithResponse(ctx)
	if err != nil || md.JSON200 == nil || md.JSON200.IdTokenSigningAlgValuesSupported == nil ||
		!hasAll(*md.JSON200.IdTokenSigningAlgValuesSupported, "ES256", "RS256", "EdDSA") {
		t.Errorf("metadata algorithms after rotation: %v %s", err, md.Body)
	}

	for _, alg := range []string{"HS256", "none", "es256"} {
		t.Run("alg="+alg, func(t *testing.T) {
			resp, err := s.Client.RotateSigningKeyWithResponse(invalid(ctx), &client.RotateSigningKeyParams{Alg: ptr(client.SigningAlg(alg))}, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantParamError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "query", "alg")
		})
	}
	t.Run("immediate=maybe", func(t *testing.T) {
		resp, err := s.Client.RotateSigningKeyWithResponse(invalid(ctx), nil, bearer(admin), func(_ context.Context, req *http.Request) error {
			req.URL.RawQuery = "immediate=maybe"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantParamError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "query", "immediate")
	})
	if n := len(s.signingKeys(t, admin)); n != 5 {
		t.Errorf("%d keys after the refused rotations, want 5", n)
	}
}

// TestRotateSigningKeyImmediate: immediate=true (a compromised key) signs
// with the new key at once and retires the old key now, and a staged key
// still waiting with it: that one never signs.
func TestRotateSigningKeyImmediate(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	admin := s.adminToken(t)
	oldKID := activeKeys(s.signingKeys(t, admin))[client.ES256]

	staged := s.rotate(t, admin, &client.RotateSigningKeyParams{Immediate: ptr(false)})
	if d := staged.ActiveFrom.Sub(staged.CreatedAt); d != auth.DefaultKeyActivationDelay {
		t.Errorf("immediate=false: active %v after creation, want %v", d, auth.DefaultKeyActivationDelay)
	}
	k := s.rotate(t, admin, &client.RotateSigningKeyParams{Immediate: ptr(true)})
	if k.Alg != client.ES256 || !k.ActiveFrom.Equal(k.CreatedAt) || k.RetiredAt != nil {
		t.Fatalf("immediate rotation: %+v, want a key active at its creation", k)
	}
	if kid := tokenKID(t, s.adminToken(t)); kid != k.Kid {
		t.Errorf("token right after an immediate rotation has kid %s, want the new key %s", kid, k.Kid)
	}
	keys := s.signingKeys(t, admin)
	retired := map[string]*time.Time{}
	for _, key := range keys {
		retired[key.Kid] = key.RetiredAt
	}
	for _, kid := range []string{oldKID, staged.Kid} {
		if r := retired[kid]; r == nil || !r.Equal(k.ActiveFrom) {
			t.Errorf("key %s retires at %v, want now (%v)", kid, r, k.ActiveFrom)
		}
	}
	// The retired keys stay published until their tokens expire.
	if jwks := s.jwksKIDs(t); len(jwks) != 4 || jwks[oldKID] == "" || jwks[staged.Kid] == "" || jwks[k.Kid] == "" {
		t.Errorf("JWKS after an immediate rotation: %v", jwks)
	}
	verifyWithJWKS(t, s, admin)
	// The staged key's active_from comes and goes: the new key signs on.
	clk.At(staged.ActiveFrom.Add(time.Minute))
	if kid := tokenKID(t, s.adminToken(t)); kid != k.Kid {
		t.Errorf("token past the superseded staged key's active_from has kid %s, want %s", kid, k.Kid)
	}

	// The audit log tells the two rotations apart.
	events, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{Action: ptr("signing_key.rotate")})
	details := map[string]string{}
	for _, e := range events {
		details[deref(e.SubjectId)] = deref(e.Detail)
	}
	if want := "ES256 staged, active from " + staged.ActiveFrom.UTC().Format(time.RFC3339); details[staged.Kid] != want {
		t.Errorf("audit detail of the staged rotation %q, want %q", details[staged.Kid], want)
	}
	if details[k.Kid] != "ES256 immediate" {
		t.Errorf("audit detail of the immediate rotation %q, want %q", details[k.Kid], "ES256 immediate")
	}
}

// resign signs token's claims again with the stored private key kid, as
// the node holding that key would.
func resign(t testing.TB, s *server, token, kid string) string {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatal(err)
	}
	keys, err := s.Store.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.KID != kid {
			continue
		}
		k, err := s.Svc.UnsealSigningKey(k) // the store holds it sealed
		if err != nil {
			t.Fatal(err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.Alg), claims)
		tok.Header["kid"] = kid
		signed, err := tok.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	t.Fatalf("no stored key %s", kid)
	return ""
}

// rotate rotates a signing key through the API (params nil: the default
// algorithm, staged) and returns the new key.
func (s *server) rotate(t testing.TB, admin string, params *client.RotateSigningKeyParams) client.SigningKey {
	t.Helper()
	if params == nil {
		params = &client.RotateSigningKeyParams{}
	}
	resp, err := s.Client.RotateSigningKeyWithResponse(context.Background(), params, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("rotate %+v: %v %d %s", params, err, resp.StatusCode(), resp.Body)
	}
	wantOnlyKeys(t, resp.Body, false)
	return *resp.JSON200
}
