package contract_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// TestJoseAssertionSpelling: a client assertion (private_key_jwt at POST
// /oauth/token) is a compact JWS in its one spelling. Re-spelled with a
// character outside base64url, with padding, or with an unused bit of its
// signature set (the same signature bytes to a lenient decoder, so its
// signature still verifies), it is 401 invalid_client; the same assertion
// spelled canonically gets a token.
func TestJoseAssertionSpelling(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	app := s.newConfidentialApp(t, admin, "spelling", "reports:read")
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	if r, err := s.Client.PutApplicationJWKSWithResponse(ctx, uuid.MustParse(app.ID), client.ClientJWKSet{Keys: []client.ClientJWK{jwkOf("k1", pub)}}, bearer(admin)); err != nil || r.StatusCode() != 200 {
		t.Fatalf("put jwks: %v %s", err, r.Body)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// An Ed25519 signature is 64 bytes: 86 characters, the last with four
	// unused bits.
	lastBitSet := func(a string) string {
		i := strings.IndexByte(alphabet, a[len(a)-1])
		return a[:len(a)-1] + string(alphabet[i|1])
	}
	sigLineBreak := func(a string) string {
		dot := strings.LastIndexByte(a, '.')
		return a[:dot+40] + "\n" + a[dot+40:]
	}
	respell := []struct {
		name   string
		change func(string) string
	}{
		{"line break in the signature", sigLineBreak},
		{"carriage return in the signature", func(a string) string { return strings.Replace(sigLineBreak(a), "\n", "\r", 1) }},
		{"padded signature", func(a string) string { return a + "==" }},
		{"unused bit of the signature set", lastBitSet},
		{"standard alphabet", func(a string) string { return strings.NewReplacer("-", "+", "_", "/").Replace(a) }},
	}
	for _, tc := range respell {
		t.Run(tc.name, func(t *testing.T) {
			a := assertion(t, key, "k1", app.ID, s.URL+"/oauth/token", "spelling-"+tc.name, time.Minute)
			for a == tc.change(a) { // the standard alphabet needs a - or _ to change
				a = assertion(t, key, "k1", app.ID, s.URL+"/oauth/token", "spelling-"+tc.name+uuid.NewString(), time.Minute)
			}
			r := s.assertionGrant(t, tc.change(a), nil)
			oauthError(t, r.StatusCode(), r.Body, r.JSON401, 401, client.OAuthErrorErrorInvalidClient)
			// Spelled canonically, the same assertion (its jti unused) is good.
			if r := s.assertionGrant(t, a, nil); r.JSON200 == nil {
				t.Errorf("the canonical spelling: %d %s", r.StatusCode(), r.Body)
			}
		})
	}
}
