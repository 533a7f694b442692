package verify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/verify/internal/testissuer"
)

const testAudience = "api://orders"

// testKeys are generated once: RSA keys are slow to make under -race.
var testKeys = struct {
	once       sync.Once
	es, rs, ed *testissuer.Key
	es2, rogue *testissuer.Key
}{}

func keys(t testing.TB) (es, rs, ed, es2, rogue *testissuer.Key) {
	testKeys.once.Do(func() {
		testKeys.es = testissuer.NewKey(t, "ES256", "es-1")
		testKeys.rs = testissuer.NewKey(t, "RS256", "rs-1")
		testKeys.ed = testissuer.NewKey(t, "EdDSA", "ed-1")
		testKeys.es2 = testissuer.NewKey(t, "ES256", "es-2")
		testKeys.rogue = testissuer.NewKey(t, "ES256", "rogue")
	})
	k := &testKeys
	return k.es, k.rs, k.ed, k.es2, k.rogue
}

// fixture is an issuer publishing es-1, rs-1 and ed-1, and a verifier of
// it on a settable clock.
type fixture struct {
	iss             *testissuer.Server
	clock           *testclock.Clock
	es, rs, ed, es2 *testissuer.Key
	rogue           *testissuer.Key
	v               *Verifier
}

func newFixture(t *testing.T, change func(*Options)) *fixture {
	t.Helper()
	f := &fixture{clock: testclock.New()}
	f.es, f.rs, f.ed, f.es2, f.rogue = keys(t)
	f.iss = testissuer.New(t, f.es, f.rs, f.ed)
	o := Options{Audience: testAudience, Now: f.clock.Now}
	if change != nil {
		change(&o)
	}
	v, err := New(context.Background(), f.iss.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	f.v = v
	return f
}

// token signs the issuer's standard claims, changed by change, with k.
func (f *fixture) token(t *testing.T, k *testissuer.Key, change func(jwt.MapClaims)) string {
	t.Helper()
	c := f.iss.Claims(testAudience, f.clock.Now())
	if change != nil {
		change(c)
	}
	return k.Sign(t, c)
}

// craft assembles a compact JWS from a header, claims and a signature.
func craft(t *testing.T, header map[string]any, claims jwt.MapClaims, sig string) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "." + sig
}

// relabel rewrites a signed token's header, keeping payload and signature.
func relabel(t *testing.T, token string, change func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	change(h)
	nh, _ := json.Marshal(h)
	return base64.RawURLEncoding.EncodeToString(nh) + "." + parts[1] + "." + parts[2]
}

func TestVerifyValidTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	now := f.clock.Now()
	for _, k := range []*testissuer.Key{f.es, f.rs, f.ed} {
		t.Run(k.Alg, func(t *testing.T) {
			tok := f.token(t, k, func(c jwt.MapClaims) {
				c["sid"], c["amr"], c["email_verified"], c["tenant"] = "session-9", []string{"pwd", "otp"}, true, "acme"
			})
			c, err := f.v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			want := &Claims{
				RegisteredClaims: jwt.RegisteredClaims{
					Issuer: f.iss.URL, Subject: "user-1", Audience: jwt.ClaimStrings{testAudience},
					ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ID: "jti-1",
				},
				SubType: "user", Scope: "read write", Username: "alice", Email: "alice@example.com", EmailVerified: true,
				SessionID: "session-9", AMR: []string{"pwd", "otp"},
			}
			if diff := cmp.Diff(want, c, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Raw" }, cmp.Ignore())); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if c.Raw["tenant"] != "acme" || c.Raw["sub"] != "user-1" {
				t.Errorf("raw claims %v", c.Raw)
			}
			if diff := cmp.Diff([]string{"read", "write"}, c.Scopes()); diff != "" {
				t.Error(diff)
			}
			if !c.HasScopes("write", "read") || c.HasScopes("read", "admin") {
				t.Error("HasScopes")
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	now := f.clock.Now()
	rsaDER, err := x509.MarshalPKIXPublicKey(f.rs.Signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER})
	hs256 := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, f.iss.Claims(testAudience, now))
		tok.Header["kid"] = f.rs.Kid
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	set := func(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
	del := func(k string) func(jwt.MapClaims) { return func(c jwt.MapClaims) { delete(c, k) } }
	valid := f.token(t, f.es, nil)
	parts := strings.Split(valid, ".")
	cases := []struct {
		name, token, why string
	}{
		{"wrong iss", f.token(t, f.es, set("iss", f.iss.URL+"/")), "invalid issuer"},
		{"no iss", f.token(t, f.es, del("iss")), "iss claim is required"},
		{"wrong aud", f.token(t, f.es, set("aud", "api://other")), "invalid audience"},
		{"aud list without ours", f.token(t, f.es, set("aud", []string{"a", "b"})), "invalid audience"},
		{"no aud", f.token(t, f.es, del("aud")), "aud claim is required"},
		{"expired beyond leeway", f.token(t, f.es, set("exp", now.Add(-31*time.Second).Unix())), "token is expired"},
		{"no exp", f.token(t, f.es, del("exp")), "exp claim is required"},
		{"nbf in the future", f.token(t, f.es, set("nbf", now.Add(31*time.Second).Unix())), "not valid yet"},
		{"iat in the future", f.token(t, f.es, set("iat", now.Add(time.Minute).Unix())), "used before issued"},
		{"no sub", f.token(t, f.es, del("sub")), "no sub"},
		{"scope not a string", f.token(t, f.es, set("scope", []string{"read"})), "cannot unmarshal"},
		{"HS256 keyed with the RSA public key (PEM)", hs256(rsaPEM), "signing method HS256 is invalid"},
		{"HS256 keyed with the RSA public key (DER)", hs256(rsaDER), "signing method HS256 is invalid"},
		{"alg none", craft(t, map[string]any{"alg": "none", "kid": f.es.Kid}, f.iss.Claims(testAudience, now), "c2ln"), "signing method none is invalid"},
		{"alg none, unsigned", craft(t, map[string]any{"alg": "none", "kid": f.es.Kid}, f.iss.Claims(testAudience, now), ""), "not a compact JWS: signature is empty"},
		{"line break in the signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], "not a compact JWS: signature: byte 10"},
		{"RS256 token relabelled ES256", relabel(t, f.token(t, f.rs, nil), func(h map[string]any) { h["alg"] = "ES256" }), "alg ES256 does not match the key's RS256"},
		{"RS256 token relabelled to the ES256 key", relabel(t, f.token(t, f.rs, nil), func(h map[string]any) { h["kid"] = f.es.Kid }), "alg RS256 does not match the key's ES256"},
		{"ES256 token relabelled to the EdDSA key", relabel(t, valid, func(h map[string]any) { h["kid"], h["alg"] = f.ed.Kid, "EdDSA" }), "ed25519: verification error"},
		{"no kid", relabel(t, valid, func(h map[string]any) { delete(h, "kid") }), "no kid"},
		{"embedded jwk", relabel(t, f.rogue.Sign(t, f.iss.Claims(testAudience, now)), func(h map[string]any) { h["jwk"] = f.rogue.JWK() }), "unknown kid \"rogue\""},
		{"signed by an unknown key under a known kid", relabel(t, f.rogue.Sign(t, f.iss.Claims(testAudience, now)), func(h map[string]any) { h["kid"] = f.es.Kid }), "verification error"},
		{"tampered payload", parts[0] + "." + strings.Split(f.token(t, f.rogue, set("sub", "admin")), ".")[1] + "." + parts[2], "verification error"},
		{"padded signature", valid + "=", "not a compact JWS"},
		{"JWE shape", valid + ".x.y", "not a compact JWS"},
		{"JSON serialization", `{"payload":"` + parts[1] + `"}`, "not a compact JWS"},
		{"empty", "", "not a compact JWS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.v.Verify(context.Background(), tc.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", c, err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("err = %v, want it to say %q", err, tc.why)
			}
		})
	}
	if _, err := f.v.Verify(context.Background(), valid); err != nil {
		t.Errorf("the untampered token: %v", err)
	}
}

func TestLeeway(t *testing.T) {
	t.Parallel()
	set := func(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
	cases := []struct {
		name   string
		leeway time.Duration
		claim  string
		offset time.Duration
		ok     bool
	}{
		{"exp passed within the default leeway", 0, "exp", -29 * time.Second, true},
		{"exp passed beyond it", 0, "exp", -31 * time.Second, false},
		{"nbf ahead within it", 0, "nbf", 29 * time.Second, true},
		{"iat ahead within it", 0, "iat", 29 * time.Second, true},
		{"a longer leeway", 2 * time.Minute, "exp", -time.Minute, true},
		{"no leeway: exp passed a second ago", -1, "exp", -time.Second, false},
		{"no leeway: nbf a second ahead", -1, "nbf", time.Second, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(o *Options) { o.Leeway = tc.leeway })
			_, err := f.v.Verify(context.Background(), f.token(t, f.es, set(tc.claim, f.clock.Now().Add(tc.offset).Unix())))
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestPinnedAlgorithms(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.Algorithms = []string{"RS256"} })
	if _, err := f.v.Verify(context.Background(), f.token(t, f.rs, nil)); err != nil {
		t.Errorf("RS256: %v", err)
	}
	for _, k := range []*testissuer.Key{f.es, f.ed} {
		if _, err := f.v.Verify(context.Background(), f.token(t, k, nil)); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s accepted with only RS256 pinned: %v", k.Alg, err)
		}
	}
	// The pinned-out keys are not even cached: no refetch tried for them.
	if n := f.iss.JWKSFetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches, want 1", n)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	es, _, _, _, _ := keys(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		setup func(*testissuer.Server)
		url   func(*testissuer.Server) string
		opts  Options
		want  string
	}{
		{name: "no audience", opts: Options{}, want: "Audience is required"},
		{name: "unsupported algorithm", opts: Options{Audience: "a", Algorithms: []string{"HS256"}}, want: "unsupported algorithm"},
		{name: "not a URL", url: func(*testissuer.Server) string { return "gatehouse" }, opts: Options{Audience: "a"}, want: "not an http"},
		{name: "issuer differs", setup: func(s *testissuer.Server) { s.SetIssuer("https://elsewhere.example") }, opts: Options{Audience: "a"}, want: "discovery: issuer"},
		{name: "issuer differs by a slash", url: func(s *testissuer.Server) string { return s.URL + "/" }, opts: Options{Audience: "a"}, want: "discovery: issuer"},
		{name: "no jwks_uri", setup: func(s *testissuer.Server) { s.OmitEndpoints(true, false) }, opts: Options{Audience: "a"}, want: "jwks_uri"},
		{name: "JWKS down", setup: func(s *testissuer.Server) { s.SetFailing(true) }, opts: Options{Audience: "a"}, want: "status 500"},
		{name: "no usable key", setup: func(s *testissuer.Server) { s.PublishRaw(map[string]any{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}) }, opts: Options{Audience: "a"}, want: "no usable key"},
		{name: "introspection without an endpoint", setup: func(s *testissuer.Server) { s.OmitEndpoints(false, true) },
			opts: Options{Audience: "a", Introspection: &Credentials{BearerToken: "t"}}, want: "no introspection_endpoint"},
		{name: "two introspection credentials", opts: Options{Audience: "a", Introspection: &Credentials{BearerToken: "t", APIKey: "k"}}, want: "exactly one"},
		{name: "client id without secret", opts: Options{Audience: "a", Introspection: &Credentials{ClientID: "c"}}, want: "exactly one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testissuer.New(t, es)
			if tc.setup != nil {
				tc.setup(s)
			}
			u := s.URL
			if tc.url != nil {
				u = tc.url(s)
			}
			v, err := New(ctx, u, tc.opts)
			if err == nil {
				v.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}
