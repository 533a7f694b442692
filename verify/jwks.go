package verify

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
)

// fetchTimeout bounds one JWKS fetch, whatever the HTTP client's timeout.
const fetchTimeout = 30 * time.Second

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
	keys        map[string]jose.Key
	lastAttempt time.Time // when the last fetch started
	due         time.Time // when the cache should be refreshed
	inflight    *fetch
	closed      bool
}

// lookup returns the cached key of kid.
func (ks *keySet) lookup(kid string) (jose.Key, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	k, ok := ks.keys[kid]
	return k, ok
}

// key returns the key of kid, fetching the JWKS once when kid is unknown
// and the rate limit allows it.
func (ks *keySet) key(ctx context.Context, kid string) (jose.Key, error) {
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
		return jose.Key{}, fmt.Errorf("unknown kid %q", kid)
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return jose.Key{}, ctx.Err()
	}
	if k, ok := ks.lookup(kid); ok {
		return k, nil
	}
	if f.err != nil {
		return jose.Key{}, fmt.Errorf("unknown kid %q (refresh failed: %w)", kid, f.err)
	}
	return jose.Key{}, fmt.Errorf("unknown kid %q", kid)
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
func (ks *keySet) get() (map[string]jose.Key, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ks.ctx, fetchTimeout)
	defer cancel()
	body, header, err := getDocument(ctx, ks.httpClient, ks.uri)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch jwks: %w", err)
	}
	keys, err := jose.ParseJWKS(body, ks.algs)
	if err != nil {
		return nil, 0, fmt.Errorf("parse jwks: %w", err)
	}
	ttl := ks.maxAge
	if age, ok := cacheMaxAge(header); ok {
		ttl = min(max(age, ks.minRefetch), ks.maxAge)
	}
	return keys, ttl, nil
}
