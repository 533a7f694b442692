package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testKeys are made once: RSA keys are slow to make under -race.
var testKeys = sync.OnceValue(func() (k struct {
	rsa     *rsa.PrivateKey
	rsa1024 *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	ec384   *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	ecOther *ecdsa.PrivateKey
}) {
	var err error
	must := func(e error) {
		if e != nil && err == nil {
			err = e
		}
	}
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024)
	must(err)
	k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	k.ecOther, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	if err != nil {
		panic(err)
	}
	return k
})

func mustJWK(t *testing.T, kid, alg string, pub crypto.PublicKey) JWK {
	t.Helper()
	j, err := PublicJWK(kid, alg, pub)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// A published JWK parses back to the same key, whatever its type.
func TestJWKRoundTrip(t *testing.T) {
	t.Parallel()
	k := testKeys()
	for _, tc := range []struct {
		alg string
		pub crypto.PublicKey
	}{
		{AlgRS256, &k.rsa.PublicKey},
		{AlgES256, &k.ec.PublicKey},
		{AlgEdDSA, k.ed.Public()},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			j := mustJWK(t, "k1", tc.alg, tc.pub)
			// Through JSON, as a JWKS is served and read.
			raw, err := json.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			var back JWK
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			got, err := ParseJWK(back)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kid != "k1" || got.Alg != tc.alg || !got.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.pub) {
				t.Errorf("ParseJWK(PublicJWK) = %+v", got)
			}
			// Without alg and use, the key type implies the algorithm.
			back.Alg, back.Use = "", ""
			if got, err := ParseJWK(back); err != nil || got.Alg != tc.alg {
				t.Errorf("without alg: %+v, %v", got, err)
			}
		})
	}
	if _, err := PublicJWK("k", AlgES256, &k.ec384.PublicKey); err == nil || !strings.Contains(err.Error(), "want P-256") {
		t.Errorf("PublicJWK of a P-384 key: %v", err)
	}
}

