// Package store persists gatehouse's domain: users, applications, roles,
// signing keys, refresh-token families, revoked access tokens and audit
// events. Store is the interface the rest of gatehouse consumes; DB is its
// one implementation, over database/sql, for SQLite and PostgreSQL alike.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors every implementation returns, so callers never match on a
// driver's message strings.
var (
	// ErrNotFound is returned when the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a write would break a uniqueness rule
	// (a username, e-mail, application name or role name already taken).
	ErrConflict = errors.New("conflict")
	// ErrTokenSpent is returned by RotateRefreshToken when the token was
	// already used or its family revoked: the caller has lost the race or is
	// replaying a stolen token.
	ErrTokenSpent = errors.New("refresh token already used")
	// ErrInUse is returned when a row cannot be deleted because others refer
	// to it (a role still held by users, the default application).
	ErrInUse = errors.New("in use")
	// ErrMailLimited is returned by CreateEmailToken when the address has
	// had as many mails as a MailLimit allows: nothing was stored.
	ErrMailLimited = errors.New("mail limit reached for the address")
)

// User is an account. Email is "" when the user has none.
type User struct {
	ID                string
	Username          string
	Email             string
	FirstName         string
	LastName          string
	Role              string
	PasswordHash      string
	PasswordChangedAt time.Time
	PasswordExpiresAt *time.Time // nil: never expires
	Disabled          bool
	EmailVerified     bool // the e-mail was confirmed (or an administrator said so)
	FailedAttempts    int
	LockedUntil       *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	// MFAEnabled is read-only: the user has a confirmed second factor.
	MFAEnabled bool
}

// Application is what a token is issued for (the seeds' "resource").
type Application struct {
	ID              string
	Name            string
	Audience        string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	IsDefault       bool
	CreatedAt       time.Time
	// Scopes are what the application may ask for with the
	// client_credentials grant (nil for none).
	Scopes []string
	// RedirectURIs and PostLogoutRedirectURIs are where an authorization
	// response and a sign-out may send the browser, exact strings (nil
	// for none).
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// ClientType is ClientPublic or ClientConfidential. Issuing client
	// credentials (a secret or a JWK Set) makes an application
	// confidential, in the same transaction.
	ClientType string
	// FirstParty applications sign users in without a consent page.
	FirstParty bool
}

// The client types of an application (RFC 6749 §2.1).
const (
	// ClientPublic holds no credentials: PKCE alone binds its codes.
	ClientPublic = "public"
	// ClientConfidential authenticates wherever it is named (RFC 6749
	// §3.2.1), with a secret or a client assertion.
	ClientConfidential = "confidential"
)

// Confidential reports whether the application must authenticate
// wherever it is named.
func (a Application) Confidential() bool { return a.ClientType == ClientConfidential }

// ApplicationSecret is a client secret of an application. Hash is the hex
// SHA-256 of the secret; the secret itself is never stored.
type ApplicationSecret struct {
	ID        string
	AppID     string
	Hash      string
	CreatedAt time.Time
	ExpiresAt *time.Time // nil: never expires
}

// Role names a set of scopes; its name becomes a token's sub_type and its
// code the numeric role of the /api/user/authenticate dialect.
type Role struct {
	Name   string
	Code   int
	Scopes []string
	// MFARequired: the role's users need a second factor; until they
	// confirm one, they log in with the scope cut to profile.
	MFARequired bool
}

// SigningKey is a JWT signing key. PrivateKey is PKCS#8 DER. A key is
// published from CreatedAt, signs from ActiveFrom, and stops signing at
// RetiredAt (which may lie in the future: a staged rotation).
type SigningKey struct {
	KID        string
	Alg        string
	PrivateKey []byte
	CreatedAt  time.Time
	ActiveFrom time.Time
	RetiredAt  *time.Time // nil: not retired
}

// RefreshToken is one link of a refresh-token family. Hash is the hex
// SHA-256 of the opaque token; the token itself is never stored.
type RefreshToken struct {
	Hash          string
	FamilyID      string
	UserID        string
	AppID         string
	Scope         string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time // set when the token has been rotated
	FamilyRevoked bool       // read-only: the family was revoked
	// FamilyKey is the family's secret for deriving successors; set when
	// the family is created, read back with every token of it (nil for
	// families made before it existed).
	FamilyKey []byte
	// ClientIP and UserAgent are those of the login or refresh that made
	// the token: written to its family as the session's last use, not
	// read back.
	ClientIP  string
	UserAgent string
	// AMR is the family's authentication methods (RFC 8176, space-
	// separated), set when the family is created; "" reads as "pwd".
	AMR string
}

