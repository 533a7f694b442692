package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// Second-factor errors. impl/ maps them to each route's answer.
var (
	// ErrMFARequired is wrapped by *MFARequiredError: the password was
	// right and the user has a second factor.
	ErrMFARequired = errors.New("a second factor is required")
	// ErrInvalidCode is returned when a TOTP code given to confirm an
	// enrolment is wrong.
	ErrInvalidCode = errors.New("the code is wrong or already used")
	// ErrMFAState is returned when the user's factor is not in the state
	// the operation needs: enrolling with a confirmed factor, confirming
	// with nothing enrolled, new recovery codes without a factor.
	ErrMFAState = errors.New("second factor in the wrong state")
)

// MFARequiredError answers a password login of a user with a second
// factor: MFAToken carries the login to the mfa-otp or
// mfa-recovery-code grant.
type MFARequiredError struct {
	MFAToken string
}

func (e *MFARequiredError) Error() string        { return ErrMFARequired.Error() }
func (e *MFARequiredError) Is(target error) bool { return target == ErrMFARequired }

// RFC 8176 authentication method references.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
)

const (
	// causeMFARequired is the audited cause of a dialect login refused
	// because the user has a second factor the dialect cannot carry.
	causeMFARequired = "mfa_required"
	// mfaEnrolScope is what a user whose role requires a factor gets
	// until one is confirmed: enough to enrol.
	mfaEnrolScope = "profile"
	// MFATokenTTL is an mfa_token's lifetime; MaxMFAFailures wrong codes
	// kill it.
	MFATokenTTL    = 5 * time.Minute
	MaxMFAFailures = 5
	// RecoveryCodeCount recovery codes are made at a time.
	RecoveryCodeCount = 10
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

// mfaChallenge starts the second step of a login: an mfa_token bound to
// the user, the application and the scope granted.
func (s *Service) mfaChallenge(ctx context.Context, u store.User, app store.Application, scope string, cl Origin) error {
	token, err := s.randomToken(refreshTokenBytes)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.st.CreateMFAToken(ctx, store.MFAToken{
		Hash: jose.HashRandomSecret(token), UserID: u.ID, AppID: app.ID, Scope: scope,
		CreatedAt: now, ExpiresAt: now.Add(MFATokenTTL),
	})
	if err != nil {
		return fmt.Errorf("create mfa token: %w", err)
	}
	// Not a login yet: the password was right, the second step is pending.
	s.Audit(ctx, cl.event("mfa.challenge", "success", u.ID, u.ID, "mfa_token issued"))
	return &MFARequiredError{MFAToken: token}
}

// MFALoginRequest is the second step of a login: an mfa_token and either
// a TOTP code or a recovery code.
type MFALoginRequest struct {
	MFAToken     string
	OTP          string
	RecoveryCode string
	// AppID, when given, must be the application the mfa_token is for.
	AppID  string
	Origin Origin
}

// LoginMFA completes a login with its second step. A wrong, replayed or
// expired code or mfa_token is ErrInvalidGrant; wrong codes are counted
// against the mfa_token (not the password's lockout) and audited, and
// MaxMFAFailures of them kill it.
func (s *Service) LoginMFA(ctx context.Context, r MFALoginRequest) (Tokens, error) {
	hash := jose.HashRandomSecret(r.MFAToken)
	t, err := s.st.GetMFAToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		s.Audit(ctx, r.Origin.event("mfa.verify", "failure", "", "", "unknown mfa_token"))
		return Tokens{}, ErrInvalidGrant
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("get mfa token: %w", err)
	}
	fail := func(reason string) (Tokens, error) {
		s.Audit(ctx, r.Origin.event("mfa.verify", "failure", t.UserID, t.UserID, reason))
		return Tokens{}, ErrInvalidGrant
	}
	now := s.now()
	switch {
	case t.UsedAt != nil:
		return fail("mfa_token already used")
	case t.Failures >= MaxMFAFailures:
		return fail("mfa_token dead after too many wrong codes")
	case !now.Before(t.ExpiresAt):
		return fail("mfa_token expired")
	case r.AppID != "" && r.AppID != t.AppID:
		return fail("mfa_token is for another application")
	}
	u, err := s.st.GetUser(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return fail("user deleted")
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("get user: %w", err)
	}
	app, err := s.st.GetApplication(ctx, t.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return fail("application deleted")
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("get application: %w", err)
	}
	member, err := s.st.IsMember(ctx, app.ID, u.ID)
	if err != nil {
		return Tokens{}, fmt.Errorf("check membership: %w", err)
	}
	if cause := s.refusal(u, app, member); cause != "" {
		return fail(cause)
	}
	var amr []string
	var ok bool
	if r.RecoveryCode != "" {
		amr, ok = []string{AMRPassword, AMRMFA}, s.st.UseRecoveryCode(ctx, u.ID, hashRecoveryCode(u.ID, r.RecoveryCode), now) == nil
	} else {
		amr, ok = []string{AMRPassword, AMROTP}, s.useTOTP(ctx, u.ID, r.OTP, now)
	}
	if !ok {
		n, err := s.st.FailMFAToken(ctx, hash)
		if err != nil {
			return Tokens{}, fmt.Errorf("count wrong code: %w", err)
		}
		return fail(fmt.Sprintf("wrong %s (%d of %d)", methodName(amr), n, MaxMFAFailures))
	}
	if err := s.st.SpendMFAToken(ctx, hash, MaxMFAFailures, now); errors.Is(err, store.ErrTokenSpent) {
		return fail("mfa_token already used")
	} else if err != nil {
		return Tokens{}, fmt.Errorf("spend mfa token: %w", err)
	}
	role, err := s.st.GetRole(ctx, u.Role)
	if err != nil {
		return Tokens{}, fmt.Errorf("get role %q: %w", u.Role, err)
	}
	return s.issueSession(ctx, u, role, app, grantedScope(role, t.Scope), "", 0, true, amr, r.Origin, methodName(amr))
}

func methodName(amr []string) string {
	if slices.Contains(amr, AMRMFA) {
		return "recovery code"
	}
	return "totp code"
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
