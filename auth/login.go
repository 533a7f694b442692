package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/store"
)

// LoginRequest is a password login from any dialect.
type LoginRequest struct {
	// Login is a username or an e-mail.
	Login    string
	Password string
	// AppID is the application's id; "" is the default application.
	AppID string
	// Scope narrows the role's scopes; "" asks for all of them.
	Scope string
	// Alg overrides the default signing algorithm; AccessTTL the
	// application's access-token lifetime.
	Alg       string
	AccessTTL time.Duration
	// Refresh asks for a refresh token too.
	Refresh bool
	// MFA: the caller can carry a second step (the native token
	// endpoint). A user with a factor then gets an *MFARequiredError;
	// without MFA (the dialects) the login fails as a wrong password does.
	MFA    bool
	Origin Origin
}

// Tokens are what a successful login or refresh yields: the access
// token, the refresh token when one was asked for, and what they were
// issued for. (store.Session is a refresh family as its user sees it.)
type Tokens struct {
	Access           AccessToken
	RefreshToken     string // "" when none was asked for
	RefreshExpiresAt time.Time
	User             store.User
	Role             store.Role
	App              store.Application
	// AMR is how the user authenticated (RFC 8176), kept by the family.
	AMR []string
}

// Login checks a password and issues tokens. Every failure that must look
// like a wrong password is ErrInvalidCredentials and costs one password
// hash, whatever its cause; the cause goes to the audit log.
func (s *Service) Login(ctx context.Context, r LoginRequest) (Tokens, error) {
	app, err := s.application(ctx, r.AppID)
	if err != nil {
		return Tokens{}, err
	}
	u, err := s.checkPassword(ctx, r.Login, r.Password, r.Origin)
	if err != nil {
		return Tokens{}, err
	}
	fail := func(reason string, err error) (Tokens, error) {
		s.Audit(ctx, r.Origin.event("login", "failure", u.ID, u.ID, reason))
		return Tokens{}, err
	}
	member, err := s.st.IsMember(ctx, app.ID, u.ID)
	if err != nil {
		return Tokens{}, fmt.Errorf("check membership: %w", err)
	}
	if cause := s.refusal(u, app, member); cause != "" {
		return fail(cause, ErrInvalidCredentials)
	}
	if s.passwordExpired(u) {
		return fail("password expired", ErrPasswordExpired)
	}
	role, err := s.st.GetRole(ctx, u.Role)
	if err != nil {
		return Tokens{}, fmt.Errorf("get role %q: %w", u.Role, err)
	}
	scope, err := narrowScope(role.Scopes, r.Scope)
	if err != nil {
		return fail("scope not granted", err)
	}
	if u.MFAEnabled {
		if !r.MFA {
			return fail(causeMFARequired, ErrInvalidCredentials)
		}
		return Tokens{}, s.mfaChallenge(ctx, u, app, scope, r.Origin)
	}
	if role.MFARequired {
		// Enough to enrol a factor, nothing more, until one is confirmed.
		scope = mfaEnrolScope
	}
	return s.issueSession(ctx, u, role, app, scope, r.Alg, r.AccessTTL, r.Refresh, []string{AMRPassword}, r.Origin, "")
}

// refusal is the one rule of who may get tokens for an application, asked
// by every path that issues them — a password login (every dialect), a
// refresh (it continues a login, so it stops when a login would), the
// second step of a login and the code flow — after each has checked its
// own credential. It returns the cause of a refusal, for the audit log, or
// "" when u may: an enabled, unlocked user (with a verified e-mail when
// that is required) who is a member of app.
func (s *Service) refusal(u store.User, app store.Application, member bool) string {
	switch {
	case u.Disabled:
		return "disabled"
	case u.LockedUntil != nil && s.now().Before(*u.LockedUntil):
		return "locked"
	case s.cfg.RequireVerifiedEmail && !u.EmailVerified:
		return "e-mail not verified"
	case !member:
		return "not a member of " + app.ID
	}
	return ""
}

