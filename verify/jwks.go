package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// maxDocument bounds a discovery, JWKS or introspection response body.
const maxDocument = 1 << 20

// fetchTimeout bounds one JWKS fetch, whatever the HTTP client's timeout.
const fetchTimeout = 30 * time.Second

// minRSABits is the smallest RSA modulus accepted in the JWKS.
const minRSABits = 2048

// publicKey is one usable key of the JWKS: the key decides the algorithm.
type publicKey struct {
	alg string
	key crypto.PublicKey
}

// fetch is one JWKS request in flight; done closes when it has ended.
type fetch struct {
	done chan struct{}
	err  error
}

// keySet is the cached JWKS. It is refreshed when due (the response's
// max-age, bounded by minRefetch and maxAge) and at once on an unknown kid,
// at most once per minRefetch, with one fetch in flight at a time: every
// caller that needs a fetch while one runs waits for that one.
type keySet struct {
	uri        string
	httpClient *http.Client
	algs       []string
	now        func() time.Time
	minRefetch time.Duration
	maxAge     time.Duration
	// ctx is the verifier's life: fetches run under it, not under the
	// request that asked for them, and wg counts their goroutines.
	ctx context.Context
	wg  *sync.WaitGroup

	mu          sync.RWMutex
	keys        map[string]publicKey
	lastAttempt time.Time // when the last fetch started
	due         time.Time // when the cache should be refreshed
	inflight    *fetch
	closed      bool
}

// lookup returns the cached key of kid.
func (ks *keySet) lookup(kid string) (publicKey, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	k, ok := ks.keys[kid]
	return k, ok
}

// key returns the key of kid, fetching the JWKS once when kid is unknown
// and the rate limit allows it.
func (ks *keySet) key(ctx context.Context, kid string) (publicKey, error) {
	if k, ok := ks.lookup(kid); ok {
		return k, nil
	}
	f := ks.refetch()
	if f == nil {
		// A fetch may have ended between the lookup above and refetch:
		// refetch saw none in flight and the rate limit closed, but that
		// fetch may have brought kid (it stores the keys before it clears
		// inflight, under the same lock).
		if k, ok := ks.lookup(kid); ok {
			return k, nil
		}
		return publicKey{}, fmt.Errorf("unknown kid %q", kid)
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return publicKey{}, ctx.Err()
	}
	if k, ok := ks.lookup(kid); ok {
		return k, nil
	}
	if f.err != nil {
		return publicKey{}, fmt.Errorf("unknown kid %q (refresh failed: %w)", kid, f.err)
	}
	return publicKey{}, fmt.Errorf("unknown kid %q", kid)
}

// refetch joins the fetch in flight or starts one, unless the last one
// started less than minRefetch ago or the set is closed: then it returns
// nil.
func (ks *keySet) refetch() *fetch {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.inflight != nil {
		return ks.inflight
	}
	now := ks.now()
	if ks.closed || now.Before(ks.lastAttempt.Add(ks.minRefetch)) {
		return nil
	}
	ks.lastAttempt = now
	f := &fetch{done: make(chan struct{})}
	ks.inflight = f
	ks.wg.Go(func() {
		keys, ttl, err := ks.get()
		ks.mu.Lock()
		if err == nil {
			ks.keys = keys
		} else {
			// The old keys stay; try again soon.
			ttl = ks.minRefetch
		}
		ks.due = ks.now().Add(ttl)
		ks.inflight = nil
		f.err = err
		ks.mu.Unlock()
		close(f.done)
	})
	return f
}

// untilDue is how long the background refresh waits: until the cache is
// due and the rate limit allows a fetch.
func (ks *keySet) untilDue() time.Duration {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	at := ks.due
	if limit := ks.lastAttempt.Add(ks.minRefetch); limit.After(at) {
		at = limit
	}
	return max(at.Sub(ks.now()), 0)
}

// close stops new fetches; the caller waits on wg for the one in flight.
func (ks *keySet) close() {
	ks.mu.Lock()
	ks.closed = true
	ks.mu.Unlock()
}

// refresh is the background loop: it fetches the JWKS whenever it is due,
// until ctx is done. after is time.After, or a test's clock.
func (ks *keySet) refresh(ctx context.Context, after func(time.Duration) <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-after(ks.untilDue()):
		}
		if ks.untilDue() > 0 {
			continue // an unknown kid refreshed it meanwhile
		}
		f := ks.refetch()
		if f == nil {
			return // closed
		}
		select {
		case <-ctx.Done():
			return
		case <-f.done:
		}
	}
}

// get fetches and parses the JWKS; ttl is how long it may be cached.
func (ks *keySet) get() (map[string]publicKey, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ks.ctx, fetchTimeout)
	defer cancel()
	body, header, err := getDocument(ctx, ks.httpClient, ks.uri)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch jwks: %w", err)
	}
	keys, err := parseJWKS(body, ks.algs)
	if err != nil {
		return nil, 0, fmt.Errorf("parse jwks: %w", err)
	}
	ttl := ks.maxAge
	if age, ok := cacheMaxAge(header); ok {
		ttl = min(max(age, ks.minRefetch), ks.maxAge)
	}
	return keys, ttl, nil
}

