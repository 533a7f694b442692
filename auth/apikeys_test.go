package auth

import (
	"strings"
	"testing"
)

func TestAPIKeyFormat(t *testing.T) {
	t.Parallel()
	s := New(nil, nil, Config{})
	seen := map[string]bool{}
	for range 200 {
		key, err := s.newAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != apiKeyLen || !strings.HasPrefix(key, APIKeyPrefix) || !WellFormedAPIKey(key) {
			t.Fatalf("key %q is not well formed", key)
		}
		if seen[key] {
			t.Fatalf("key %q generated twice", key)
		}
		seen[key] = true
		// Any single-character typo in the secret or checksum is caught.
		body := []byte(key)
		for i := len(APIKeyPrefix); i < len(body); i++ {
			orig := body[i]
			body[i] = base62[(strings.IndexByte(base62, orig)+1)%len(base62)]
			if WellFormedAPIKey(string(body)) {
				t.Fatalf("typo at %d of %q passed the checksum", i, key)
			}
			body[i] = orig
		}
	}
	for _, bad := range []string{"", APIKeyPrefix, "ghp_" + strings.Repeat("a", 38), APIKeyPrefix + strings.Repeat("-", apiKeySecretLen+apiKeyCheckLen)} {
		if WellFormedAPIKey(bad) {
			t.Errorf("%q passed", bad)
		}
	}
	if h := apiKeyHint(APIKeyPrefix + "abcdefgh"); h != APIKeyPrefix+"…efgh" {
		t.Errorf("hint = %q", h)
	}
}
