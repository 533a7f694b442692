package auth

import "sync"

// verifiedTokensPerGeneration bounds the verified-token cache: two
// generations of this many tokens (about 1 KiB each with their claims).
const verifiedTokensPerGeneration = 4096

// verifiedTokens remembers the claims of access tokens whose signature
// this node has verified, keyed by the token's exact text, so a token
// presented again (clients send the same one with every request until it
// expires) costs a map lookup instead of an ECDSA or RSA verification and
// a JSON decoding. Only what cannot change for those bytes is remembered:
// the signature was good under a key of the keyring, and the claims are
// these. Everything that depends on the moment — exp, nbf and iat with
// the caller's leeway, the audience asked for, revocation — is checked on
// every use, as for a token never seen. The entries belong to one
// keyring: a reload (a key retired, or removed at once for a compromise)
// empties the cache, so a token stays accepted only while its key is.
//
// It holds two generations: when the current one is full it becomes the
// old one and the one before is dropped, so the tokens in use stay and
// the size stays bounded.
type verifiedTokens struct {
	mu       sync.RWMutex
	keys     *Keyring
	cur, old map[string]Claims
}

// get returns token's claims if it was verified under keys.
func (v *verifiedTokens) get(keys *Keyring, token string) (Claims, bool) {
	v.mu.RLock()
	if v.keys != keys {
		v.mu.RUnlock()
		return Claims{}, false
	}
	c, ok := v.cur[token]
	if ok {
		v.mu.RUnlock()
		return c, true
	}
	c, ok = v.old[token]
	v.mu.RUnlock()
	if ok {
		v.put(keys, token, c) // still in use: into the current generation
	}
	return c, ok
}

// put remembers that token, with claims c, verified under keys.
func (v *verifiedTokens) put(keys *Keyring, token string, c Claims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys != keys {
		v.keys, v.cur, v.old = keys, nil, nil
	}
	if v.cur == nil || len(v.cur) >= verifiedTokensPerGeneration {
		v.old, v.cur = v.cur, make(map[string]Claims, verifiedTokensPerGeneration/4)
	}
	v.cur[token] = c
}
