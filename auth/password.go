package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// HashParams are argon2id's cost parameters.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultHashParams are OWASP's recommended argon2id parameters: 19 MiB of
// memory, two passes, one lane, a 16-byte salt and a 32-byte key.
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrOverloaded is returned when a hash waited longer than the queue limit for a slot.
var ErrOverloaded = errors.New("password hashing overloaded")

// MaxPasswordBytes is the longest password accepted; longer passwords are
// rejected before hashing.
const MaxPasswordBytes = 1024

// ErrPasswordTooLong is returned for a password longer than MaxPasswordBytes.
var ErrPasswordTooLong = errors.New("password longer than 1024 bytes")

// Bounds on argon2id parameters, for both a Hasher's own parameters and those
// parsed from a stored hash, so a corrupt or hostile hash string cannot make
// Verify allocate gigabytes or spin for minutes.
const (
	minSaltLen = 8
	maxSaltLen = 1024
	minKeyLen  = 16
	maxKeyLen  = 1024
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	// maxBcryptCost caps imported bcrypt hashes (cost 20 is about a
	// minute per verification).
	maxBcryptCost = 20
)

// Hasher hashes and verifies passwords with argon2id. Every argon2 (or
// bcrypt) computation runs behind a semaphore of a fixed number of slots, so
// a login flood queues instead of exhausting memory. A Hasher is safe for
// concurrent use.
type Hasher struct {
	params  HashParams
	sem     chan struct{}
	maxWait time.Duration
	onWait  atomic.Pointer[func(time.Duration)]

	// dummyOnce guards dummyKey: the argon2id key of a fixed password and
	// fixed salt under params, computed on the first VerifyDummy.
	dummyOnce sync.Once
	dummySalt []byte
	dummyKey  []byte
}

// NewHasher returns a Hasher hashing with p and running at most slots
// computations at once; slots <= 0 means runtime.NumCPU(). A call waits at
// most maxWait for a slot before failing with ErrOverloaded; maxWait <= 0
// means wait as long as ctx allows. NewHasher panics if p is unusable (zero
// Time or Threads, too little or too much memory, salt or key out of range).
func NewHasher(p HashParams, slots int, maxWait time.Duration) *Hasher {
	if err := checkParams(p); err != nil {
		panic(fmt.Sprintf("auth: NewHasher: %v", err))
	}
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	return &Hasher{
		params:    p,
		sem:       make(chan struct{}, slots),
		maxWait:   maxWait,
		dummySalt: bytes.Repeat([]byte{0x5a}, int(p.SaltLen)),
	}
}

// OnWait registers f to be called with the time each computation waited for
// a slot, whether it then got one or failed. A nil f removes the hook.
func (h *Hasher) OnWait(f func(time.Duration)) {
	if f == nil {
		h.onWait.Store(nil)
		return
	}
	h.onWait.Store(&f)
}

// Hash returns the argon2id PHC string of password under h's parameters,
// with a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release()
	return encodePHC(h.params, salt, key), nil
}

// Verify checks password against an encoded hash: an argon2id PHC string
// (with whatever parameters it names) or a bcrypt hash ($2a$, $2b$, $2y$).
// needsRehash is true when ok and the hash is bcrypt or argon2id with
// parameters other than h's, so the caller should store a fresh Hash. A
// malformed or unsupported hash is an error; a wrong password is not.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	if len(password) > MaxPasswordBytes {
		return false, false, ErrPasswordTooLong
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := decodePHC(encoded)
		if err != nil {
			return false, false, err
		}
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		h.release()
		ok := subtle.ConstantTimeCompare(got, key) == 1
		return ok, ok && p != h.params, nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil {
			return false, false, fmt.Errorf("parse bcrypt hash: %w", err)
		}
		if cost > maxBcryptCost {
			return false, false, fmt.Errorf("parse bcrypt hash: cost %d above %d", cost, maxBcryptCost)
		}
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
		h.release()
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("verify bcrypt hash: %w", err)
		}
	default:
		return false, false, errors.New("unsupported password hash format")
	}
}

