package auth

import (
	"encoding/base32"
	"testing"
	"time"
)

// rfc6238Secret is RFC 6238 appendix B's SHA-1 seed, "12345678901234567890",
// base32 as authenticator apps take it.
var rfc6238Secret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))

// TestTOTPVectors: RFC 6238 appendix B's SHA-1 test vectors, cut to the six
// digits gatehouse uses (the last six of the eight-digit values), each
// accepted at its time, at one step either way, and not two steps away.
func TestTOTPVectors(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		code string // the RFC's eight digits
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		at := time.Unix(tc.unix, 0).UTC()
		code := tc.code[2:]
		step, ok := matchTOTP(rfc6238Secret, code, at)
		if !ok || step != tc.unix/30 {
			t.Errorf("%d: code %s: step %d, %v; want %d", tc.unix, code, step, ok, tc.unix/30)
		}
		for _, skew := range []time.Duration{-30 * time.Second, 30 * time.Second} {
			if s, ok := matchTOTP(rfc6238Secret, code, at.Add(skew)); !ok || s != tc.unix/30 {
				t.Errorf("%d: code %s not accepted one step (%v) away", tc.unix, code, skew)
			}
		}
		for _, skew := range []time.Duration{-61 * time.Second, 61 * time.Second} {
			if _, ok := matchTOTP(rfc6238Secret, code, at.Add(skew)); ok {
				t.Errorf("%d: code %s accepted two steps (%v) away", tc.unix, code, skew)
			}
		}
	}
	for _, bad := range []string{"", "28708", "2870822", "28708a", " 287082", "٢٨٧٠٨٢"} {
		if _, ok := matchTOTP(rfc6238Secret, bad, time.Unix(59, 0)); ok {
			t.Errorf("malformed code %q accepted", bad)
		}
	}
}
