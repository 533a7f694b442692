package auth

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// The JWS algorithms gatehouse signs with.
const (
	AlgES256 = jose.AlgES256 // ECDSA on P-256 with SHA-256
	AlgRS256 = jose.AlgRS256 // RSASSA-PKCS1-v1_5 with SHA-256
	AlgEdDSA = jose.AlgEdDSA // Ed25519
)

// rsaBits is the size of generated RSA keys and the least accepted.
const rsaBits = 2048

// GenerateSigningKey makes a new key for alg (ES256: P-256; RS256: 2048-bit;
// EdDSA: Ed25519) with a random kid (16 random bytes, base64url without
// padding), PKCS#8 DER encoded, created at now and active from now.
func GenerateSigningKey(alg string, now time.Time) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return store.SigningKey{}, fmt.Errorf("generate signing key: unsupported algorithm %q", alg)
	}
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("marshal %s key: %w", alg, err)
	}
	kid := make([]byte, 16)
	if _, err := rand.Read(kid); err != nil {
		return store.SigningKey{}, fmt.Errorf("generate kid: %w", err)
	}
	return store.SigningKey{
		KID:        base64.RawURLEncoding.EncodeToString(kid),
		Alg:        alg,
		PrivateKey: der,
		CreatedAt:  now,
		ActiveFrom: now,
	}, nil
}

// Keyring holds parsed signing keys. Immutable once built; build a new one to change it.
type Keyring struct {
	byKID  map[string]*ringKey
	newest []*ringKey // newest first
	algs   []string
}

// ringKey is one parsed key of a Keyring.
type ringKey struct {
	kid        string
	alg        string
	method     jwt.SigningMethod
	signer     crypto.Signer
	createdAt  time.Time
	activeFrom time.Time
	retiredAt  *time.Time
	jwk        JWK
}

// signsAt reports whether a key active from activeFrom and retired at
// retiredAt (nil: not retired) may sign at now: from activeFrom on, until
// its retirement.
func signsAt(activeFrom time.Time, retiredAt *time.Time, now time.Time) bool {
	return !activeFrom.After(now) && (retiredAt == nil || now.Before(*retiredAt))
}

// NewKeyring parses keys (PKCS#8) and indexes them by kid; an unparsable
// key, an alg/key-type mismatch, an empty or duplicate kid is an error.
func NewKeyring(keys []store.SigningKey) (*Keyring, error) {
	k := &Keyring{byKID: make(map[string]*ringKey, len(keys))}
	for _, sk := range keys {
		if sk.KID == "" {
			return nil, errors.New("signing key with empty kid")
		}
		if _, dup := k.byKID[sk.KID]; dup {
			return nil, fmt.Errorf("duplicate signing key kid %q", sk.KID)
		}
		rk, err := parseSigningKey(sk)
		if err != nil {
			return nil, fmt.Errorf("signing key %q: %w", sk.KID, err)
		}
		k.byKID[sk.KID] = rk
		k.newest = append(k.newest, rk)
		if !slices.Contains(k.algs, rk.alg) {
			k.algs = append(k.algs, rk.alg)
		}
	}
	slices.SortStableFunc(k.newest, func(a, b *ringKey) int {
		return cmp.Or(b.createdAt.Compare(a.createdAt), cmp.Compare(a.kid, b.kid))
	})
	slices.Sort(k.algs)
	return k, nil
}

// parseSigningKey parses sk's PKCS#8 key, checks it is of sk.Alg's type and
// derives its JWK.
func parseSigningKey(sk store.SigningKey) (*ringKey, error) {
	parsed, err := x509.ParsePKCS8PrivateKey(sk.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8: %w", err)
	}
	rk := &ringKey{
		kid:        sk.KID,
		alg:        sk.Alg,
		createdAt:  sk.CreatedAt,
		activeFrom: sk.ActiveFrom,
		retiredAt:  sk.RetiredAt,
	}
	switch sk.Alg {
	case AlgES256:
		priv, ok := parsed.(*ecdsa.PrivateKey)
		if !ok || priv.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s needs a P-256 ECDSA key, got %s", sk.Alg, keyType(parsed))
		}
		rk.method, rk.signer = jwt.SigningMethodES256, priv
	case AlgRS256:
		priv, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s needs an RSA key, got %s", sk.Alg, keyType(parsed))
		}
		if bits := priv.N.BitLen(); bits < rsaBits {
			return nil, fmt.Errorf("%s key has %d bits, want at least %d", sk.Alg, bits, rsaBits)
		}
		rk.method, rk.signer = jwt.SigningMethodRS256, priv
	case AlgEdDSA:
		priv, ok := parsed.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s needs an Ed25519 key, got %s", sk.Alg, keyType(parsed))
		}
		rk.method, rk.signer = jwt.SigningMethodEdDSA, priv
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", sk.Alg)
	}
	if rk.jwk, err = jose.PublicJWK(sk.KID, sk.Alg, rk.signer.Public()); err != nil {
		return nil, err
	}
	return rk, nil
}

// keyType names a parsed private key's type for error messages.
func keyType(k any) string {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PrivateKey:
		return "RSA"
	case ed25519.PrivateKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", k)
	}
}

// Active returns the key of alg that signs at now: of the keys active
// from now or earlier and not yet retired, the one that became active
// last (the newest on a tie). It gives its kid, the jwt.SigningMethod and
// the private key; ok is false when there is none. A staged key takes
// over at its activeFrom on every node that has loaded it, with no reload.
func (k *Keyring) Active(alg string, now time.Time) (kid string, method jwt.SigningMethod, key crypto.Signer, ok bool) {
	var best *ringKey
	for _, rk := range k.newest {
		if rk.alg == alg && signsAt(rk.activeFrom, rk.retiredAt, now) && (best == nil || rk.activeFrom.After(best.activeFrom)) {
			best = rk
		}
	}
	if best == nil {
		return "", nil, nil, false
	}
	return best.kid, best.method, best.signer, true
}

// Public returns the alg and public key (*ecdsa.PublicKey, *rsa.PublicKey or
// ed25519.PublicKey) of any known kid: retired, active or not yet active.
// A staged key verifies before its activeFrom because another node whose
// clock runs ahead may already sign with it; only gatehouse holds its
// private key, so such a token is genuine.
func (k *Keyring) Public(kid string) (alg string, pub crypto.PublicKey, ok bool) {
	rk, ok := k.byKID[kid]
	if !ok {
		return "", nil, false
	}
	return rk.alg, rk.signer.Public(), true
}

// Algs lists the algorithms of all keys, sorted, no duplicates.
func (k *Keyring) Algs() []string {
	return slices.Clone(k.algs)
}

// JWKS returns every key's public part (RFC 7517), retired and staged keys
// included, sorted newest first.
func (k *Keyring) JWKS() JWKSet {
	set := JWKSet{Keys: make([]JWK, 0, len(k.newest))}
	for _, rk := range k.newest {
		set.Keys = append(set.Keys, rk.jwk)
	}
	return set
}

// JWKSet is a JSON Web Key Set (RFC 7517 section 5).
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// JWK is one public key (RFC 7517): of gatehouse's signing keys in its
// JWKS, and of an application's JWK Set for private_key_jwt.
type JWK = jose.JWK
