package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// cheapParams keeps tests fast; DefaultHashParams is exercised where the
// encoding itself matters.
var cheapParams = HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(DefaultHashParams, 0, 0)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q, want OWASP PHC prefix", enc)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Errorf("Hash = %q, want 16-byte salt and 32-byte key in raw base64", enc)
	}
	ok, rehash, err := h.Verify(ctx, "correct horse battery staple", enc)
	if err != nil || !ok || rehash {
		t.Errorf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = h.Verify(ctx, "correct horse battery stapler", enc)
	if err != nil || ok || rehash {
		t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}

	again, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if again == enc {
		t.Error("two hashes of one password are equal; salt not random")
	}
}

func TestHashEmptyAndMaxLengthPasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(cheapParams, 0, 0)
	for _, pw := range []string{"", strings.Repeat("x", MaxPasswordBytes), "pässwörd ✓"} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(len %d): %v", len(pw), err)
		}
		if ok, _, err := h.Verify(ctx, pw, enc); err != nil || !ok {
			t.Errorf("Verify(len %d) = %v, %v; want true, nil", len(pw), ok, err)
		}
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(cheapParams, 0, 0)
	good, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	join := func(p ...string) string { return strings.Join(p, "$") }
	salt, key := parts[4], parts[5]
	cases := map[string]string{
		"empty":              "",
		"plain text":         "pw",
		"argon2i":            join("", "argon2i", "v=19", "m=64,t=1,p=1", salt, key),
		"too few fields":     join("", "argon2id", "v=19", "m=64,t=1,p=1", salt),
		"too many fields":    good + "$x",
		"no version":         join("", "argon2id", "m=64,t=1,p=1", salt, key, ""),
		"version 16":         join("", "argon2id", "v=16", "m=64,t=1,p=1", salt, key),
		"version garbage":    join("", "argon2id", "v=x", "m=64,t=1,p=1", salt, key),
		"version missing v=": join("", "argon2id", "19", "m=64,t=1,p=1", salt, key),
		"params reordered":   join("", "argon2id", "v=19", "t=1,m=64,p=1", salt, key),
		"params missing":     join("", "argon2id", "v=19", "m=64,t=1", salt, key),
		"params extra":       join("", "argon2id", "v=19", "m=64,t=1,p=1,k=2", salt, key),
		"time zero":          join("", "argon2id", "v=19", "m=64,t=0,p=1", salt, key),
		"threads zero":       join("", "argon2id", "v=19", "m=64,t=1,p=0", salt, key),
		"threads overflow":   join("", "argon2id", "v=19", "m=64,t=1,p=256", salt, key),
		"memory overflow":    join("", "argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key),
		"memory huge":        join("", "argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key),
		"memory too small":   join("", "argon2id", "v=19", "m=7,t=1,p=1", salt, key),
		"negative":           join("", "argon2id", "v=19", "m=-64,t=1,p=1", salt, key),
		"leading zero":       join("", "argon2id", "v=19", "m=064,t=1,p=1", salt, key),
		"plus sign":          join("", "argon2id", "v=19", "m=+64,t=1,p=1", salt, key),
		"empty param":        join("", "argon2id", "v=19", "m=,t=1,p=1", salt, key),
		"salt bad base64":    join("", "argon2id", "v=19", "m=64,t=1,p=1", "!!!!"+salt[4:], key),
		"salt padded":        join("", "argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key),
		"salt too short":     join("", "argon2id", "v=19", "m=64,t=1,p=1", "AAAA", key),
		"key bad base64":     join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, key[:10]+"*"+key[11:]),
		"key empty":          join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, ""),
		"key too short":      join("", "argon2id", "v=19", "m=64,t=1,p=1", salt, "AAAA"),
		"bcrypt truncated":   "$2a$10$abc",
		"bcrypt bad cost":    "$2a$xx$" + strings.Repeat("a", 53),
		"bcrypt cost high":   "$2a$31$" + strings.Repeat("a", 53),
		"bcrypt unknown":     "$2x$10$" + strings.Repeat("a", 53),
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(ctx, "pw", enc)
			if err == nil || ok || rehash {
				t.Errorf("Verify(%q) = %v, %v, %v; want false, false, error", enc, ok, rehash, err)
			}
		})
	}
}

func TestVerifyBcryptNeedsRehash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(cheapParams, 0, 0)
	b, err := bcrypt.GenerateFromPassword([]byte("legacy"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		enc := prefix + string(b[4:])
		ok, rehash, err := h.Verify(ctx, "legacy", enc)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(%s right) = %v, %v, %v; want true, true, nil", prefix, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, "legacY", enc)
		if err != nil || ok || rehash {
			t.Errorf("Verify(%s wrong) = %v, %v, %v; want false, false, nil", prefix, ok, rehash, err)
		}
	}
}

func TestVerifyOtherParamsNeedsRehash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(DefaultHashParams, 0, 0)
	others := []HashParams{
		{Memory: 19 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16},
	}
	for _, p := range others {
		enc, err := NewHasher(p, 1, 0).Hash(ctx, "pw")
		if err != nil {
			t.Fatalf("Hash(%+v): %v", p, err)
		}
		ok, rehash, err := h.Verify(ctx, "pw", enc)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want true, true, nil", enc, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, "pW", enc)
		if err != nil || ok || rehash {
			t.Errorf("Verify(%q, wrong) = %v, %v, %v; want false, false, nil", enc, ok, rehash, err)
		}
	}
}