// RefreshGrant is what a refresh of a token issues for, read at once: the
// token (with its family's state), its user, the user's role and the
// token's application.
type RefreshGrant struct {
	Token RefreshToken
	User  User
	Role  Role
	App   Application
	// Member: the user is still a member of App (every user is of the
	// default application).
	Member bool
}

// Session is a live refresh family as its user sees it.
type Session struct {
	ID         string // the family id, the access tokens' sid
	AppID      string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time // when the family's current refresh token expires
	ClientIP   string    // of the last use
	UserAgent  string    // of the last use
	AMR        string    // space-separated; "pwd" for families without one
}

// RefreshUse is a use of a session's refresh token: a refresh, or a reuse
// answered within the reuse interval.
type RefreshUse struct {
	At        time.Time
	ClientIP  string
	UserAgent string
}

// Revocation kinds: a revoked access token's jti, a revoked session's id.
const (
	RevokedJTI     = "jti"
	RevokedSession = "sid"
)

// Revocation is one entry of the revocation log: the jti or session id ID
// is denied until ExpiresAt, after which no token it denies is valid.
type Revocation struct {
	Kind      string // RevokedJTI or RevokedSession
	ID        string
	ExpiresAt time.Time
}

// AuditEvent records a security-relevant action. Detail never holds a
// secret.
type AuditEvent struct {
	ID        string
	Time      time.Time
	Action    string
	Outcome   string // "success" or "failure"
	ActorID   string
	SubjectID string
	ClientIP  string
	UserAgent string
	Dialect   string
	Detail    string
}

