// Package jose holds gatehouse's JOSE rules, each once: JSON Web Keys
// (RFC 7517, 7518, 8037; one file per key type), the compact JWS form
// (RFC 7515) every token and client assertion is checked against before
// golang-jwt parses it, the claims of gatehouse's access tokens, and the
// hash of the random secrets gatehouse stores. auth/ and verify/ both use
// it; it imports nothing of gatehouse.
package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// The signature algorithms gatehouse signs and verifies with.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
	AlgEdDSA = "EdDSA"
)

// JWK is one public key as JSON (RFC 7517 section 4): EC keys set Crv, X
// and Y; RSA keys N and E; OKP keys Crv and X. Binary members are base64url
// without padding.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// Key is a usable public key: what a JWK parses to. Its Alg is the one
// algorithm it verifies; a token's header never decides it.
type Key struct {
	Kid    string
	Alg    string
	Public crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// ParseJWK turns j into a Key: RSA (RS256, at least 2048 bits), EC P-256
// (ES256) or OKP Ed25519 (EdDSA). A JWK without alg gets the one its type
// and curve imply; one with another alg, or with a use other than sig, is
// refused. Binary members are decoded strictly (DecodeBase64URL). The error
// names the member at fault.
func ParseJWK(j JWK) (Key, error) {
	if j.Use != "" && j.Use != "sig" {
		return Key{}, fmt.Errorf("use %q is not sig", j.Use)
	}
	var (
		alg string
		pub crypto.PublicKey
		err error
	)
	switch j.Kty {
	case "RSA":
		alg, pub, err = parseRSA(j)
	case "EC":
		alg, pub, err = parseEC(j)
	case "OKP":
		alg, pub, err = parseOKP(j)
	case "":
		return Key{}, errors.New("kty is missing")
	default:
		return Key{}, fmt.Errorf("kty %q is not RSA, EC or OKP", j.Kty)
	}
	if err != nil {
		return Key{}, err
	}
	if j.Alg != "" && j.Alg != alg {
		return Key{}, fmt.Errorf("alg %s for a %s key, want %s", j.Alg, j.Kty, alg)
	}
	return Key{Kid: j.Kid, Alg: alg, Public: pub}, nil
}

// ParseJWKS reads a JWK Set (RFC 7517 section 5) as a relying party does:
// a key without a kid, of a kid seen before (the first wins), malformed,
// that ParseJWK refuses, or of an algorithm not in algs, is skipped (section
// 5 asks for unknown key types to be ignored, so a set can carry keys for
// others); a set with no usable key is an error.
func ParseJWKS(body []byte, algs []string) (map[string]Key, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	keys := make(map[string]Key, len(doc.Keys))
	for _, raw := range doc.Keys {
		var j JWK
		if err := json.Unmarshal(raw, &j); err != nil || j.Kid == "" {
			continue
		}
		if _, dup := keys[j.Kid]; dup {
			continue
		}
		k, err := ParseJWK(j)
		if err != nil || !slices.Contains(algs, k.Alg) {
			continue
		}
		keys[j.Kid] = k
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable key")
	}
	return keys, nil
}

// PublicJWK is the JWK of a public key of gatehouse's own, to publish:
// use sig, the given kid and alg, and the members of its type.
func PublicJWK(kid, alg string, pub crypto.PublicKey) (JWK, error) {
	var (
		j   JWK
		err error
	)
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		j = rsaJWK(pub)
	case *ecdsa.PublicKey:
		j, err = ecJWK(pub)
	case ed25519.PublicKey:
		j = okpJWK(pub)
	default:
		err = fmt.Errorf("no JWK for a %T", pub)
	}
	if err != nil {
		return JWK{}, err
	}
	j.Kid, j.Alg, j.Use = kid, alg, "sig"
	return j, nil
}

// member decodes the binary member name of a JWK; size, when not 0, is the
// length it must have.
func member(name, value string, size int) ([]byte, error) {
	if value == "" {
		return nil, fmt.Errorf("%s is missing", name)
	}
	b, err := DecodeBase64URL(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if size != 0 && len(b) != size {
		return nil, fmt.Errorf("%s is %d bytes, want %d", name, len(b), size)
	}
	return b, nil
}
