package jose

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashRandomSecret is what the store keeps of a secret gatehouse made from
// at least 128 random bits (refresh and mfa tokens, API keys, e-mail
// tokens, client secrets): its SHA-256, in hex. Such a secret cannot be
// guessed, so a fast unsalted hash is enough, and the store finds a row by
// it. Passwords go through argon2id instead (auth/password.go), and
// recovery codes, which a user types, through their own hash bound to the
// user (auth/mfa.go).
func HashRandomSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
