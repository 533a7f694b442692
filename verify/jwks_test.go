package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/verify/internal/testissuer"
)

// verifyAll verifies n tokens at once and returns how many were accepted;
// token(i) is the i-th.
func verifyAll(t *testing.T, v *Verifier, n int, token func(i int) string) int {
	t.Helper()
	toks := make([]string, n)
	for i := range toks {
		toks[i] = token(i)
	}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for _, tok := range toks {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), tok)
			if err != nil && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("not an invalid-token error: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			}
		})
	}
	wg.Wait()
	return ok
}

// verifyAllHeld is verifyAll while the issuer holds the JWKS response
// until a fetch has reached it, so that the callers pile up on that fetch.
func verifyAllHeld(t *testing.T, f *fixture, n int, token func(i int) string) int {
	t.Helper()
	entered, release := f.iss.Hold()
	defer release()
	done := make(chan int)
	go func() { done <- verifyAll(t, f.v, n, token) }()
	<-entered
	release()
	return <-done
}

func wantFetches(t *testing.T, s *testissuer.Server, want int64, when string) {
	t.Helper()
	if got := s.JWKSFetches.Load(); got != want {
		t.Errorf("%s: %d JWKS fetches, want %d", when, got, want)
	}
}

// A flood of forged kids costs the issuer one fetch per
// MinRefetchInterval, however many tokens and however concurrent.
func TestUnknownKidFloodFetchesOncePerInterval(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	forged := func(i int) string {
		return relabel(t, f.token(t, f.rogue, nil), func(h map[string]any) { h["kid"] = fmt.Sprintf("forged-%d", i) })
	}
	wantFetches(t, f.iss, 1, "after New")

	// Within MinRefetchInterval of New's fetch, an unknown kid fetches nothing.
	if n := verifyAll(t, f.v, 100, forged); n != 0 {
		t.Fatalf("%d forged tokens accepted", n)
	}
	wantFetches(t, f.iss, 1, "100 forged kids right after New")

	// Past it, 100 concurrent forged kids fetch once, while the fetch is
	// held open so that they pile up on it.
	f.clock.Advance(DefaultMinRefetchInterval)
	if n := verifyAllHeld(t, f, 100, forged); n != 0 {
		t.Fatalf("%d forged tokens accepted", n)
	}
	wantFetches(t, f.iss, 2, "100 concurrent forged kids")

	f.clock.Advance(DefaultMinRefetchInterval - time.Second)
	verifyAll(t, f.v, 10, forged)
	wantFetches(t, f.iss, 2, "9 s later")

	f.clock.Advance(time.Second)
	verifyAll(t, f.v, 10, forged)
	wantFetches(t, f.iss, 3, "10 s later")

	// A known kid never fetches.
	f.clock.Advance(time.Minute)
	if n := verifyAll(t, f.v, 10, func(int) string { return f.token(t, f.es, nil) }); n != 10 {
		t.Errorf("%d of 10 valid tokens accepted", n)
	}
	wantFetches(t, f.iss, 3, "known kids")
}

// A key added to the JWKS (a rotation) is picked up by the first token
// that names it, in one fetch that concurrent callers wait for.
func TestRotationPickedUpOnUnknownKid(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.iss.Publish(f.es, f.es2)
	rotated := func(int) string { return f.token(t, f.es2, nil) }

	f.clock.Advance(DefaultMinRefetchInterval)
	if n := verifyAllHeld(t, f, 100, rotated); n != 100 {
		t.Errorf("%d of 100 tokens of the new key accepted", n)
	}
	wantFetches(t, f.iss, 2, "after the rotation")

	// A key that left the JWKS goes at the next fetch.
	f.iss.Publish(f.es2)
	f.clock.Advance(DefaultMinRefetchInterval)
	if verifyAll(t, f.v, 1, func(int) string { return f.token(t, f.ed, nil) }) != 0 {
		t.Error("a token of a withdrawn key accepted")
	}
	wantFetches(t, f.iss, 3, "after the withdrawal")
}

func TestFailedFetchKeepsOldKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.iss.Publish(f.es2)
	f.iss.SetFailing(true)
	f.clock.Advance(DefaultMinRefetchInterval)
	_, err := f.v.Verify(context.Background(), f.token(t, f.es2, nil))
	if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "refresh failed") || !strings.Contains(err.Error(), "status 500") {
		t.Errorf("new kid while the JWKS is down: %v", err)
	}
	wantFetches(t, f.iss, 2, "the failed fetch")
	for _, k := range []*testissuer.Key{f.es, f.rs, f.ed} {
		if _, err := f.v.Verify(context.Background(), f.token(t, k, nil)); err != nil {
			t.Errorf("old key %s lost after a failed fetch: %v", k.Kid, err)
		}
	}

	f.iss.SetFailing(false)
	f.clock.Advance(DefaultMinRefetchInterval)
	if _, err := f.v.Verify(context.Background(), f.token(t, f.es2, nil)); err != nil {
		t.Errorf("new kid once the JWKS is back: %v", err)
	}
	wantFetches(t, f.iss, 3, "the JWKS back")
}

// fakeTimer drives the background refresh: every wait it asks for is sent
// on waits, and it ends when the test sends on tick.
type fakeTimer struct {
	waits chan time.Duration
	tick  chan time.Time
}

func newFakeTimer() *fakeTimer {
	return &fakeTimer{waits: make(chan time.Duration, 1), tick: make(chan time.Time)}
}

func (ft *fakeTimer) after(d time.Duration) <-chan time.Time {
	ft.waits <- d
	return ft.tick
}

func (ft *fakeTimer) wantWait(t *testing.T, want time.Duration, when string) {
	t.Helper()
	if got := <-ft.waits; got != want {
		t.Errorf("%s: background refresh waits %v, want %v", when, got, want)
	}
}

// The background refresh runs when max-age says, bounded by
// MinRefetchInterval and RefreshInterval; a failure retries after
// MinRefetchInterval and keeps the keys; an unknown-kid fetch postpones it.
func TestBackgroundRefreshHonoursMaxAge(t *testing.T) {
	t.Parallel()
	ft := newFakeTimer()
	es, _, _, es2, _ := keys(t)
	iss := testissuer.New(t, es)
	iss.SetMaxAge(60)
	clock := testclock.New()
	v, err := New(context.Background(), iss.URL, Options{Audience: testAudience, Now: clock.Now, after: ft.after})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ft.wantWait(t, time.Minute, "max-age 60")

	// When it is due, it fetches, and a new key is known with no further fetch.
	iss.Publish(es, es2)
	clock.Advance(time.Minute)
	ft.tick <- time.Time{}
	ft.wantWait(t, time.Minute, "after the refresh")
	wantFetches(t, iss, 2, "the background refresh")
	if _, err := v.Verify(context.Background(), es2.Sign(t, iss.Claims(testAudience, clock.Now()))); err != nil {
		t.Errorf("key of the background refresh: %v", err)
	}
	wantFetches(t, iss, 2, "a key the refresh fetched")

	// A tick before it is due fetches nothing.
	clock.Advance(30 * time.Second)
	ft.tick <- time.Time{}
	ft.wantWait(t, 30*time.Second, "an early tick")
	wantFetches(t, iss, 2, "an early tick")

	steps := []struct {
		name    string
		maxAge  int
		failing bool
		next    time.Duration
	}{
		{"max-age below the minimum", 1, false, DefaultMinRefetchInterval},
		{"max-age above RefreshInterval", 100000, false, DefaultRefreshInterval},
		{"no Cache-Control", -1, false, DefaultRefreshInterval},
		{"max-age 0", 0, false, DefaultMinRefetchInterval},
		{"a failed fetch", 60, true, DefaultMinRefetchInterval},
		{"back", 60, false, time.Minute},
	}
	fetches := iss.JWKSFetches.Load()
	for _, st := range steps {
		iss.SetMaxAge(st.maxAge)
		iss.SetFailing(st.failing)
		clock.Advance(time.Hour)
		ft.tick <- time.Time{}
		ft.wantWait(t, st.next, st.name)
		fetches++
		wantFetches(t, iss, fetches, st.name)
		if _, err := v.Verify(context.Background(), es2.Sign(t, iss.Claims(testAudience, clock.Now()))); err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
	}

	// An unknown kid fetched meanwhile: the tick finds it not due.
	clock.Advance(DefaultMinRefetchInterval)
	v.Verify(context.Background(), "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.e30.c2ln")
	fetches++
	wantFetches(t, iss, fetches, "an unknown kid")
	ft.tick <- time.Time{}
	ft.wantWait(t, time.Minute, "the tick after an unknown kid's fetch")
	wantFetches(t, iss, fetches, "the tick after an unknown kid's fetch")
}

