package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse-auth/gatehouse/store"
)

// RegenerateRecoveryCodes voids the user's recovery codes and returns ten
// new ones. It fails with ErrMFAState when the user has no factor.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID string, cl Origin) ([]string, error) {
	f, err := s.st.GetTOTPFactor(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.ConfirmedAt == nil) {
		return nil, fmt.Errorf("%w: no second factor is active", ErrMFAState)
	}
	if err != nil {
		return nil, err
	}
	codes, hashes, err := s.newRecoveryCodes(userID)
	if err != nil {
		return nil, err
	}
	if err := s.st.ReplaceRecoveryCodes(ctx, userID, hashes, s.now()); err != nil {
		return nil, err
	}
	s.Audit(ctx, cl.event("mfa.recovery_codes", "success", userID, userID, "regenerated"))
	return codes, nil
}

// recoveryAlphabet is Crockford-like base32 without look-alikes' doubles.
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newRecoveryCodes makes RecoveryCodeCount codes of 16 characters (about
// 79 bits each, grouped xxxx-xxxx-xxxx-xxxx) and their hashes.
func (s *Service) newRecoveryCodes(userID string) (codes, hashes []string, err error) {
	for range RecoveryCodeCount {
		var b strings.Builder
		for i := range 16 {
			if i > 0 && i%4 == 0 {
				b.WriteByte('-')
			}
			n, err := randIndex(s.cfg.Rand, len(recoveryAlphabet))
			if err != nil {
				return nil, nil, err
			}
			b.WriteByte(recoveryAlphabet[n])
		}
		codes = append(codes, b.String())
		hashes = append(hashes, hashRecoveryCode(userID, b.String()))
	}
	return codes, hashes, nil
}

// randIndex is a uniform random number in [0, n), n < 256, read from r.
func randIndex(r io.Reader, n int) (int, error) {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("random: %w", err)
		}
		if int(b[0]) < limit {
			return int(b[0]) % n, nil
		}
	}
}

// hashRecoveryCode is what the store keeps of a recovery code: a SHA-256
// bound to the user, over the code without case, dashes or spaces. The
// codes' 79 bits make a slow hash needless. It is not jose.HashRandomSecret
// because the rule differs: a user types the code (hence the
// normalising), and a code is only ever looked up among its user's, so
// the hash binds it to the user under its own prefix.
func hashRecoveryCode(userID, code string) string {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(code))
	sum := sha256.Sum256([]byte("gatehouse recovery code\x00" + userID + "\x00" + norm))
	return hex.EncodeToString(sum[:])
}
