package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/store"
)

// totpOpts are RFC 6238's defaults, which authenticator apps assume:
// SHA-1, six digits, 30-second steps.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// matchTOTP finds the time step, within one step of now either way, whose
// code is code; ok is false when none is.
func matchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	for _, skew := range []int64{-1, 0, 1} {
		at := now.Add(time.Duration(skew) * 30 * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / 30, true
		}
	}
	return 0, false
}

// TOTPEnrolment is a new, unconfirmed factor: the base32 secret and its
// otpauth:// Key URI.
type TOTPEnrolment struct {
	Secret string
	URI    string
}

// EnrollTOTP makes a new TOTP secret for the user, unconfirmed (a previous
// unconfirmed one is replaced). It fails with ErrMFAState when the user
// has a confirmed factor.
func (s *Service) EnrollTOTP(ctx context.Context, userID string, cl Origin) (TOTPEnrolment, error) {
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if u.MFAEnabled {
		return TOTPEnrolment{}, fmt.Errorf("%w: a second factor is active; remove it first", ErrMFAState)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.cfg.Issuer, AccountName: u.Username, Period: 30, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: s.cfg.Rand,
	})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("generate totp key: %w", err)
	}
	sealed, err := s.sealSecret(kindTOTP, u.ID, []byte(key.Secret()))
	if err != nil {
		return TOTPEnrolment{}, err
	}
	err = s.st.PutPendingTOTP(ctx, store.TOTPFactor{UserID: u.ID, Secret: sealed, CreatedAt: s.now()})
	if errors.Is(err, store.ErrConflict) {
		return TOTPEnrolment{}, fmt.Errorf("%w: a second factor is active; remove it first", ErrMFAState)
	}
	if err != nil {
		return TOTPEnrolment{}, err
	}
	s.Audit(ctx, cl.event("mfa.enroll", "success", u.ID, u.ID, "totp"))
	return TOTPEnrolment{Secret: key.Secret(), URI: key.URL()}, nil
}

// ConfirmTOTP activates the user's pending factor with its first code
// (which counts as used), and returns the recovery codes, shown this once.
// It ends the user's other sessions, all but the caller's own sid.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, code, sid string, cl Origin) ([]string, error) {
	f, err := s.st.GetTOTPFactor(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.ConfirmedAt != nil) {
		return nil, fmt.Errorf("%w: no enrolment to confirm", ErrMFAState)
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.openSecret(kindTOTP, userID, f.Secret)
	if err != nil {
		return nil, err
	}
	now := s.now()
	step, ok := matchTOTP(string(secret), code, now)
	if !ok {
		s.Audit(ctx, cl.event("mfa.enable", "failure", userID, userID, "wrong code"))
		return nil, ErrInvalidCode
	}
	codes, hashes, err := s.newRecoveryCodes(userID)
	if err != nil {
		return nil, err
	}
	err = s.st.ConfirmTOTP(ctx, userID, step, now, hashes)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no enrolment to confirm", ErrMFAState)
	}
	if err != nil {
		return nil, err
	}
	// The user's other sessions were opened with the password alone.
	if err := s.endSessions(ctx, userID, sid, userID, "second factor confirmed", cl); err != nil {
		return nil, err
	}
	s.Audit(ctx, cl.event("mfa.enable", "success", userID, userID, "totp; the other sessions ended"))
	return codes, nil
}

// RemoveTOTP removes the user's factor and recovery codes, if any; actor
// is who asked (the user, or an administrator). It returns
// store.ErrNotFound only for an unknown user.
func (s *Service) RemoveTOTP(ctx context.Context, userID, actor string, cl Origin) error {
	if _, err := s.st.GetUser(ctx, userID); err != nil {
		return err
	}
	err := s.st.DeleteTOTPFactor(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.Audit(ctx, cl.event("mfa.remove", "success", actor, userID, "totp"))
	return nil
}

// useTOTP accepts code for the user's confirmed factor once: its time step
// must be later than the last one accepted.
func (s *Service) useTOTP(ctx context.Context, userID, code string, now time.Time) bool {
	f, err := s.st.GetTOTPFactor(ctx, userID)
	if err != nil || f.ConfirmedAt == nil {
		return false
	}
	secret, err := s.openSecret(kindTOTP, userID, f.Secret)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "open totp secret", "user_id", userID, "err", err)
		return false
	}
	step, ok := matchTOTP(string(secret), code, now)
	return ok && step > f.LastStep && s.st.UseTOTPStep(ctx, userID, step) == nil
}