func TestJWKSSkipsUnusableKeys(t *testing.T) {
	t.Parallel()
	es, rs, ed, _, _ := keys(t)
	with := func(k *testissuer.Key, change map[string]any) map[string]any {
		j := k.JWK()
		for name, val := range change {
			if val == nil {
				delete(j, name)
			} else {
				j[name] = val
			}
		}
		return j
	}
	n, err := base64.RawURLEncoding.DecodeString(rs.JWK()["n"].(string))
	if err != nil {
		t.Fatal(err)
	}
	smallRSA := base64.RawURLEncoding.EncodeToString(n[:128]) // 1024 bits
	cases := []struct {
		name string
		jwk  map[string]any
		kept bool
	}{
		{"ES256", es.JWK(), true},
		{"RS256", rs.JWK(), true},
		{"EdDSA", ed.JWK(), true},
		{"EC without alg", with(es, map[string]any{"alg": nil}), true},
		{"RSA without alg or use", with(rs, map[string]any{"alg": nil, "use": nil}), true},
		{"no kid", with(es, map[string]any{"kid": nil}), false},
		{"kid not a string", with(es, map[string]any{"kid": 7}), false},
		{"use enc", with(es, map[string]any{"use": "enc"}), false},
		{"EC key labelled RS256", with(es, map[string]any{"alg": "RS256"}), false},
		{"RSA key labelled PS256", with(rs, map[string]any{"alg": "PS256"}), false},
		{"RSA key labelled HS256", with(rs, map[string]any{"alg": "HS256"}), false},
		{"RSA of 1024 bits", with(rs, map[string]any{"n": smallRSA}), false},
		{"RSA with an even exponent", with(rs, map[string]any{"e": "AQAA"}), false},
		{"RSA without n", with(rs, map[string]any{"n": nil}), false},
		{"EC P-384", with(es, map[string]any{"crv": "P-384"}), false},
		{"EC point off the curve", with(es, map[string]any{"y": es.JWK()["x"]}), false},
		{"EC with a short x", with(es, map[string]any{"x": "AAAA"}), false},
		{"base64 with padding", with(ed, map[string]any{"x": ed.JWK()["x"].(string) + "="}), false},
		{"OKP X25519", with(ed, map[string]any{"crv": "X25519"}), false},
		{"oct", map[string]any{"kty": "oct", "kid": "h", "alg": "HS256", "k": "c2VjcmV0"}, false},
		{"not an object", map[string]any{"kid": "x", "kty": []int{1}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := fmt.Appendf(nil, `{"keys":[%s,{"kid":"anchor","kty":"OKP","crv":"Ed25519","alg":"EdDSA","x":%q}]}`,
				mustJSON(t, tc.jwk), ed.JWK()["x"])
			keys, err := jose.ParseJWKS(body, defaultAlgorithms)
			if err != nil {
				t.Fatal(err)
			}
			kid, _ := tc.jwk["kid"].(string)
			if _, kept := keys[kid]; kept != tc.kept || len(keys) != map[bool]int{true: 2, false: 1}[tc.kept] {
				t.Errorf("kept %v (%d keys), want %v", kept, len(keys), tc.kept)
			}
		})
	}

	// Served for real: the unusable keys do not stop the usable one.
	iss := testissuer.New(t)
	raw := []any{}
	for _, tc := range cases {
		if !tc.kept {
			raw = append(raw, tc.jwk)
		}
	}
	iss.PublishRaw(append(raw, es.JWK())...)
	clock := testclock.New()
	v, err := New(context.Background(), iss.URL, Options{Audience: testAudience, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Verify(context.Background(), es.Sign(t, iss.Claims(testAudience, clock.Now()))); err != nil {
		t.Error(err)
	}
}

func TestCacheMaxAge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header []string
		age    time.Duration
		ok     bool
	}{
		{nil, 0, false},
		{[]string{"public, max-age=300"}, 300 * time.Second, true},
		{[]string{"Max-Age=60"}, time.Minute, true},
		{[]string{`max-age="90"`}, 90 * time.Second, true},
		{[]string{"no-store"}, 0, true},
		{[]string{"private", "no-cache"}, 0, true},
		{[]string{"max-age=-1"}, 0, false},
		{[]string{"max-age=abc"}, 0, false},
		{[]string{"s-maxage=60"}, 0, false},
	}
	for _, tc := range cases {
		h := http.Header{"Cache-Control": tc.header}
		if age, ok := cacheMaxAge(h); age != tc.age || ok != tc.ok {
			t.Errorf("%q: %v %v, want %v %v", tc.header, age, ok, tc.age, tc.ok)
		}
	}
}