// getDocument GETs a JSON document and returns its body, at most
// maxDocument bytes, when the status is 200.
func getDocument(ctx context.Context, hc *http.Client, uri string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s: status %d", uri, resp.StatusCode)
	}
	return body, resp.Header, nil
}

// readBody reads a response body of at most maxDocument bytes.
func readBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxDocument {
		return nil, fmt.Errorf("response larger than %d bytes", maxDocument)
	}
	return body, nil
}

// cacheMaxAge reads the max-age of a Cache-Control header; no-store and
// no-cache count as 0.
func cacheMaxAge(h http.Header) (time.Duration, bool) {
	for _, field := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(field, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-store" || d == "no-cache":
				return 0, true
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(d, "max-age="), `"`), 10, 64)
				if err == nil && n >= 0 && n < 1<<31 {
					return time.Duration(n) * time.Second, true
				}
			}
		}
	}
	return 0, false
}

// parseJWKS parses a JWK Set. Keys without a kid, of another use, type,
// curve or algorithm than it supports and allows, or malformed, are
// skipped; a set with no usable key is an error.
func parseJWKS(body []byte, algs []string) (map[string]publicKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	keys := make(map[string]publicKey, len(doc.Keys))
	for _, raw := range doc.Keys {
		var jwk client.JWK
		if err := json.Unmarshal(raw, &jwk); err != nil || jwk.Kid == "" {
			continue
		}
		if _, dup := keys[jwk.Kid]; dup {
			continue // the first key of a kid wins
		}
		k, err := parseJWK(jwk)
		if err != nil || !slices.Contains(algs, k.alg) {
			continue
		}
		keys[jwk.Kid] = k
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable key")
	}
	return keys, nil
}

// parseJWK turns one JWK into a public key and its algorithm: RSA (RS256,
// at least 2048 bits), EC P-256 (ES256) or OKP Ed25519 (EdDSA). A key
// without alg gets the one its type and curve imply.
func parseJWK(j client.JWK) (publicKey, error) {
	if j.Use != "" && j.Use != "sig" {
		return publicKey{}, fmt.Errorf("use %q", j.Use)
	}
	alg := string(j.Alg)
	wantAlg := func(implied string) error {
		if alg == "" {
			alg = implied
		}
		if alg != implied {
			return fmt.Errorf("alg %q for a %s key", alg, j.Kty)
		}
		return nil
	}
	switch j.Kty {
	case "RSA":
		if err := wantAlg("RS256"); err != nil {
			return publicKey{}, err
		}
		n, err := b64(j.N, 0)
		if err != nil {
			return publicKey{}, err
		}
		e, err := b64(j.E, 0)
		if err != nil {
			return publicKey{}, err
		}
		mod := new(big.Int).SetBytes(n)
		exp := new(big.Int).SetBytes(e)
		if mod.BitLen() < minRSABits {
			return publicKey{}, fmt.Errorf("rsa key of %d bits", mod.BitLen())
		}
		if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 || exp.Bit(0) == 0 {
			return publicKey{}, errors.New("bad rsa exponent")
		}
		return publicKey{alg: alg, key: &rsa.PublicKey{N: mod, E: int(exp.Int64())}}, nil
	case "EC":
		if j.Crv == nil || *j.Crv != "P-256" {
			return publicKey{}, errors.New("unsupported curve")
		}
		if err := wantAlg("ES256"); err != nil {
			return publicKey{}, err
		}
		x, err := b64(j.X, 32)
		if err != nil {
			return publicKey{}, err
		}
		y, err := b64(j.Y, 32)
		if err != nil {
			return publicKey{}, err
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return publicKey{}, err
		}
		return publicKey{alg: alg, key: pub}, nil
	case "OKP":
		if j.Crv == nil || *j.Crv != "Ed25519" {
			return publicKey{}, errors.New("unsupported curve")
		}
		if err := wantAlg("EdDSA"); err != nil {
			return publicKey{}, err
		}
		x, err := b64(j.X, ed25519.PublicKeySize)
		if err != nil {
			return publicKey{}, err
		}
		return publicKey{alg: alg, key: ed25519.PublicKey(x)}, nil
	}
	return publicKey{}, fmt.Errorf("unsupported kty %q", j.Kty)
}

// b64 decodes a base64url member, strictly; size, when not 0, is the
// length it must have.
func b64(s *string, size int) ([]byte, error) {
	if s == nil || *s == "" {
		return nil, errors.New("missing member")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(*s)
	if err != nil {
		return nil, err
	}
	if size != 0 && len(b) != size {
		return nil, fmt.Errorf("member of %d bytes, want %d", len(b), size)
	}
	return b, nil
}
