package jose

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
)

// parseOKP reads an OKP JWK (kty OKP: crv and x, RFC 8037); only Ed25519
// is accepted, and it verifies EdDSA.
func parseOKP(j JWK) (string, crypto.PublicKey, error) {
	if j.Crv != "Ed25519" {
		return "", nil, fmt.Errorf("crv %q is not Ed25519", j.Crv)
	}
	x, err := member("x", j.X, ed25519.PublicKeySize)
	if err != nil {
		return "", nil, err
	}
	return AlgEdDSA, ed25519.PublicKey(x), nil
}

// okpJWK is the JWK members of an Ed25519 public key.
func okpJWK(pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub)}
}