func TestVerifyKnownVector(t *testing.T) {
	t.Parallel()
	// Produced by the reference argon2 CLI:
	// echo -n password | argon2 somesalt -id -t 2 -k 65536 -p 1 -l 32
	const enc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	h := NewHasher(DefaultHashParams, 0, 0)
	ok, rehash, err := h.Verify(context.Background(), "password", enc)
	if err != nil || !ok || !rehash {
		t.Errorf("Verify(reference vector) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestPasswordTooLong(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(cheapParams, 0, 0)
	long := strings.Repeat("x", MaxPasswordBytes+1)
	good, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	var waited atomic.Int32
	h.OnWait(func(time.Duration) { waited.Add(1) })
	if _, err := h.Hash(ctx, long); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Hash(long) error = %v, want ErrPasswordTooLong", err)
	}
	if ok, _, err := h.Verify(ctx, long, good); ok || !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Verify(long) = %v, %v; want false, ErrPasswordTooLong", ok, err)
	}
	if ok, _, err := h.Verify(ctx, long, "garbage"); ok || !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("Verify(long, garbage) = %v, %v; want false, ErrPasswordTooLong", ok, err)
	}
	if ok, err := h.VerifyDummy(ctx, long); ok || !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("VerifyDummy(long) = %v, %v; want false, ErrPasswordTooLong", ok, err)
	}
	if n := waited.Load(); n != 0 {
		t.Errorf("too-long passwords waited for a slot %d times, want 0", n)
	}
}

func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(cheapParams, 2, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			// Even the dummy password itself must not verify.
			for _, pw := range []string{"anything", "gatehouse dummy password"} {
				if ok, err := h.VerifyDummy(ctx, pw); ok || err != nil {
					t.Errorf("VerifyDummy(%q) = %v, %v; want false, nil", pw, ok, err)
				}
			}
		})
	}
	wg.Wait()
	if len(h.dummyKey) != int(cheapParams.KeyLen) {
		t.Errorf("dummy key length %d, want %d", len(h.dummyKey), cheapParams.KeyLen)
	}
}

// holdSlots fills h's semaphore, as if that many hashes were running, and
// returns a func giving the slots back.
func holdSlots(h *Hasher) (release func()) {
	for range cap(h.sem) {
		h.sem <- struct{}{}
	}
	return func() {
		for range cap(h.sem) {
			<-h.sem
		}
	}
}

func TestOverloaded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := NewHasher(cheapParams, 1, time.Millisecond)
	good, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	var mu sync.Mutex
	h.OnWait(func(d time.Duration) { mu.Lock(); waits = append(waits, d); mu.Unlock() })

	release := holdSlots(h)
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, ErrOverloaded) {
		t.Errorf("Hash while full: error = %v, want ErrOverloaded", err)
	}
	if ok, _, err := h.Verify(ctx, "pw", good); ok || !errors.Is(err, ErrOverloaded) {
		t.Errorf("Verify while full = %v, %v; want false, ErrOverloaded", ok, err)
	}
	if ok, err := h.VerifyDummy(ctx, "pw"); ok || !errors.Is(err, ErrOverloaded) {
		t.Errorf("VerifyDummy while full = %v, %v; want false, ErrOverloaded", ok, err)
	}
	release()

	if ok, _, err := h.Verify(ctx, "pw", good); !ok || err != nil {
		t.Errorf("Verify after release = %v, %v; want true, nil", ok, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 4 {
		t.Fatalf("OnWait called %d times, want 4", len(waits))
	}
	for i, d := range waits[:3] {
		if d < time.Millisecond {
			t.Errorf("wait %d = %v, want >= 1ms", i, d)
		}
	}
}

func TestOverloadedRealHash(t *testing.T) {
	t.Parallel()
	// A slow hash really holding the only slot makes a concurrent one fail.
	slow := HashParams{Memory: 64 * 1024, Time: 8, Threads: 1, SaltLen: 16, KeyLen: 32}
	h := NewHasher(slow, 1, time.Millisecond)
	started := make(chan struct{})
	h.OnWait(func(time.Duration) {
		select {
		case <-started:
		default:
			close(started)
		}
	})
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "first")
		done <- err
	}()
	<-started // the first Hash holds the slot now
	if _, err := h.Hash(context.Background(), "second"); !errors.Is(err, ErrOverloaded) {
		t.Errorf("concurrent Hash: error = %v, want ErrOverloaded", err)
	}
	if err := <-done; err != nil {
		t.Errorf("first Hash: %v", err)
	}
}

func TestHashWaitRespectsContext(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheapParams, 1, 0) // no queue limit: only ctx bounds the wait
	release := holdSlots(h)
	defer release()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with expiring ctx: error = %v, want DeadlineExceeded", err)
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if ok, err := h.VerifyDummy(cancelled, "pw"); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyDummy with cancelled ctx = %v, %v; want false, Canceled", ok, err)
	}
}

func TestNewHasherRejectsBadParams(t *testing.T) {
	t.Parallel()
	for _, p := range []HashParams{
		{},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 0, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 0},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHasher(%+v) did not panic", p)
				}
			}()
			NewHasher(p, 1, 0)
		}()
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultHashParams, 0, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultHashParams, 0, 0)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
