package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzVerifyAccessToken feeds arbitrary strings to VerifyAccessToken over a
// real SQLite store: it must never panic, and it must refuse, with
// ErrInvalidToken, everything but the one real token it issued — including
// respellings of it (set padding bits, CR/LF in the signature), which the
// lenient base64 decoding once let through.
func FuzzVerifyAccessToken(f *testing.F) {
	ctx := context.Background()
	svc := newTestService(f, openTestStore(f), Config{AdminScopes: []string{"profile"}}, "fuzz")
	sess, err := svc.Login(ctx, LoginRequest{Login: "fuzz", Password: "fuzz-password"})
	if err != nil {
		f.Fatal(err)
	}
	real := sess.Access.Token
	if _, err := svc.VerifyAccessToken(ctx, real, ""); err != nil {
		f.Fatalf("the real token does not verify: %v", err)
	}

	parts := strings.Split(real, ".")
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	for _, seed := range []string{
		real,
		"", "a.b.c", "....", ".", "..", "a.b.c.d", "   ",
		parts[0] + "." + parts[1] + ".",          // signature stripped
		parts[0] + "." + parts[1],                // two segments
		real + "." + parts[2],                    // four segments
		flip(real, len(parts[0])+5),              // payload byte changed
		flip(real, 3),                            // header byte changed
		flip(real, len(real)-10),                 // signature byte changed
		real[:len(real)-1],                       // signature truncated
		" " + real, real + " ", "Bearer " + real, // wrapping
		real + "\n", real[:len(real)-10] + "\r\n" + real[len(real)-10:], // CR/LF in the signature
		trailingBits(real),                                                // the signature's unused last bits set
		strings.ToUpper(real[:1]) + real[1:],                              // case
		seg(`{"alg":"none"}`) + "." + parts[1] + ".",                      // alg none
		seg(`{"alg":"none","kid":"x"}`) + "." + parts[1] + "." + parts[2], // alg none, signature kept
		seg(`{"alg":"HS256","kid":"../../etc/passwd"}`) + "." + parts[1] + "." + parts[2],
		seg(`{"alg":"ES256"}`) + "." + parts[1] + "." + parts[2], // no kid
		seg(`{}`) + "." + seg(`{}`) + ".",
		seg(`null`) + "." + seg(`null`) + "." + seg(`null`),
		seg(`[]`) + "." + seg(`[]`) + ".",
		parts[0] + "." + seg(strings.Replace(string(payload), `"sub":"`, `"sub":"x`, 1)) + "." + parts[2], // sub tampered
		parts[0] + "." + base64.StdEncoding.EncodeToString(payload) + "." + parts[2],                      // padded std base64
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, token string) {
		_, err := svc.VerifyAccessToken(ctx, token, "")
		if token == real {
			if err != nil {
				t.Fatalf("the real token: %v", err)
			}
			return
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("VerifyAccessToken(%q) = %v, want ErrInvalidToken", token, err)
		}
	})
}

// trailingBits respells token with the unused low bits of its last
// character set: the same signature bytes, another string.
func trailingBits(token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig := token[strings.LastIndexByte(token, '.')+1:]
	unused := (len(sig) * 6) % 8 // bits of the last character that carry nothing
	if unused == 0 {
		return token
	}
	last := strings.IndexByte(alphabet, token[len(token)-1])
	return token[:len(token)-1] + string(alphabet[last|(1<<unused-1)])
}
