package contract_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/impl"
)

// verifyWithJWKS verifies token the way a resource server would: with the
// public key the JWKS publishes under the token's kid (opts add to the
// parser's, such as the server's fake clock).
func verifyWithJWKS(t *testing.T, s *server, token string, opts ...jwt.ParserOption) jwt.MapClaims {
	t.Helper()
	resp, err := s.Client.GetJWKSWithResponse(context.Background())
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("jwks: %v", err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		for _, k := range resp.JSON200.Keys {
			if k.Kid != tok.Header["kid"] {
				continue
			}
			if string(k.Alg) != tok.Method.Alg() {
				t.Fatalf("token alg %s, JWKS alg %s", tok.Method.Alg(), k.Alg)
			}
			b := func(s *string) []byte {
				v, err := base64.RawURLEncoding.DecodeString(*s)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			switch k.Kty {
			case "EC":
				point := append(append([]byte{4}, b(k.X)...), b(k.Y)...)
				pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
				if err != nil {
					t.Fatalf("EC key %s: %v", k.Kid, err)
				}
				return pub, nil
			case "RSA":
				return &rsa.PublicKey{N: new(big.Int).SetBytes(b(k.N)), E: int(new(big.Int).SetBytes(b(k.E)).Int64())}, nil
			case "OKP":
				return ed25519.PublicKey(b(k.X)), nil
			}
		}
		t.Fatalf("kid %v not in the JWKS", tok.Header["kid"])
		return nil, nil
	}, append([]jwt.ParserOption{jwt.WithValidMethods([]string{"ES256", "RS256", "EdDSA"})}, opts...)...)
	if err != nil {
		t.Fatalf("token does not verify against the JWKS: %v", err)
	}
	return claims
}

// TestJWKSCacheControl: the JWKS always says how long it may be cached,
// --jwks-max-age (5 minutes by default), in whole seconds.
func TestJWKSCacheControl(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		maxAge time.Duration
		want   string
	}{
		{"default", 0, "max-age=300"},
		{"configured", 90 * time.Second, "max-age=90"},
		{"rounded down to whole seconds", 1500 * time.Millisecond, "max-age=1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServerWith(t, impl.Config{JWKSMaxAge: tc.maxAge})
			resp, err := s.Client.GetJWKSWithResponse(context.Background())
			if err != nil || resp.JSON200 == nil {
				t.Fatalf("jwks: %v", err)
			}
			if got := resp.HTTPResponse.Header.Values("Cache-Control"); len(got) != 1 || got[0] != tc.want {
				t.Errorf("Cache-Control %q, want %q", got, tc.want)
			}
		})
	}
}
