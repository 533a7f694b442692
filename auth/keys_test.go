package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/store"
)

var allAlgs = []string{AlgES256, AlgRS256, AlgEdDSA}

func mustGenerate(t *testing.T, alg string, created time.Time) store.SigningKey {
	t.Helper()
	k, err := GenerateSigningKey(alg, created)
	if err != nil {
		t.Fatalf("GenerateSigningKey(%s): %v", alg, err)
	}
	return k
}

// sign signs a token with the keyring's key of alg active now, naming its
// kid.
func sign(t *testing.T, kr *Keyring, alg string) (token, kid string) {
	t.Helper()
	kid, method, key, ok := kr.Active(alg, time.Now())
	if !ok {
		t.Fatalf("Active(%s): no key", alg)
	}
	if method.Alg() != alg {
		t.Fatalf("Active(%s) method %s", alg, method.Alg())
	}
	tok := jwt.NewWithClaims(method, jwt.MapClaims{"sub": "alice"})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return s, kid
}

// verify parses token, looking its key up by kid with lookup.
func verify(token string, lookup func(kid string) (alg string, pub crypto.PublicKey, ok bool)) error {
	var alg string
	_, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		a, pub, ok := lookup(kid)
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		if tok.Method.Alg() != a {
			return nil, fmt.Errorf("token alg %s, key alg %s", tok.Method.Alg(), a)
		}
		alg = a
		return pub, nil
	}, jwt.WithValidMethods(allAlgs))
	if err != nil {
		return err
	}
	if alg == "" {
		return fmt.Errorf("no key used")
	}
	return nil
}

