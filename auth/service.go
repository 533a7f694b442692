// Package auth is gatehouse's domain: logins, refresh-token rotation,
// revocation, introspection, password policy, signing keys and the JWTs
// they sign. It knows nothing of HTTP; impl/ adapts it to each dialect.
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/auth/seal"
	"github.com/gatehouse-auth/gatehouse/mail"
	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/webhook"
)

// Domain errors. Dialects map them to their own bodies in impl/.
var (
	// ErrInvalidCredentials is returned for every login failure that must
	// look like a wrong password: unknown user, wrong password, disabled,
	// locked, not a member of the application.
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrPasswordExpired is returned when the password was right but has
	// expired; dialects that do not tell answer as for ErrInvalidCredentials.
	ErrPasswordExpired = errors.New("password expired")
	// ErrUnknownApplication is returned when a login names an application
	// that does not exist.
	ErrUnknownApplication = errors.New("unknown application")
	// ErrInvalidScope is returned when a login asks for a scope its role
	// does not grant.
	ErrInvalidScope = errors.New("scope not granted")
	// ErrInvalidGrant is returned for a refresh token that is unknown,
	// spent, revoked or expired, or whose user can no longer log in.
	ErrInvalidGrant = errors.New("invalid refresh token")
	// ErrInvalidToken is returned when an access token fails verification.
	ErrInvalidToken = errors.New("invalid access token")
	// ErrOtherClient is returned when a client asks to act on a token
	// issued to another client.
	ErrOtherClient = errors.New("the token was issued to another client")
)

// Config holds the service's settings; zero values take the defaults.
type Config struct {
	// Issuer is every token's iss.
	Issuer string
	// SigningAlg signs tokens unless a caller asks for another algorithm.
	SigningAlg string
	// Leeway tolerates clock skew when checking exp and nbf of a token
	// presented as a credential (introspection uses none); zero takes the
	// default of 30 s, a negative value means none.
	Leeway time.Duration
	// RefreshReuseInterval is how long after its first use a refresh token
	// still gets the same successor (two tabs refreshing at once); zero
	// takes the default of 10 s, a negative value turns it off.
	RefreshReuseInterval time.Duration
	// MaxFailedLogins failures within LockoutWindow lock an account for
	// LockoutDuration.
	MaxFailedLogins int
	LockoutWindow   time.Duration
	LockoutDuration time.Duration
	// PasswordMaxAge expires passwords this long after they were set; 0
	// disables expiry by age.
	PasswordMaxAge time.Duration
	// MinPasswordLength is the shortest password accepted, in characters.
	MinPasswordLength int
	// RetiredKeyRetention keeps a retired signing key in the JWKS this long,
	// which must outlast the longest access-token lifetime.
	RetiredKeyRetention time.Duration
	// KeyActivationDelay is how long a rotated key is published in the
	// JWKS before it signs (20 minutes by default): longer than resource
	// servers' JWKS caches keep a set, so they know the key before its
	// first token. An immediate rotation skips it.
	KeyActivationDelay time.Duration
	// AdminScopes are the scopes of the built-in admin role: every scope
	// the API defines. UserScopes are those of the built-in user role.
	AdminScopes []string
	UserScopes  []string
	Logger      *slog.Logger

	// Accounts by e-mail (DESIGN.md). Mailer sends the mails (nil:
	// mail.Disabled, which sends nothing); PublicURL is the base of their
	// links (the Issuer when ""). Signup opens POST /v1/signup.
	// RequireVerifiedEmail refuses logins of unverified users, as for a
	// wrong password. The token lifetimes default to 24 h, 1 h and 7 days;
	// MailLimits to DefaultMailLimits.
	Mailer                                        mail.Sender
	PublicURL                                     string
	Signup                                        bool
	RequireVerifiedEmail                          bool
	VerifyTokenTTL, ResetTokenTTL, InviteTokenTTL time.Duration
	MailLimits                                    []store.MailLimit

	// WebhookGuard checks webhook URLs when endpoints are created or
	// changed (the worker checks again at each delivery).
	WebhookGuard webhook.Guard

	// OnEvent, when set, sees every audit event (metrics count them).
	OnEvent func(store.AuditEvent)
	// Sealer seals secrets at rest (TOTP secrets, signing keys' private
	// parts) under the master key; nil keeps them plain (unit tests only:
	// gatehouse.Open always sets one).
	Sealer *seal.Sealer
	// Now is the clock of every time the service stamps or compares
	// (token and code lifetimes, lockouts, sessions, audit events); Rand
	// is the randomness of every id, token, secret, successor key, TOTP
	// secret and recovery code it makes. Both are injected for tests.
	// Signing keys and password salts come from crypto/rand whatever Rand
	// is: Go 1.26's key generation ignores a caller's reader (tests use
	// testing/cryptotest.SetGlobalRandom), and the Hasher is not the
	// service's. How long a hash took is measured on the wall clock.
	Now  func() time.Time
	Rand io.Reader
}

