package jose

import (
	"crypto"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// sign makes a compact JWS of claims with priv under alg and kid.
func sign(t testing.TB, method jwt.SigningMethod, kid string, priv crypto.Signer, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestParseCompact(t *testing.T) {
	t.Parallel()
	k := testKeys()
	valid := sign(t, jwt.SigningMethodES256, "es", k.ec, jwt.MapClaims{"sub": "u"})
	segs := strings.Split(valid, ".")
	h, payload, err := ParseCompact(valid)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Header{Alg: AlgES256, Kid: "es", Typ: "JWT"}, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if string(payload) != `{"sub":"u"}` {
		t.Errorf("payload %s", payload)
	}
	// The signature of ES256 is 64 bytes: 86 characters, the last with
	// four unused bits.
	lastBitSet := segs[2][:85] + string(segs[2][85]+1)
	cases := []struct {
		name, token, why string
	}{
		{"empty", "", "1 segments, want 3"},
		{"two segments", segs[0] + "." + segs[1], "2 segments, want 3"},
		{"JWE shape", valid + ".x.y", "5 segments, want 3"},
		{"JSON serialization", `{"payload":"` + segs[1] + `"}`, "1 segments, want 3"},
		{"empty signature", segs[0] + "." + segs[1] + ".", "signature is empty"},
		{"empty header", "." + segs[1] + "." + segs[2], "header is empty"},
		{"padded signature", valid + "=", `signature: byte 86 ("=") is not base64url without padding`},
		{"padded payload", segs[0] + "." + segs[1] + "==." + segs[2], `payload: byte`},
		{"standard alphabet", segs[0] + "." + segs[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(segs[2]) + "+", "signature: byte"},
		{"line break in the payload", segs[0] + "." + segs[1][:4] + "\r\n" + segs[1][4:] + "." + segs[2], `payload: byte 4 ("\r")`},
		{"trailing newline", valid + "\n", `signature: byte 86 ("\n")`},
		{"space", " " + valid, `header: byte 0 (" ")`},
		{"non-canonical signature", segs[0] + "." + segs[1] + "." + lastBitSet, "signature: not canonical base64url"},
		{"header not JSON", b64("alg") + "." + segs[1] + "." + segs[2], "header: not a JSON object"},
		{"header an array", b64(`["ES256"]`) + "." + segs[1] + "." + segs[2], "header: not a JSON object"},
		{"header without alg", b64(`{"kid":"es"}`) + "." + segs[1] + "." + segs[2], "header: alg is missing"},
		{"alg not a string", b64(`{"alg":1}`) + "." + segs[1] + "." + segs[2], "header: alg is not a string"},
		{"kid not a string", b64(`{"alg":"ES256","kid":7}`) + "." + segs[1] + "." + segs[2], "header: kid is not a string"},
		{"typ not a string", b64(`{"alg":"ES256","typ":null}`) + "." + segs[1] + "." + segs[2], "header: typ is not a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ParseCompact(tc.token)
			if !errors.Is(err, ErrNotCompact) {
				t.Fatalf("ParseCompact = %v, want ErrNotCompact", err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("err = %q, want it to say %q", err, tc.why)
			}
		})
	}
	// golang-jwt alone takes the re-spelled signature: the check above is
	// what refuses it.
	if _, err := jwt.NewParser().Parse(segs[0]+"."+segs[1]+"."+lastBitSet, func(*jwt.Token) (any, error) { return &k.ec.PublicKey, nil }); err != nil {
		t.Errorf("golang-jwt refuses the non-canonical signature by itself (%v): the case tests nothing", err)
	}
}

func TestLooksCompact(t *testing.T) {
	t.Parallel()
	for token, want := range map[string]bool{"a.b.c": true, "..": true, "opaque_refresh-token": false, "a.b": false, "a.b.c.d": false} {
		if got := LooksCompact(token); got != want {
			t.Errorf("LooksCompact(%q) = %v", token, got)
		}
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	k := testKeys()
	now := time.Now().Truncate(time.Second)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: "https://iss", Subject: "u", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))},
		Scope:            "a b", EmailVerified: true, SessionID: "s1", AMR: []string{"pwd"},
	}
	keys := map[string]Key{}
	for _, j := range []JWK{
		mustJWK(t, "es", AlgES256, &k.ec.PublicKey),
		mustJWK(t, "rs", AlgRS256, &k.rsa.PublicKey),
		mustJWK(t, "ed", AlgEdDSA, k.ed.Public()),
	} {
		key, err := ParseJWK(j)
		if err != nil {
			t.Fatal(err)
		}
		keys[j.Kid] = key
	}
	byKid := func(h Header) (Key, error) {
		key, ok := keys[h.Kid]
		if !ok {
			return Key{}, errors.New("unknown kid")
		}
		return key, nil
	}
	all := []string{AlgES256, AlgRS256, AlgEdDSA}
	for _, tc := range []struct {
		kid    string
		method jwt.SigningMethod
		priv   crypto.Signer
	}{
		{"es", jwt.SigningMethodES256, k.ec},
		{"rs", jwt.SigningMethodRS256, k.rsa},
		{"ed", jwt.SigningMethodEdDSA, k.ed},
	} {
		t.Run(tc.kid, func(t *testing.T) {
			t.Parallel()
			var got Claims
			payload, err := Verify(sign(t, tc.method, tc.kid, tc.priv, claims), &got, all, byKid, jwt.WithIssuer("https://iss"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(claims, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if !strings.Contains(string(payload), `"sid":"s1"`) || !strings.Contains(string(payload), `"email_verified":true`) {
				t.Errorf("payload %s", payload)
			}
		})
	}

	es := sign(t, jwt.SigningMethodES256, "es", k.ec, claims)
	relabel := func(token, header string) string { return b64(header) + token[strings.IndexByte(token, '.'):] }
	for _, tc := range []struct {
		name, token string
		algs        []string
		why         string
	}{
		{"RS256 token under the ES256 key's kid", sign(t, jwt.SigningMethodRS256, "es", k.rsa, claims), all, "alg RS256 does not match the key's ES256"},
		{"ES256 token relabelled EdDSA under the EdDSA key", relabel(es, `{"alg":"EdDSA","kid":"ed"}`), all, "verification error"},
		{"another key under a known kid", sign(t, jwt.SigningMethodES256, "es", k.ecOther, claims), all, "verification error"},
		{"an algorithm not allowed", es, []string{AlgRS256}, "signing method ES256 is invalid"},
		{"alg none", relabel(es, `{"alg":"none","kid":"es"}`), all, "signing method none is invalid"},
		{"HS256 keyed with nothing", relabel(es, `{"alg":"HS256","kid":"es"}`), all, "signing method HS256 is invalid"},
		{"unknown kid", sign(t, jwt.SigningMethodES256, "nope", k.ec, claims), all, "unknown kid"},
		{"wrong issuer", sign(t, jwt.SigningMethodES256, "es", k.ec, Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "https://other"}}), all, "invalid issuer"},
		{"padded", es + "=", all, "not a compact JWS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got Claims
			if _, err := Verify(tc.token, &got, tc.algs, byKid, jwt.WithIssuer("https://iss")); err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("Verify = %v, want an error saying %q", err, tc.why)
			}
		})
	}
}

func TestClaimsScopes(t *testing.T) {
	t.Parallel()
	c := Claims{Scope: " read  write "}
	if diff := cmp.Diff([]string{"read", "write"}, c.Scopes()); diff != "" {
		t.Error(diff)
	}
	if !c.HasScopes("write", "read") || !c.HasScopes() || c.HasScopes("read", "admin") {
		t.Error("HasScopes")
	}
}

func TestHashRandomSecret(t *testing.T) {
	t.Parallel()
	// The SHA-256 of "abc" (FIPS 180-2, appendix B.1), in hex: the stored
	// hashes of existing rows stay valid.
	if got := HashRandomSecret("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashRandomSecret(abc) = %s", got)
	}
}

// BenchmarkParseCompact measures the form check every token passes before
// its signature is verified.
func BenchmarkParseCompact(b *testing.B) {
	k := testKeys()
	token := sign(b, jwt.SigningMethodES256, "es", k.ec, Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "https://iss", Subject: "u", ID: "j"}, Scope: "a b", AMR: []string{"pwd"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseCompact(token); err != nil {
			b.Fatal(err)
		}
	}
}