func TestParseJWKRefuses(t *testing.T) {
	t.Parallel()
	k := testKeys()
	rs := mustJWK(t, "rs", AlgRS256, &k.rsa.PublicKey)
	es := mustJWK(t, "es", AlgES256, &k.ec.PublicKey)
	ed := mustJWK(t, "ed", AlgEdDSA, k.ed.Public())
	es384 := es
	{
		pt, err := k.ec384.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		es384.Crv = "P-384"
		es384.X = base64.RawURLEncoding.EncodeToString(pt[1:49])
		es384.Y = base64.RawURLEncoding.EncodeToString(pt[49:])
	}
	with := func(j JWK, change func(*JWK)) JWK {
		change(&j)
		return j
	}
	// lastBitSet re-spells a base64url value with an unused bit of its last
	// character set: the same bytes to a lenient decoder.
	lastBitSet := func(s string) string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		i := strings.IndexByte(alphabet, s[len(s)-1])
		return s[:len(s)-1] + string(alphabet[i|1])
	}
	small := mustJWK(t, "small", AlgRS256, &k.rsa1024.PublicKey)
	cases := []struct {
		name string
		jwk  JWK
		why  string
	}{
		{"no kty", with(es, func(j *JWK) { j.Kty = "" }), "kty is missing"},
		{"oct", JWK{Kty: "oct", Kid: "h", Alg: "HS256"}, `kty "oct" is not RSA, EC or OKP`},
		{"use enc", with(es, func(j *JWK) { j.Use = "enc" }), `use "enc" is not sig`},
		{"EC labelled RS256", with(es, func(j *JWK) { j.Alg = AlgRS256 }), "alg RS256 for a EC key, want ES256"},
		{"RSA labelled PS256", with(rs, func(j *JWK) { j.Alg = "PS256" }), "alg PS256 for a RSA key, want RS256"},
		{"RSA labelled HS256", with(rs, func(j *JWK) { j.Alg = "HS256" }), "alg HS256 for a RSA key, want RS256"},
		{"OKP labelled ES256", with(ed, func(j *JWK) { j.Alg = AlgES256 }), "alg ES256 for a OKP key, want EdDSA"},

		{"RSA of 1024 bits", small, "n is 1024 bits, want at least 2048"},
		{"RSA without n", with(rs, func(j *JWK) { j.N = "" }), "n is missing"},
		{"RSA without e", with(rs, func(j *JWK) { j.E = "" }), "e is missing"},
		{"RSA with an even exponent", with(rs, func(j *JWK) { j.E = "AQAA" }), "e is not an odd number"},
		{"RSA with exponent 1", with(rs, func(j *JWK) { j.E = "AQ" }), "e is not an odd number"},
		{"RSA with a huge exponent", with(rs, func(j *JWK) { j.E = "AQAAAAE" }), "e is not an odd number"},

		{"EC P-384", es384, `crv "P-384" is not P-256`},
		{"EC without crv", with(es, func(j *JWK) { j.Crv = "" }), `crv "" is not P-256`},
		{"EC secp256k1", with(es, func(j *JWK) { j.Crv = "secp256k1" }), `crv "secp256k1" is not P-256`},
		{"EC without x", with(es, func(j *JWK) { j.X = "" }), "x is missing"},
		{"EC without y", with(es, func(j *JWK) { j.Y = "" }), "y is missing"},
		{"EC with a short x", with(es, func(j *JWK) { j.X = "AAAA" }), "x is 3 bytes, want 32"},
		{"EC with a long y", with(es, func(j *JWK) { j.Y = es.Y + "AAAA" }), "y is 35 bytes, want 32"},
		{"EC point off the curve", with(es, func(j *JWK) { j.Y = j.X }), "x, y: "},

		{"OKP X25519", with(ed, func(j *JWK) { j.Crv = "X25519" }), `crv "X25519" is not Ed25519`},
		{"OKP Ed448", with(ed, func(j *JWK) { j.Crv = "Ed448" }), `crv "Ed448" is not Ed25519`},
		{"OKP without x", with(ed, func(j *JWK) { j.X = "" }), "x is missing"},
		{"OKP with a short x", with(ed, func(j *JWK) { j.X = ed.X[:40] }), "x is 30 bytes, want 32"},

		{"padding", with(ed, func(j *JWK) { j.X += "=" }), `x: byte 43 ("=") is not base64url without padding`},
		{"standard alphabet", with(es, func(j *JWK) { j.X = strings.NewReplacer("-", "+", "_", "/").Replace(j.X) + "+" }), "is not base64url without padding"},
		{"leading space", with(ed, func(j *JWK) { j.X = " " + j.X }), `x: byte 0 (" ") is not base64url without padding`},
		{"trailing newline", with(rs, func(j *JWK) { j.N += "\n" }), `n: byte 342 ("\n") is not base64url without padding`},
		{"line break inside", with(rs, func(j *JWK) { j.N = j.N[:64] + "\r\n" + j.N[64:] }), `n: byte 64 ("\r") is not base64url without padding`},
		{"non-ASCII", with(ed, func(j *JWK) { j.X = "é" + j.X[2:] }), `x: byte 0 ("\xc3") is not base64url`},
		{"non-canonical last character", with(ed, func(j *JWK) { j.X = lastBitSet(j.X) }), "x: not canonical base64url"},
		{"length 4n+1", with(rs, func(j *JWK) { j.E = "AQABA" }), "e: not canonical base64url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseJWK(tc.jwk)
			if err == nil {
				t.Fatalf("ParseJWK = %+v, want an error saying %q", k, tc.why)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("err = %q, want it to say %q", err, tc.why)
			}
		})
	}
	// The originals parse: every refusal above is of the change alone.
	for _, j := range []JWK{rs, es, ed} {
		if _, err := ParseJWK(j); err != nil {
			t.Errorf("%s: %v", j.Kid, err)
		}
	}
}

func TestDecodeBase64URL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []byte
		why  string
	}{
		{"", []byte{}, ""},
		{"AQAB", []byte{1, 0, 1}, ""},
		{"-_8", []byte{0xfb, 0xff}, ""},
		{"AQ", []byte{1}, ""},
		{"AR", nil, "not canonical base64url"},
		{"AQA", []byte{1, 0}, ""},
		{"AQB", nil, "not canonical base64url"},
		{"AQABA", nil, "not canonical base64url"},
		{"AQ==", nil, `byte 2 ("=") is not base64url without padding`},
		{"+/8", nil, `byte 0 ("+") is not base64url without padding`},
		{"AQ\nAB", nil, `byte 2 ("\n") is not base64url without padding`},
		{"AQ\x00", nil, `byte 2 ("\x00") is not base64url without padding`},
	}
	for _, tc := range cases {
		got, err := DecodeBase64URL(tc.in)
		if tc.why == "" {
			if err != nil || !cmp.Equal(got, tc.want) {
				t.Errorf("DecodeBase64URL(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || err.Error() != tc.why {
			t.Errorf("DecodeBase64URL(%q) = %v, %v; want the error %q", tc.in, got, err, tc.why)
		}
	}
}

// FuzzDecodeBase64URL: whatever DecodeBase64URL accepts has one spelling,
// the one encoding gives back.
func FuzzDecodeBase64URL(f *testing.F) {
	for _, s := range []string{"", "AQAB", "AQ", "AR", "AQ==", "A\nQAB", "-_8", "+/8", "AQABA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeBase64URL(s)
		if err != nil {
			return
		}
		if again := base64.RawURLEncoding.EncodeToString(b); again != s {
			t.Errorf("DecodeBase64URL(%q) accepted a spelling that encodes back as %q", s, again)
		}
	})
}