// Defaults of the Config durations that can also be turned off.
const (
	DefaultLeeway               = 30 * time.Second
	DefaultRefreshReuseInterval = 10 * time.Second
)

// orDefault maps a Config duration to its value in force: zero is def, a
// negative value is none.
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

func (c Config) withDefaults() Config {
	if c.Issuer == "" {
		c.Issuer = "gatehouse"
	}
	if c.SigningAlg == "" {
		c.SigningAlg = AlgES256
	}
	c.Leeway = orDefault(c.Leeway, DefaultLeeway)
	c.RefreshReuseInterval = orDefault(c.RefreshReuseInterval, DefaultRefreshReuseInterval)
	if c.MaxFailedLogins == 0 {
		c.MaxFailedLogins = 10
	}
	if c.LockoutWindow == 0 {
		c.LockoutWindow = 15 * time.Minute
	}
	if c.LockoutDuration == 0 {
		c.LockoutDuration = 15 * time.Minute
	}
	if c.MinPasswordLength == 0 {
		c.MinPasswordLength = 8
	}
	if c.RetiredKeyRetention == 0 {
		c.RetiredKeyRetention = 25 * time.Hour
	}
	if c.KeyActivationDelay == 0 {
		c.KeyActivationDelay = DefaultKeyActivationDelay
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return c.withAccountDefaults()
}

// DefaultKeyActivationDelay is Config.KeyActivationDelay's default: more
// than the 15-minute floor of common JWKS caches (lestrrat-go/jwx) and
// than the JWKS's default max-age.
const DefaultKeyActivationDelay = 20 * time.Minute

// Service carries out gatehouse's domain operations over a store.
type Service struct {
	st     store.Store
	hasher *Hasher
	cfg    Config
	keys   atomic.Pointer[Keyring]
	usage  apiKeyUsage
	// verified remembers the access tokens whose signature this node
	// has verified under the current keys (verified.go).
	verified verifiedTokens
	// revoked is this node's copy of the revocation log (sessions.go).
	revoked revocations
	// ownAudience is the default application's audience, the only one
	// gatehouse's own API accepts (see VerifyOwnAccessToken).
	ownAudience atomic.Pointer[string]
	// mails are the mails being sent in the background.
	mails sync.WaitGroup
}

// New returns a Service. Call Bootstrap before serving.
func New(st store.Store, hasher *Hasher, cfg Config) *Service {
	return &Service{st: st, hasher: hasher, cfg: cfg.withDefaults()}
}

// Issuer is the iss of every token the service signs.
func (s *Service) Issuer() string { return s.cfg.Issuer }

// SigningAlg is the default signing algorithm.
func (s *Service) SigningAlg() string { return s.cfg.SigningAlg }

// OwnAudience is gatehouse's own audience: the default application's. It
// is "" (no token passes) until Bootstrap has run.
func (s *Service) OwnAudience() string {
	if a := s.ownAudience.Load(); a != nil {
		return *a
	}
	return ""
}

// ReloadOwnAudience reads the default application's audience again; call
// it when the default application changes (every node also does on its
// key-reload tick).
func (s *Service) ReloadOwnAudience(ctx context.Context) error {
	app, err := s.st.DefaultApplication(ctx)
	if err != nil {
		return fmt.Errorf("get default application: %w", err)
	}
	s.ownAudience.Store(&app.Audience)
	return nil
}

// Keys returns the signing keys currently loaded.
func (s *Service) Keys() *Keyring { return s.keys.Load() }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// newID is a random (version 4) UUID drawn from the injected randomness,
// for every row the service creates.
func (s *Service) newID() (string, error) {
	id, err := uuid.NewRandomFromReader(s.cfg.Rand)
	if err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return id.String(), nil
}

// Audit records e, stamped with the time. A failure to record is logged,
// never returned: an action does not fail because its audit row did not
// land. (A login's success is stored with its session instead, in one
// transaction: see issueSession.)
func (s *Service) Audit(ctx context.Context, e store.AuditEvent) {
	e = s.stamped(e)
	s.notify(e)
	if err := s.st.AppendAuditEvent(ctx, e); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "audit event lost", "action", e.Action, "err", err)
	}
}

// stamped returns e with the time set when it has none.
func (s *Service) stamped(e store.AuditEvent) store.AuditEvent {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	return e
}

// notify shows e to OnEvent (the metrics).
func (s *Service) notify(e store.AuditEvent) {
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(e)
	}
}

// Origin identifies where a request came from (its IP address, user
// agent and dialect), for the audit log.
type Origin struct {
	IP        string
	UserAgent string
	Dialect   string
}

func (c Origin) event(action, outcome, actor, subject, detail string) store.AuditEvent {
	return store.AuditEvent{
		Action: action, Outcome: outcome, ActorID: actor, SubjectID: subject,
		ClientIP: c.IP, UserAgent: c.UserAgent, Dialect: c.Dialect, Detail: detail,
	}
}
