package contract_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

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
			if !slices.Contains([]string{"kid", "alg", "created_at", "retired_at"}, k) {
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

// active returns the active keys by algorithm.
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
	want := map[string]client.SigningAlg{}
	for _, k := range keys {
		want[k.Kid] = k.Alg
	}
	if diff := cmp.Diff(want, s.jwksKIDs(t)); diff != "" {
		t.Errorf("JWKS kids (-signing keys +jwks):\n%s", diff)
	}
	if kid := tokenKID(t, admin); kid != active[client.ES256] {
		t.Errorf("token kid %s, want the active ES256 key %s", kid, active[client.ES256])
	}
}

func TestRotateSigningKey(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	before := s.signingKeys(t, admin)
	oldKID := activeKeys(before)[client.ES256]
	oldRSA := activeKeys(before)[client.RS256]

	rotate := func(alg *client.SigningAlg) client.SigningKey {
		t.Helper()
		start := time.Now().Add(-time.Second)
		resp, err := s.Client.RotateSigningKeyWithResponse(ctx, &client.RotateSigningKeyParams{Alg: alg}, bearer(admin))
		if err != nil || resp.JSON200 == nil {
			t.Fatalf("rotate %v: %v %d %s", alg, err, resp.StatusCode(), resp.Body)
		}
		wantOnlyKeys(t, resp.Body, false)
		k := *resp.JSON200
		if k.Kid == "" || k.RetiredAt != nil || k.CreatedAt.Before(start) {
			t.Errorf("new key: %s", resp.Body)
		}
		return k
	}

	// The default algorithm.
	k := rotate(nil)
	if k.Alg != client.ES256 || k.Kid == oldKID {
		t.Fatalf("rotated key: %+v, old kid %s", k, oldKID)
	}
	keys := s.signingKeys(t, admin)
	if len(keys) != 3 || keys[0].Kid != k.Kid || keys[0].RetiredAt != nil {
		t.Fatalf("keys after rotation: %+v", keys)
	}
	for _, key := range keys {
		if key.Kid == oldKID && (key.RetiredAt == nil || key.RetiredAt.Before(key.CreatedAt)) {
			t.Errorf("old key not retired: %+v", key)
		}
	}
	if diff := cmp.Diff(map[client.SigningAlg]string{client.ES256: k.Kid, client.RS256: oldRSA}, activeKeys(keys)); diff != "" {
		t.Errorf("active keys (-want +got):\n%s", diff)
	}
	// A token signed before the rotation still works, and its key is still
	// published.
	if me, err := s.Client.GetMeWithResponse(ctx, bearer(admin)); err != nil || me.JSON200 == nil {
		t.Fatalf("me with a token from before the rotation: %v %d", err, me.StatusCode())
	}
	jwks := s.jwksKIDs(t)
	if jwks[oldKID] != client.ES256 || jwks[k.Kid] != client.ES256 || len(jwks) != 3 {
		t.Errorf("JWKS after rotation: %v", jwks)
	}
	verifyWithJWKS(t, s, admin)
	// New tokens carry the new kid.
	after := s.adminToken(t)
	if kid := tokenKID(t, after); kid != k.Kid {
		t.Errorf("token after rotation has kid %s, want %s", kid, k.Kid)
	}
	verifyWithJWKS(t, s, after)

	// Other algorithms, by name.
	rsa := rotate(ptr(client.RS256))
	if rsa.Alg != client.RS256 || rsa.Kid == oldRSA {
		t.Errorf("rotated RS256 key: %+v", rsa)
	}
	ed := rotate(ptr(client.EdDSA))
	if ed.Alg != client.EdDSA {
		t.Errorf("EdDSA key: %+v", ed)
	}
	keys = s.signingKeys(t, admin)
	if diff := cmp.Diff(map[client.SigningAlg]string{client.ES256: k.Kid, client.RS256: rsa.Kid, client.EdDSA: ed.Kid}, activeKeys(keys)); diff != "" {
		t.Errorf("active keys (-want +got):\n%s", diff)
	}
	if jwks := s.jwksKIDs(t); len(jwks) != 5 || jwks[ed.Kid] != client.EdDSA || jwks[oldRSA] != client.RS256 {
		t.Errorf("JWKS: %v", jwks)
	}
	// Rotating another algorithm leaves the default one alone.
	if kid := tokenKID(t, s.adminToken(t)); kid != k.Kid {
		t.Errorf("token kid %s after rotating other algorithms, want %s", kid, k.Kid)
	}
	// Both tokens still work.
	for _, tok := range []string{admin, after} {
		if me, _ := s.Client.GetMeWithResponse(ctx, bearer(tok)); me.StatusCode() != http.StatusOK {
			t.Errorf("me: %d %s", me.StatusCode(), me.Body)
		}
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
	if n := len(s.signingKeys(t, admin)); n != 5 {
		t.Errorf("%d keys after the refused rotations, want 5", n)
	}
}