// grantedScope is scope cut to what the role grants now: a refresh or a
// second step continues a grant whose role may have lost scopes since.
func grantedScope(role store.Role, scope string) string {
	return strings.Join(slices.DeleteFunc(strings.Fields(scope), func(sc string) bool {
		return !slices.Contains(role.Scopes, sc)
	}), " ")
}

// issueSession signs the access token (and, when refresh is set, starts a
// refresh family: a session, whose id is the token's sid) of a login from
// cl that has passed every check, and audits its success with detail: in
// the family's transaction when it starts one, so a login writes once.
func (s *Service) issueSession(ctx context.Context, u store.User, role store.Role, app store.Application, scope, alg string, accessTTL time.Duration, refresh bool, amr []string, cl Origin, detail string) (Tokens, error) {
	if !refresh {
		ttl := cmp.Or(accessTTL, app.AccessTokenTTL)
		sess := Tokens{User: u, Role: role, App: app, AMR: amr}
		var err error
		if sess.Access, err = s.issueAccessToken(u, app, scope, alg, "", ttl, amr); err != nil {
			return Tokens{}, err
		}
		s.Audit(ctx, cl.event("login", "success", u.ID, u.ID, detail))
		return sess, nil
	}
	sid, err := s.newID()
	if err != nil {
		return Tokens{}, err
	}
	return s.issueSessionAs(ctx, sid, u, role, app, scope, alg, accessTTL, amr, cl, detail)
}

// issueSessionAs is issueSession starting the refresh family sid.
func (s *Service) issueSessionAs(ctx context.Context, sid string, u store.User, role store.Role, app store.Application, scope, alg string, accessTTL time.Duration, amr []string, cl Origin, detail string) (Tokens, error) {
	ttl := cmp.Or(accessTTL, app.AccessTokenTTL)
	sess := Tokens{User: u, Role: role, App: app, AMR: amr}
	var err error
	if sess.Access, err = s.issueAccessToken(u, app, scope, alg, sid, ttl, amr); err != nil {
		return Tokens{}, err
	}
	success := s.stamped(cl.event("login", "success", u.ID, u.ID, detail))
	sess.RefreshToken, sess.RefreshExpiresAt, err = s.newRefreshFamily(ctx, sid, u, app, scope, amr, cl, success)
	if err != nil {
		return Tokens{}, err
	}
	s.notify(success)
	return sess, nil
}

// AuthenticatePassword checks a username (or e-mail) and password as a
// login does, lockout and all, but accepts an expired password: it lets a
// user whose password has expired change it. A user with a second factor
// is refused as for a wrong password (the cause audited): the password
// alone must not change the password, nor end the sessions a change
// ends. Such a user whose password expired resets it by e-mail, or an
// administrator sets it.
func (s *Service) AuthenticatePassword(ctx context.Context, login, password string, cl Origin) (store.User, error) {
	u, err := s.checkPassword(ctx, login, password, cl)
	if err == nil && u.MFAEnabled {
		s.Audit(ctx, cl.event("login", "failure", u.ID, u.ID, causeMFARequired))
		return store.User{}, ErrInvalidCredentials
	}
	return u, err
}

