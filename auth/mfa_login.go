package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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
	t, u, app, amr, err := s.secondStep(ctx, r)
	if err != nil {
		return Tokens{}, err
	}
	role, err := s.st.GetRole(ctx, u.Role)
	if err != nil {
		return Tokens{}, fmt.Errorf("get role %q: %w", u.Role, err)
	}
	return s.issueSession(ctx, u, role, app, grantedScope(role, t.Scope), "", 0, true, amr, r.Origin, methodName(amr))
}

// secondStep checks and spends r's mfa_token with its code, for the mfa
// grants and the hosted page's second step alike, and returns the token,
// its user and application (checked by the one login rule) and how the
// user authenticated.
func (s *Service) secondStep(ctx context.Context, r MFALoginRequest) (store.MFAToken, store.User, store.Application, []string, error) {
	hash := jose.HashRandomSecret(r.MFAToken)
	t, err := s.st.GetMFAToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		s.Audit(ctx, r.Origin.event("mfa.verify", "failure", "", "", "unknown mfa_token"))
		return store.MFAToken{}, store.User{}, store.Application{}, nil, ErrInvalidGrant
	}
	if err != nil {
		return store.MFAToken{}, store.User{}, store.Application{}, nil, fmt.Errorf("get mfa token: %w", err)
	}
	fail := func(reason string) (store.MFAToken, store.User, store.Application, []string, error) {
		s.Audit(ctx, r.Origin.event("mfa.verify", "failure", t.UserID, t.UserID, reason))
		return store.MFAToken{}, store.User{}, store.Application{}, nil, ErrInvalidGrant
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
		return store.MFAToken{}, store.User{}, store.Application{}, nil, fmt.Errorf("get user: %w", err)
	}
	app, err := s.st.GetApplication(ctx, t.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return fail("application deleted")
	}
	if err != nil {
		return store.MFAToken{}, store.User{}, store.Application{}, nil, fmt.Errorf("get application: %w", err)
	}
	member, err := s.st.IsMember(ctx, app.ID, u.ID)
	if err != nil {
		return store.MFAToken{}, store.User{}, store.Application{}, nil, fmt.Errorf("check membership: %w", err)
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
			return store.MFAToken{}, store.User{}, store.Application{}, nil, fmt.Errorf("count wrong code: %w", err)
		}
		return fail(fmt.Sprintf("wrong %s (%d of %d)", methodName(amr), n, MaxMFAFailures))
	}
	if err := s.st.SpendMFAToken(ctx, hash, MaxMFAFailures, now); errors.Is(err, store.ErrTokenSpent) {
		return fail("mfa_token already used")
	} else if err != nil {
		return store.MFAToken{}, store.User{}, store.Application{}, nil, fmt.Errorf("spend mfa token: %w", err)
	}
	return t, u, app, amr, nil
}

func methodName(amr []string) string {
	if slices.Contains(amr, AMRMFA) {
		return "recovery code"
	}
	return "totp code"
}