// APIKey is a user's API key. Hash is the hex SHA-256 of the key; Hint its
// prefix and last four characters. The key itself is never stored.
type APIKey struct {
	ID         string
	UserID     string
	Name       string
	Hash       string
	Hint       string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// EmailToken is a token mailed to a user: a verification, reset or
// invitation (Kind). Hash is the hex SHA-256 of the token; the token itself
// is never stored. Address is the case-folded address it was mailed to.
// UsedAt is set when it was spent or voided by a newer token of its kind.
type EmailToken struct {
	Hash      string
	UserID    string
	Kind      string
	Address   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// MailLimit allows at most Max mails to one address within Window.
type MailLimit struct {
	Window time.Duration
	Max    int
}

// LoginFailure is a failed login to count: failures before WindowStart no
// longer count, and the MaxAttempts-th locks the account until LockUntil.
type LoginFailure struct {
	At          time.Time
	WindowStart time.Time
	MaxAttempts int
	LockUntil   time.Time
}

// Page asks for up to Limit rows after the opaque cursor After ("" = first
// page). Implementations order by (created_at, id).
type Page struct {
	Limit int
	After string
}

// UserFilter narrows ListUsers. Query matches a substring of the username or
// e-mail, case-insensitively.
type UserFilter struct {
	Query string
}

// AuditFilter narrows ListAuditEvents; zero fields match everything.
type AuditFilter struct {
	ActorID   string
	SubjectID string
	Action    string
	Since     time.Time
	Until     time.Time
}

// Reader is the read side of Store: what impl/ and cmd/ consume. They
// read through it and change nothing themselves; every write goes
// through auth/, the one home of every rule, which audits it.
type Reader interface {
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByLogin finds a user by username or e-mail, case-insensitively.
	GetUserByLogin(ctx context.Context, login string) (User, error)
	ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, string, error)
	GetApplication(ctx context.Context, id string) (Application, error)
	ListApplications(ctx context.Context, p Page) ([]Application, string, error)
	ListMembers(ctx context.Context, appID string, p Page) ([]User, string, error)
	// ListApplicationSecrets lists an application's secrets, oldest first
	// (none for an unknown application).
	ListApplicationSecrets(ctx context.Context, appID string) ([]ApplicationSecret, error)
	GetRole(ctx context.Context, name string) (Role, error)
	ListRoles(ctx context.Context) ([]Role, error)
	// ListSigningKeys returns every key, newest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	ListAuditEvents(ctx context.Context, f AuditFilter, p Page) ([]AuditEvent, string, error)
	// Ping checks that the database answers and its schema is current.
	Ping(ctx context.Context) error
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks lists the webhook endpoints, oldest first.
	ListWebhooks(ctx context.Context, p Page) ([]Webhook, string, error)
	// ListWebhookDeliveries lists an endpoint's deliveries, newest first.
	ListWebhookDeliveries(ctx context.Context, webhookID string, p Page) ([]WebhookDelivery, string, error)
	// CountPendingWebhookDeliveries counts the deliveries still to be
	// delivered (or to fail).
	CountPendingWebhookDeliveries(ctx context.Context) (int64, error)
}

// Store is gatehouse's persistence. Every method is safe for concurrent use.
// List methods return the rows and the cursor of the next page ("" when there
// is none).
type Store interface {
	Reader
	// Second factors and secrets at rest (store/mfa.go).
	mfaStore
	// The console's overview (store/overview.go).
	overviewStore
	// CreateAuthorizationCode and SpendAuthorizationCode keep the codes
	// of the code flow (store/authorization_codes.go).
	CreateAuthorizationCode(ctx context.Context, c AuthorizationCode) error
	SpendAuthorizationCode(ctx context.Context, hash, familyID string, at time.Time) (AuthorizationCode, error)
	CreateUser(ctx context.Context, u User) error
	// UpdateUser writes every field of u but the password hash, the time
	// it was set and the lockout state.
	UpdateUser(ctx context.Context, u User) error
	DeleteUser(ctx context.Context, id string) error
	SetPassword(ctx context.Context, id, hash string, changedAt time.Time, expiresAt *time.Time) error
	// RecordLoginFailure counts a failed login (see LoginFailure) and
	// reports whether it locked the account.
	RecordLoginFailure(ctx context.Context, id string, f LoginFailure) (locked bool, err error)
	// ResetLoginFailures clears the counter and any lock.
	ResetLoginFailures(ctx context.Context, id string) error

	// CreateApplication stores an application; it starts with no members.
	CreateApplication(ctx context.Context, a Application) error
	DefaultApplication(ctx context.Context) (Application, error)
	UpdateApplication(ctx context.Context, a Application) error
	// DeleteApplication deletes an application, ending its sessions (their
	// ids are returned); ErrInUse for the default one.
	DeleteApplication(ctx context.Context, id string, at, keepUntil time.Time) ([]string, error)
	AddMember(ctx context.Context, appID, userID string) error
	// RemoveMember removes a member and ends the user's sessions of the
	// application, in one transaction, and returns their ids.
	RemoveMember(ctx context.Context, appID, userID string, at, keepUntil time.Time) ([]string, error)
	// IsMember reports whether the user may log in to the application;
	// every user is a member of the default application.
	IsMember(ctx context.Context, appID, userID string) (bool, error)

	// CreateApplicationSecret stores a client secret; an unknown
	// application is ErrNotFound.
	CreateApplicationSecret(ctx context.Context, sec ApplicationSecret) error
	DeleteApplicationSecret(ctx context.Context, appID, id string) error
	// GetApplicationJWKS reads the application's JWK Set, as JSON text
	// ("" when none was put).
	GetApplicationJWKS(ctx context.Context, appID string) (string, error)
	PutApplicationJWKS(ctx context.Context, appID, jwks string) error
	// UseClientAssertion records the jti of a client assertion of the
	// application until expiresAt; it returns ErrConflict when the jti was
	// already recorded (a replay).
	UseClientAssertion(ctx context.Context, appID, jti string, expiresAt time.Time) error
	// PutRole creates or replaces a role and reports whether it was created.
	PutRole(ctx context.Context, r Role) (created bool, err error)
	DeleteRole(ctx context.Context, name string) error

	CreateSigningKey(ctx context.Context, k SigningKey) error
	// RetireSigningKey sets the time the key kid stops signing (at may lie
	// ahead); a key already retired keeps the earlier time.
	RetireSigningKey(ctx context.Context, kid string, at time.Time) error
	// DeleteSigningKeysRetiredBefore removes keys retired before t.
	DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error

	// CreateRefreshToken stores the first token of a new family.
	// The events are appended to the audit log in the same transaction.
	CreateRefreshToken(ctx context.Context, t RefreshToken, events ...AuditEvent) error
	// GetRefreshToken finds a token by hash, used or not.
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// GetRefreshGrant finds a token by hash, used or not, with its user,
	// the user's role and its application, in one read; ErrNotFound when
	// there is no such token.
	GetRefreshGrant(ctx context.Context, hash string) (RefreshGrant, error)
	// RotateRefreshToken marks the token oldHash used at now and stores next
	// in the same family, in one transaction. It returns ErrTokenSpent when
	// oldHash was already used or its family revoked: of two concurrent
	// rotations of one token exactly one succeeds.
	RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time) error
	// RevokeRefreshFamily revokes a family (a session) at at and logs its
	// id as a revoked session until keepUntil, in one transaction.
	RevokeRefreshFamily(ctx context.Context, familyID string, at, keepUntil time.Time) error
	// RevokeUserRefreshFamilies revokes every live family of a user but
	// except ("" for none), as RevokeRefreshFamily does, and returns the
	// ids it revoked (password change, disable).
	RevokeUserRefreshFamilies(ctx context.Context, userID, except string, at, keepUntil time.Time) ([]string, error)
	// RevokeUserRefreshFamily revokes the live family familyID of the user
	// userID as RevokeRefreshFamily does; ErrNotFound when the user has no
	// such live family.
	RevokeUserRefreshFamily(ctx context.Context, userID, familyID string, at, keepUntil time.Time) error
	// ListSessions lists the user's live sessions at now (not revoked,
	// their current refresh token not expired), oldest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// TouchRefreshFamily records a use of the family that rotated nothing
	// (a reuse answered within the reuse interval).
	TouchRefreshFamily(ctx context.Context, familyID string, use RefreshUse) error

	// RevokeAccessToken puts a jti on the deny-list (the revocation log)
	// until expiresAt.
	RevokeAccessToken(ctx context.Context, jti string, expiresAt time.Time) error
	IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error)
	// RevocationsSince returns the revocation log's entries after cursor
	// (0: all of them) and the cursor to pass next time. An entry may come
	// back more than once; none written before the call is ever missed,
	// whichever node wrote it.
	RevocationsSince(ctx context.Context, cursor int64) ([]Revocation, int64, error)
	// PurgeExpired deletes what expired before now: revocation-log
	// entries, client-assertion jtis, refresh tokens (and the families
	// they leave empty), e-mail tokens, mfa tokens and webhook deliveries; and the mail sends
	// that no limit of limits (those CreateEmailToken is given) counts any
	// more at now. It deletes in short transactions, not in one.
	PurgeExpired(ctx context.Context, now time.Time, limits []MailLimit) error

	CreateAPIKey(ctx context.Context, k APIKey) error
	GetAPIKey(ctx context.Context, id string) (APIKey, error)
	GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// ListAPIKeys lists a user's keys that are not revoked.
	ListAPIKeys(ctx context.Context, userID string, p Page) ([]APIKey, string, error)
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// TouchAPIKeys records last-used times in one write.
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error

	// CreateEmailToken counts a mail to t.Address at t.CreatedAt, voids
	// the user's older tokens of t.Kind and stores t, in one transaction.
	// It returns ErrMailLimited, storing nothing, when a limit is reached.
	// A t without UserID is stored as a dummy of no user: the same work
	// for an address no user has.
	CreateEmailToken(ctx context.Context, t EmailToken, limits []MailLimit) error
	// GetEmailToken finds a token by hash, used or not.
	GetEmailToken(ctx context.Context, hash string) (EmailToken, error)
	// SpendEmailToken marks the token used at at; ErrTokenSpent when it
	// was already used or voided, ErrNotFound when there is none.
	SpendEmailToken(ctx context.Context, hash string, at time.Time) error
	// SetEmailVerified sets the user's email_verified flag.
	SetEmailVerified(ctx context.Context, userID string, verified bool) error

	// AppendAuditEvent stores e and, in the same transaction, a pending
	// delivery to every enabled webhook endpoint subscribed to its action
	// (the outbox); every audit event written in another transaction
	// (CreateRefreshToken's) enqueues its deliveries the same way.
	AppendAuditEvent(ctx context.Context, e AuditEvent) error

	// CreateWebhook stores an endpoint and its events.
	CreateWebhook(ctx context.Context, w Webhook) error
	// UpdateWebhook replaces an endpoint's URL, description, disabled
	// flag and events.
	UpdateWebhook(ctx context.Context, w Webhook) error
	// RotateWebhookSecret sets an endpoint's secret, previous signing
	// beside it until until.
	RotateWebhookSecret(ctx context.Context, id string, secret, previous []byte, until, at time.Time) error
	DeleteWebhook(ctx context.Context, id string) error
	// RetryWebhookDelivery makes a delivery pending and due at at.
	RetryWebhookDelivery(ctx context.Context, webhookID, eventID string, at time.Time) (WebhookDelivery, error)
	// ClaimWebhookDeliveries claims the due deliveries for one attempt
	// each, none claimed by two workers at once (see DB's).
	ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]DueDelivery, error)
	// FinishWebhookDelivery records an attempt's outcome.
	FinishWebhookDelivery(ctx context.Context, o DeliveryOutcome) (bool, error)
	Close() error
}