// checkPassword finds the user and verifies the password, counting
// failures toward a lockout. An unknown, disabled or locked user gets the
// same hashing work as a wrong password.
func (s *Service) checkPassword(ctx context.Context, login, password string, cl Origin) (store.User, error) {
	u, err := s.st.GetUserByLogin(ctx, login)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, s.rejectWithoutUser(ctx, password, cl, "unknown user")
	case err != nil:
		return store.User{}, fmt.Errorf("get user: %w", err)
	case u.Disabled:
		return store.User{}, s.rejectWithoutUser(ctx, password, cl, "disabled", u.ID)
	case u.LockedUntil != nil && s.now().Before(*u.LockedUntil):
		return store.User{}, s.rejectWithoutUser(ctx, password, cl, "locked", u.ID)
	case u.PasswordHash == "":
		// Invited, and no password set yet.
		return store.User{}, s.rejectWithoutUser(ctx, password, cl, "no password set", u.ID)
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, ErrPasswordTooLong) {
		ok, err = false, nil
	}
	if err != nil {
		return store.User{}, err
	}
	if !ok {
		now := s.now()
		locked, err := s.st.RecordLoginFailure(ctx, u.ID, store.LoginFailure{
			At: now, WindowStart: now.Add(-s.cfg.LockoutWindow), MaxAttempts: s.cfg.MaxFailedLogins, LockUntil: now.Add(s.cfg.LockoutDuration),
		})
		if err != nil {
			return store.User{}, fmt.Errorf("record login failure: %w", err)
		}
		s.Audit(ctx, cl.event("login", "failure", u.ID, u.ID, "wrong password"))
		if locked {
			s.Audit(ctx, cl.event("lockout", "success", u.ID, u.ID, fmt.Sprintf("locked for %s", s.cfg.LockoutDuration)))
		}
		return store.User{}, ErrInvalidCredentials
	}
	if u.FailedAttempts > 0 || u.LockedUntil != nil {
		if err := s.st.ResetLoginFailures(ctx, u.ID); err != nil {
			return store.User{}, fmt.Errorf("reset login failures: %w", err)
		}
	}
	if rehash {
		s.upgradeHash(ctx, u, password)
	}
	return u, nil
}

// rejectWithoutUser burns one dummy hash, audits the cause and answers
// ErrInvalidCredentials (or the hasher's overload error).
func (s *Service) rejectWithoutUser(ctx context.Context, password string, cl Origin, reason string, userID ...string) error {
	if _, err := s.hasher.VerifyDummy(ctx, password); err != nil && !errors.Is(err, ErrPasswordTooLong) {
		return err
	}
	id := strings.Join(userID, "")
	s.Audit(ctx, cl.event("login", "failure", id, id, reason))
	return ErrInvalidCredentials
}

// upgradeHash re-hashes a password whose stored hash is bcrypt or has old
// parameters. A failure only delays the upgrade to the next login.
func (s *Service) upgradeHash(ctx context.Context, u store.User, password string) {
	h, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = s.st.SetPassword(ctx, u.ID, h, u.PasswordChangedAt, u.PasswordExpiresAt)
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
	}
}

// PasswordExpiry is when u's password expires, nil for never: the earlier
// of the administrator's password_expires_at and the maximum age.
func (s *Service) PasswordExpiry(u store.User) *time.Time {
	exp := u.PasswordExpiresAt
	if s.cfg.PasswordMaxAge > 0 {
		byAge := u.PasswordChangedAt.Add(s.cfg.PasswordMaxAge)
		if exp == nil || byAge.Before(*exp) {
			exp = &byAge
		}
	}
	return exp
}

func (s *Service) passwordExpired(u store.User) bool {
	exp := s.PasswordExpiry(u)
	return exp != nil && !s.now().Before(*exp)
}

func (s *Service) application(ctx context.Context, id string) (store.Application, error) {
	if id == "" {
		return s.st.DefaultApplication(ctx)
	}
	if uuid.Validate(id) != nil {
		return store.Application{}, ErrUnknownApplication
	}
	app, err := s.st.GetApplication(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Application{}, ErrUnknownApplication
	}
	return app, err
}

// narrowScope returns the requested scopes if the role grants them all, or
// every scope of the role when none is requested.
func narrowScope(granted []string, requested string) (string, error) {
	want := strings.Fields(requested)
	if len(want) == 0 {
		return strings.Join(granted, " "), nil
	}
	for _, sc := range want {
		if !slices.Contains(granted, sc) {
			return "", fmt.Errorf("%w: %s", ErrInvalidScope, sc)
		}
	}
	return strings.Join(want, " "), nil
}