// verifierGoroutines are the stacks of the goroutines running the
// verifier's code.
func verifierGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "gatehouse/verify.(*keySet)") {
			found = append(found, g)
		}
	}
	return found
}

// Close, or the end of New's context, leaves no goroutine behind: none
// runs the verifier's code after it, and the synctest bubble fails the
// test if any goroutine it started outlives it.
func TestNoGoroutineOutlivesTheVerifier(t *testing.T) {
	es, _, _, es2, _ := keys(t)
	iss := testissuer.New(t, es) // outside the bubble
	// No keep-alive: an idle connection's goroutines would outlive the test.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	start := func(t *testing.T, ctx context.Context) *Verifier {
		t.Helper()
		v, err := New(ctx, iss.URL, Options{Audience: testAudience, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, es.Sign(t, iss.Claims(testAudience, time.Now()))); err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("Close", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			v := start(t, context.Background())
			// The background refresh (time.After, the bubble's clock) fires.
			before := iss.JWKSFetches.Load()
			time.Sleep(DefaultRefreshInterval + time.Second)
			if got := iss.JWKSFetches.Load(); got != before+1 {
				t.Errorf("%d fetches after RefreshInterval, want %d", got, before+1)
			}
			// A fetch for an unknown kid.
			iss.Publish(es, es2)
			time.Sleep(DefaultMinRefetchInterval)
			if _, err := v.Verify(context.Background(), es2.Sign(t, iss.Claims(testAudience, time.Now()))); err != nil {
				t.Error(err)
			}
			v.Close()
			if g := verifierGoroutines(); len(g) > 0 {
				t.Errorf("goroutines left after Close:\n%s", strings.Join(g, "\n\n"))
			}
			v.Close() // idempotent
		})
	})
	t.Run("context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			v := start(t, ctx)
			cancel()
			synctest.Wait() // every goroutine of the bubble has ended or waits
			if g := verifierGoroutines(); len(g) > 0 {
				t.Errorf("goroutines left after the context ended:\n%s", strings.Join(g, "\n\n"))
			}
			// The cached keys still verify; fetching is over.
			if _, err := v.Verify(context.Background(), es.Sign(t, iss.Claims(testAudience, time.Now()))); err != nil {
				t.Error(err)
			}
		})
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