// VerifyDummy does the same work as a failed Verify against a hash of h's
// own parameters, so an unknown user costs what a wrong password costs. It
// always returns false, with ErrPasswordTooLong, ErrOverloaded or a context
// error where Verify would return them.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) (bool, error) {
	if len(password) > MaxPasswordBytes {
		return false, ErrPasswordTooLong
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	// The first caller computes the dummy key inside its own slot; callers
	// arriving meanwhile wait in theirs, so the slot bound still holds.
	h.dummyOnce.Do(func() {
		h.dummyKey = argon2.IDKey([]byte("gatehouse dummy password"), h.dummySalt,
			h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	})
	got := argon2.IDKey([]byte(password), h.dummySalt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	_ = subtle.ConstantTimeCompare(got, h.dummyKey)
	return false, nil
}

// acquire takes a slot, waiting at most h.maxWait and as long as ctx allows.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wait for hashing slot: %w", err)
	}
	start := time.Now()
	select {
	case h.sem <- struct{}{}:
		h.reportWait(time.Since(start))
		return nil
	default:
	}
	var timeout <-chan time.Time
	if h.maxWait > 0 {
		t := time.NewTimer(h.maxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case h.sem <- struct{}{}:
		h.reportWait(time.Since(start))
		return nil
	case <-ctx.Done():
		h.reportWait(time.Since(start))
		return fmt.Errorf("wait for hashing slot: %w", ctx.Err())
	case <-timeout:
		h.reportWait(time.Since(start))
		return ErrOverloaded
	}
}

// release gives back a slot taken by acquire.
func (h *Hasher) release() { <-h.sem }

func (h *Hasher) reportWait(d time.Duration) {
	if f := h.onWait.Load(); f != nil {
		(*f)(d)
	}
}

// checkParams reports whether p is within the bounds this package hashes
// and verifies with.
func checkParams(p HashParams) error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d outside 1..%d", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("argon2id parallelism is zero")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory %d KiB outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id salt length %d outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id key length %d outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// encodePHC formats an argon2id hash as a PHC string.
func encodePHC(p HashParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// decodePHC parses an argon2id PHC string
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>.
func decodePHC(s string) (p HashParams, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("parse argon2id hash: want 5 $-separated fields")
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return p, nil, nil, errors.New("parse argon2id hash: missing version")
	}
	if n, err := parseDecimal(v, 32); err != nil || n != argon2.Version {
		return p, nil, nil, fmt.Errorf("parse argon2id hash: unsupported version %q", v)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, nil, nil, errors.New("parse argon2id hash: want parameters m, t, p")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		val, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return p, nil, nil, fmt.Errorf("parse argon2id hash: parameter %d is not %s", i+1, name)
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		if vals[i], err = parseDecimal(val, bits); err != nil {
			return p, nil, nil, fmt.Errorf("parse argon2id hash: parameter %s: %w", name, err)
		}
	}
	if salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("parse argon2id hash: salt: %w", err)
	}
	if key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return p, nil, nil, fmt.Errorf("parse argon2id hash: key: %w", err)
	}
	p = HashParams{
		Memory:  uint32(vals[0]),
		Time:    uint32(vals[1]),
		Threads: uint8(vals[2]),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := checkParams(p); err != nil {
		return HashParams{}, nil, nil, fmt.Errorf("parse argon2id hash: %w", err)
	}
	return p, salt, key, nil
}

// parseDecimal parses a canonical unsigned decimal: digits only, no leading
// zeros.
func parseDecimal(s string, bits int) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("not a canonical decimal: %q", s)
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("decimal %q: %w", s, err)
	}
	return n, nil
}

// CheckHashFormat tells whether encoded is a hash Verify can check: an
// argon2id PHC string or a bcrypt hash within the cost limit.
func CheckHashFormat(encoded string) error {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		_, _, _, err := decodePHC(encoded)
		return err
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil {
			return fmt.Errorf("parse bcrypt hash: %w", err)
		}
		if cost > maxBcryptCost {
			return fmt.Errorf("parse bcrypt hash: cost %d above %d", cost, maxBcryptCost)
		}
		return nil
	}
	return errors.New("unsupported password hash format (want argon2id or bcrypt)")
}
