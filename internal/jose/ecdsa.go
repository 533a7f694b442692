package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
)

// p256Size is the length of a P-256 coordinate.
const p256Size = 32

// parseEC reads an EC JWK (kty EC: crv, x and y); only P-256 is accepted,
// and it verifies ES256.
func parseEC(j JWK) (string, crypto.PublicKey, error) {
	if j.Crv != "P-256" {
		return "", nil, fmt.Errorf("crv %q is not P-256", j.Crv)
	}
	x, err := member("x", j.X, p256Size)
	if err != nil {
		return "", nil, err
	}
	y, err := member("y", j.Y, p256Size)
	if err != nil {
		return "", nil, err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return "", nil, fmt.Errorf("x, y: %w", err)
	}
	return AlgES256, pub, nil
}

// ecJWK is the JWK members of a P-256 public key.
func ecJWK(pub *ecdsa.PublicKey) (JWK, error) {
	if pub.Curve != elliptic.P256() {
		return JWK{}, fmt.Errorf("ecdsa key on %s, want P-256", pub.Curve.Params().Name)
	}
	pt, err := pub.Bytes() // 0x04 || x || y
	if err != nil {
		return JWK{}, fmt.Errorf("encode public key: %w", err)
	}
	return JWK{
		Kty: "EC", Crv: "P-256",
		X: base64.RawURLEncoding.EncodeToString(pt[1 : 1+p256Size]),
		Y: base64.RawURLEncoding.EncodeToString(pt[1+p256Size:]),
	}, nil
}
