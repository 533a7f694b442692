package jose

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
)

// minRSABits is the smallest RSA modulus accepted (NIST SP 800-131A).
const minRSABits = 2048

// parseRSA reads an RSA JWK (kty RSA: n and e); it verifies RS256.
func parseRSA(j JWK) (string, crypto.PublicKey, error) {
	n, err := member("n", j.N, 0)
	if err != nil {
		return "", nil, err
	}
	e, err := member("e", j.E, 0)
	if err != nil {
		return "", nil, err
	}
	mod, exp := new(big.Int).SetBytes(n), new(big.Int).SetBytes(e)
	if mod.BitLen() < minRSABits {
		return "", nil, fmt.Errorf("n is %d bits, want at least %d", mod.BitLen(), minRSABits)
	}
	// crypto/rsa takes an odd exponent from 3 to 2^31-1.
	if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 || exp.Bit(0) == 0 {
		return "", nil, errors.New("e is not an odd number from 3 to 2^31-1")
	}
	return AlgRS256, &rsa.PublicKey{N: mod, E: int(exp.Int64())}, nil
}

// rsaJWK is the JWK members of an RSA public key.
func rsaJWK(pub *rsa.PublicKey) JWK {
	return JWK{
		Kty: "RSA",
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}
