package auth

import (
	"strings"
	"testing"
)

// TestRecoveryCodes: ten distinct codes of 16 characters, about 79 bits
// each; the hash is bound to the user and ignores case, dashes and spaces.
func TestRecoveryCodes(t *testing.T) {
	s := &Service{cfg: Config{}.withDefaults()}
	codes, hashes, err := s.newRecoveryCodes("u1")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(strings.ReplaceAll(c, "-", "")) != 16 || strings.Trim(strings.ReplaceAll(c, "-", ""), recoveryAlphabet) != "" || seen[c] {
			t.Errorf("code %q malformed or repeated", c)
		}
		seen[c] = true
		if hashes[i] != hashRecoveryCode("u1", strings.ToUpper(strings.ReplaceAll(c, "-", " "))) {
			t.Errorf("code %q: hash not normalized", c)
		}
		if hashes[i] == hashRecoveryCode("u2", c) || strings.Contains(hashes[i], c) {
			t.Errorf("code %q: hash not bound to the user or holds the code", c)
		}
	}
	if len(codes) != RecoveryCodeCount {
		t.Errorf("%d codes", len(codes))
	}
}