func TestGenerateSignVerify(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var keys []store.SigningKey
	for _, alg := range allAlgs {
		k := mustGenerate(t, alg, now)
		if k.Alg != alg || !k.CreatedAt.Equal(now) || k.RetiredAt != nil {
			t.Errorf("GenerateSigningKey(%s) = alg %s, created %v, retired %v", alg, k.Alg, k.CreatedAt, k.RetiredAt)
		}
		raw, err := base64.RawURLEncoding.DecodeString(k.KID)
		if err != nil || len(raw) != 16 {
			t.Errorf("kid %q: want 16 bytes base64url without padding (err %v)", k.KID, err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
		if err != nil {
			t.Fatalf("%s key is not PKCS#8: %v", alg, err)
		}
		switch p := parsed.(type) {
		case *ecdsa.PrivateKey:
			if alg != AlgES256 || p.Curve != elliptic.P256() {
				t.Errorf("%s: got ECDSA %s", alg, p.Curve.Params().Name)
			}
		case *rsa.PrivateKey:
			if alg != AlgRS256 || p.N.BitLen() != 2048 {
				t.Errorf("%s: got RSA %d bits", alg, p.N.BitLen())
			}
		case ed25519.PrivateKey:
			if alg != AlgEdDSA {
				t.Errorf("%s: got Ed25519", alg)
			}
		default:
			t.Errorf("%s: got %T", alg, parsed)
		}
		keys = append(keys, k)
	}
	if _, err := GenerateSigningKey("HS256", now); err == nil {
		t.Error("GenerateSigningKey(HS256) succeeded, want error")
	}

	kr, err := NewKeyring(keys)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	if diff := cmp.Diff([]string{AlgES256, AlgEdDSA, AlgRS256}, kr.Algs()); diff != "" {
		t.Errorf("Algs() mismatch (-want +got):\n%s", diff)
	}
	for _, alg := range allAlgs {
		token, kid := sign(t, kr, alg)
		if err := verify(token, kr.Public); err != nil {
			t.Errorf("%s: verify with Public(%s): %v", alg, kid, err)
		}
		// Tampering with the payload breaks the signature.
		parts := strings.Split(token, ".")
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory"}`))
		if err := verify(strings.Join(parts, "."), kr.Public); err == nil {
			t.Errorf("%s: tampered token verified", alg)
		}
	}
	if _, _, ok := kr.Public("nope"); ok {
		t.Error(`Public("nope") found a key`)
	}
	if _, _, _, ok := kr.Active("HS256", now); ok {
		t.Error("Active(HS256) found a key")
	}
}

// publicFromJWK rebuilds a public key from a JWK decoded as a plain JSON
// object, independently of the JWK type under test.
func publicFromJWK(t *testing.T, m map[string]string) crypto.PublicKey {
	t.Helper()
	b64 := func(name string) []byte {
		if strings.ContainsAny(m[name], "=+/") {
			t.Errorf("kid %s: %s = %q is not base64url without padding", m["kid"], name, m[name])
		}
		b, err := base64.RawURLEncoding.DecodeString(m[name])
		if err != nil {
			t.Fatalf("kid %s: field %s: %v", m["kid"], name, err)
		}
		return b
	}
	switch m["kty"] {
	case "EC":
		if m["crv"] != "P-256" {
			t.Fatalf("EC crv %q", m["crv"])
		}
		x, y := b64("x"), b64("y")
		if len(x) != 32 || len(y) != 32 {
			t.Fatalf("EC x, y are %d, %d bytes; want 32", len(x), len(y))
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), slices.Concat([]byte{4}, x, y))
		if err != nil {
			t.Fatalf("EC point: %v", err)
		}
		return pub
	case "RSA":
		n, e := b64("n"), b64("e")
		if n[0] == 0 || e[0] == 0 {
			t.Errorf("RSA n or e has a leading zero byte")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	case "OKP":
		if m["crv"] != "Ed25519" {
			t.Fatalf("OKP crv %q", m["crv"])
		}
		x := b64("x")
		if len(x) != ed25519.PublicKeySize {
			t.Fatalf("OKP x is %d bytes", len(x))
		}
		return ed25519.PublicKey(x)
	default:
		t.Fatalf("unknown kty %q", m["kty"])
		return nil
	}
}

func TestJWKSVerifiesTokens(t *testing.T) {
	t.Parallel()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	retired := base.Add(time.Hour)
	var keys []store.SigningKey
	for i, alg := range allAlgs {
		k := mustGenerate(t, alg, base.Add(time.Duration(i)*time.Minute))
		keys = append(keys, k)
	}
	old := mustGenerate(t, AlgEdDSA, base.Add(-time.Hour))
	old.RetiredAt = &retired
	keys = append(keys, old)
	kr, err := NewKeyring(keys)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}

	data, err := json.Marshal(kr.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("unmarshal JWKS %s: %v", data, err)
	}

	// Newest first: the active EdDSA key was generated last, the retired
	// EdDSA key first.
	var gotKids []string
	for _, m := range doc.Keys {
		gotKids = append(gotKids, m["kid"])
	}
	wantKids := []string{keys[2].KID, keys[1].KID, keys[0].KID, old.KID}
	if diff := cmp.Diff(wantKids, gotKids); diff != "" {
		t.Errorf("JWKS kid order (-want +got):\n%s", diff)
	}

	byKid := map[string]crypto.PublicKey{}
	algOf := map[string]string{}
	wantFields := map[string][]string{
		"EC":  {"alg", "crv", "kid", "kty", "use", "x", "y"},
		"RSA": {"alg", "e", "kid", "kty", "n", "use"},
		"OKP": {"alg", "crv", "kid", "kty", "use", "x"},
	}
	for _, m := range doc.Keys {
		var fields []string
		for f := range m {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		if diff := cmp.Diff(wantFields[m["kty"]], fields); diff != "" {
			t.Errorf("kid %s (%s) fields (-want +got):\n%s", m["kid"], m["kty"], diff)
		}
		if m["use"] != "sig" {
			t.Errorf("kid %s use %q, want sig", m["kid"], m["use"])
		}
		pub := publicFromJWK(t, m)
		byKid[m["kid"]] = pub
		algOf[m["kid"]] = m["alg"]

		_, krPub, ok := kr.Public(m["kid"])
		if !ok {
			t.Fatalf("Public(%s) not found", m["kid"])
		}
		if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(krPub) {
			t.Errorf("kid %s: JWK public key differs from Public()", m["kid"])
		}
	}
	fromJWKS := func(kid string) (string, crypto.PublicKey, bool) {
		pub, ok := byKid[kid]
		return algOf[kid], pub, ok
	}
	for _, alg := range allAlgs {
		token, kid := sign(t, kr, alg)
		if err := verify(token, fromJWKS); err != nil {
			t.Errorf("%s: verify with JWKS key %s: %v", alg, kid, err)
		}
	}
}

func TestJWKRSAEncoding(t *testing.T) {
	t.Parallel()
	k := mustGenerate(t, AlgRS256, time.Now())
	kr, err := NewKeyring([]store.SigningKey{k})
	if err != nil {
		t.Fatal(err)
	}
	jwk := kr.JWKS().Keys[0]
	if jwk.E != "AQAB" {
		t.Errorf("e = %q, want AQAB", jwk.E)
	}
	if n, _ := base64.RawURLEncoding.DecodeString(jwk.N); len(n) != 256 {
		t.Errorf("n is %d bytes, want 256", len(n))
	}
}

func TestKeyringActivePicksNewestNonRetired(t *testing.T) {
	t.Parallel()
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	retiredAt := base.Add(48 * time.Hour)
	older := mustGenerate(t, AlgES256, base)
	middle := mustGenerate(t, AlgES256, base.Add(time.Hour))
	newestRetired := mustGenerate(t, AlgES256, base.Add(2*time.Hour))
	newestRetired.RetiredAt = &retiredAt
	other := mustGenerate(t, AlgEdDSA, base.Add(3*time.Hour))
	onlyRetired := mustGenerate(t, AlgEdDSA, base.Add(-time.Hour))
	onlyRetired.RetiredAt = &retiredAt

	// Input order must not matter.
	kr, err := NewKeyring([]store.SigningKey{newestRetired, older, other, middle})
	if err != nil {
		t.Fatal(err)
	}
	now := retiredAt.Add(time.Hour)
	if kid, _, _, ok := kr.Active(AlgES256, now); !ok || kid != middle.KID {
		t.Errorf("Active(ES256) = %q, %v; want middle key %q", kid, ok, middle.KID)
	}
	if kid, _, _, ok := kr.Active(AlgEdDSA, now); !ok || kid != other.KID {
		t.Errorf("Active(EdDSA) = %q, %v; want %q", kid, ok, other.KID)
	}
	if _, _, _, ok := kr.Active(AlgRS256, now); ok {
		t.Error("Active(RS256) found a key in a keyring without one")
	}
	// The retired key still verifies tokens it signed and is published.
	if alg, pub, ok := kr.Public(newestRetired.KID); !ok || alg != AlgES256 || pub == nil {
		t.Errorf("Public(retired) = %q, %v, %v; want ES256 key", alg, pub, ok)
	}
	var kids []string
	for _, j := range kr.JWKS().Keys {
		kids = append(kids, j.Kid)
	}
	if diff := cmp.Diff([]string{other.KID, newestRetired.KID, middle.KID, older.KID}, kids); diff != "" {
		t.Errorf("JWKS kids (-want +got):\n%s", diff)
	}

	allRetired, err := NewKeyring([]store.SigningKey{onlyRetired})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := allRetired.Active(AlgEdDSA, now); ok {
		t.Error("Active(EdDSA) returned a retired key")
	}
	if got := allRetired.Algs(); !slices.Equal(got, []string{AlgEdDSA}) {
		t.Errorf("Algs() = %v, want [EdDSA]", got)
	}
	if n := len(allRetired.JWKS().Keys); n != 1 {
		t.Errorf("JWKS has %d keys, want the retired one", n)
	}
}

// TestKeyringActiveAtTimes: which key signs is decided by the time asked
// about and the keys' active_from and retired_at, never by when the
// keyring was loaded. The keyring below holds the history of one
// algorithm: a first key, a staged rotation at +1m (new key active from
// +21m, the first retiring then), another staged rotation at +2m, then an
// immediate rotation at +30m.
func TestKeyringActiveAtTimes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	key := func(created, active time.Duration, retired *time.Duration) store.SigningKey {
		k := mustGenerate(t, AlgES256, at(created))
		k.ActiveFrom = at(active)
		if retired != nil {
			k.RetiredAt = ptr(at(*retired))
		}
		return k
	}
	first := key(0, 0, ptr(21*time.Minute))
	staged := key(time.Minute, 21*time.Minute, ptr(22*time.Minute))
	staged2 := key(2*time.Minute, 22*time.Minute, ptr(30*time.Minute))
	immediate := key(30*time.Minute, 30*time.Minute, nil)
	// Keyring of the moment after the second staged rotation: the
	// immediate key is not there yet.
	staged2Then := staged2
	staged2Then.RetiredAt = nil
	beforeImmediate := []store.SigningKey{first, staged, staged2Then}
	all := []store.SigningKey{first, staged, staged2, immediate}

	cases := []struct {
		name string
		keys []store.SigningKey
		now  time.Duration
		want string // "" is no key
	}{
		{"before the first key is active", all, -time.Second, ""},
		{"the first key, at its active_from", all, 0, first.KID},
		{"just after the staged rotation: still the first key", beforeImmediate, time.Minute, first.KID},
		{"a nanosecond before the staged key's active_from", beforeImmediate, 21*time.Minute - time.Nanosecond, first.KID},
		{"the staged key, at its active_from: the first retired then", beforeImmediate, 21 * time.Minute, staged.KID},
		{"the second staged key takes over at its active_from", beforeImmediate, 22 * time.Minute, staged2.KID},
		{"long after, with no later rotation", beforeImmediate, 100 * time.Hour, staged2.KID},
		{"the immediate key signs at once", all, 30 * time.Minute, immediate.KID},
		{"and goes on signing", all, 100 * time.Hour, immediate.KID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kr, err := NewKeyring(tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			kid, _, _, ok := kr.Active(AlgES256, at(tc.now))
			if kid != tc.want || ok != (tc.want != "") {
				t.Errorf("Active(ES256, t0%+v) = %q, %v; want %q", tc.now, kid, ok, tc.want)
			}
		})
	}

	// A staged key is published and verifies before its active_from; a
	// staged key retired before it ever became active never signs but is
	// still published.
	neverActive := key(3*time.Minute, 23*time.Minute, ptr(5*time.Minute))
	kr, err := NewKeyring([]store.SigningKey{first, staged, neverActive})
	if err != nil {
		t.Fatal(err)
	}
	if alg, pub, ok := kr.Public(staged.KID); !ok || alg != AlgES256 || pub == nil {
		t.Errorf("Public(staged key) = %q, %v, %v; want its ES256 key", alg, pub, ok)
	}
	var kids []string
	for _, j := range kr.JWKS().Keys {
		kids = append(kids, j.Kid)
	}
	if diff := cmp.Diff([]string{neverActive.KID, staged.KID, first.KID}, kids); diff != "" {
		t.Errorf("JWKS kids (-want +got):\n%s", diff)
	}
	for _, d := range []time.Duration{4 * time.Minute, 23 * time.Minute, 100 * time.Hour} {
		if kid, _, _, _ := kr.Active(AlgES256, at(d)); kid == neverActive.KID {
			t.Errorf("at t0%+v the key retired before its active_from signs", d)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestEmptyKeyring(t *testing.T) {
	t.Parallel()
	kr, err := NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, ok := kr.Active(AlgES256, time.Now()); ok {
		t.Error("Active on empty keyring found a key")
	}
	if got := kr.Algs(); len(got) != 0 {
		t.Errorf("Algs() = %v, want none", got)
	}
	data, err := json.Marshal(kr.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"keys":[]}` {
		t.Errorf("empty JWKS = %s, want {\"keys\":[]}", data)
	}
}

func TestNewKeyringRejectsBadKeys(t *testing.T) {
	t.Parallel()
	now := time.Now()
	rsaKey := mustGenerate(t, AlgRS256, now)
	ecKey := mustGenerate(t, AlgES256, now)
	edKey := mustGenerate(t, AlgEdDSA, now)

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384DER, err := x509.MarshalPKCS8PrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, err := x509.MarshalPKCS8PrivateKey(small)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1DER := x509.MarshalPKCS1PrivateKey(small)

	relabel := func(k store.SigningKey, alg string) store.SigningKey { k.Alg = alg; return k }
	withDER := func(k store.SigningKey, der []byte) store.SigningKey { k.PrivateKey = der; return k }
	cases := map[string][]store.SigningKey{
		"garbage":          {withDER(ecKey, []byte("not a key"))},
		"empty":            {withDER(ecKey, nil)},
		"truncated":        {withDER(ecKey, ecKey.PrivateKey[:len(ecKey.PrivateKey)/2])},
		"PKCS#1 not #8":    {withDER(rsaKey, pkcs1DER)},
		"ES256 on RSA":     {relabel(rsaKey, AlgES256)},
		"ES256 on Ed25519": {relabel(edKey, AlgES256)},
		"ES256 on P-384":   {withDER(ecKey, p384DER)},
		"RS256 on EC":      {relabel(ecKey, AlgRS256)},
		"RS256 1024 bits":  {withDER(rsaKey, smallDER)},
		"EdDSA on EC":      {relabel(ecKey, AlgEdDSA)},
		"HS256":            {relabel(ecKey, "HS256")},
		"empty kid":        {func() store.SigningKey { k := ecKey; k.KID = ""; return k }()},
		"duplicate kid":    {ecKey, func() store.SigningKey { k := edKey; k.KID = ecKey.KID; return k }()},
	}
	for name, keys := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if kr, err := NewKeyring(keys); err == nil {
				t.Errorf("NewKeyring succeeded (%v), want error", kr)
			}
		})
	}
}
