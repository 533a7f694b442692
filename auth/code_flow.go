package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// The authorization code flow after the request is validated: a sign-in
// on the hosted page (through checkPassword and the one login rule, as
// the password grant), a code bound to everything the request asked, and
// its exchange at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6).

// CodeTTL is how long an authorization code lives.
const CodeTTL = 60 * time.Second

// SignedIn is a user who signed in on the hosted page: when, and how
// (RFC 8176).
type SignedIn struct {
	User     store.User
	AuthTime time.Time
	AMR      []string
}

// SignInPassword checks a sign-in on the hosted page as a password login
// is checked (lockout, the per-user failure counter, one hash for an
// unknown user, the one login rule, audit). Every failure is
// ErrInvalidCredentials, the cause in the audit log; a user with a
// second factor gets an *MFARequiredError, whose mfa_token the hosted
// page carries to SignInSecondStep.
func (s *Service) SignInPassword(ctx context.Context, r AuthRequest, login, password string, cl Origin) (SignedIn, error) {
	u, err := s.checkPassword(ctx, login, password, cl)
	if err != nil {
		return SignedIn{}, err
	}
	member, err := s.st.IsMember(ctx, r.App.ID, u.ID)
	if err != nil {
		return SignedIn{}, fmt.Errorf("check membership: %w", err)
	}
	cause := s.refusal(u, r.App, member)
	if cause == "" && s.passwordExpired(u) {
		cause = "password expired"
	}
	if cause != "" {
		s.Audit(ctx, cl.event("login", "failure", u.ID, u.ID, cause))
		return SignedIn{}, ErrInvalidCredentials
	}
	if u.MFAEnabled {
		return SignedIn{}, s.mfaChallenge(ctx, u, r.App, "", cl)
	}
	return SignedIn{User: u, AuthTime: s.now().Truncate(time.Second), AMR: []string{AMRPassword}}, nil
}

// totpCodeRE is what a TOTP code looks like; anything else typed on the
// second step is taken for a recovery code.
var totpCodeRE = regexp.MustCompile(`^[0-9]{6}$`)

// SignInSecondStep completes a hosted sign-in with the second step: the
// mfa_token SignInPassword gave and a TOTP code or a recovery code, as the
// mfa grants check them (one use, 5 minutes, bound to the user and r's
// application, 5 wrong codes, audited). Every failure is
// ErrInvalidGrant.
func (s *Service) SignInSecondStep(ctx context.Context, r AuthRequest, mfaToken, code string, cl Origin) (SignedIn, error) {
	code = strings.TrimSpace(code)
	req := MFALoginRequest{MFAToken: mfaToken, AppID: r.App.ID, Origin: cl}
	if totpCodeRE.MatchString(code) {
		req.OTP = code
	} else {
		req.RecoveryCode = code
	}
	_, u, _, amr, err := s.secondStep(ctx, req)
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{User: u, AuthTime: s.now().Truncate(time.Second), AMR: amr}, nil
}

// oidcScopes are the scopes of OpenID Connect itself, which any signed-in
// user may grant; the others must be the user's role's.
var oidcScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess}

// IssueCode makes the code that answers r for the signed-in user. A scope
// outside OpenID Connect's and the user's role's is an
// *AuthRedirectError (invalid_scope); for a role that requires a second
// factor the user has not confirmed, the role's scopes are cut to
// profile, as for the password grant.
func (s *Service) IssueCode(ctx context.Context, r AuthRequest, in SignedIn) (string, error) {
	role, err := s.st.GetRole(ctx, in.User.Role)
	if err != nil {
		return "", fmt.Errorf("get role %q: %w", in.User.Role, err)
	}
	granted := role.Scopes
	if role.MFARequired && !in.User.MFAEnabled {
		granted = []string{mfaEnrolScope}
	}
	for _, sc := range r.Scopes {
		if !slices.Contains(oidcScopes, sc) && !slices.Contains(granted, sc) {
			return "", authFault(r, AuthInvalidScope, "scope "+sc+" is not granted to the user")
		}
	}
	code, err := s.randomToken(32)
	if err != nil {
		return "", err
	}
	now := s.now()
	c := store.AuthorizationCode{
		Hash: jose.HashRandomSecret(code), AppID: r.App.ID, UserID: in.User.ID, RedirectURI: r.RedirectURI,
		CodeChallenge: r.CodeChallenge, Nonce: r.Nonce, Scope: strings.Join(r.Scopes, " "),
		AuthTime: in.AuthTime, AMR: strings.Join(in.AMR, " "), CreatedAt: now, ExpiresAt: now.Add(CodeTTL),
	}
	if err := s.st.CreateAuthorizationCode(ctx, c); err != nil {
		return "", err
	}
	return code, nil
}

// CodeExchange is a token request with grant_type=authorization_code.
type CodeExchange struct {
	Code, RedirectURI, CodeVerifier string
	// Client is the application the request named (IdentifyClient), and
	// ClientAuthenticated whether it authenticated.
	Client              store.Application
	ClientAuthenticated bool
	Origin              Origin
}

// CodeTokens are what a code's exchange yields: the session's tokens (the
// refresh token only for a confidential client or with offline_access),
// the granted scope, and, with openid, the ID token.
type CodeTokens struct {
	Tokens
	Scope   string
	IDToken string
}

// pkceVerifierRE is a code verifier (RFC 7636 §4.1).
var pkceVerifierRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// ExchangeCode spends a code and issues the session it grants. Every
// fault of the code — unknown, spent, expired, issued to another client
// or for another redirect_uri, a code_verifier that does not match — is
// ErrInvalidGrant, and the code is spent all the same; a second use also
// revokes the session the first started (RFC 6749 §4.1.2). A request that
// names no client, or a confidential client that did not authenticate,
// is ErrInvalidClient.
func (s *Service) ExchangeCode(ctx context.Context, x CodeExchange) (CodeTokens, error) {
	switch {
	case x.Client.ID == "":
		return CodeTokens{}, fmt.Errorf("%w: client_id is required", ErrInvalidClient)
	case x.Client.Confidential() && !x.ClientAuthenticated:
		s.Audit(ctx, x.Origin.event("client.authenticate", "failure", "", x.Client.ID, "a confidential client must authenticate"))
		return CodeTokens{}, fmt.Errorf("%w: a confidential client must authenticate", ErrInvalidClient)
	}
	sid, err := s.newID()
	if err != nil {
		return CodeTokens{}, err
	}
	now := s.now()
	c, err := s.st.SpendAuthorizationCode(ctx, jose.HashRandomSecret(x.Code), sid, now)
	fail := func(userID, reason string) (CodeTokens, error) {
		s.Audit(ctx, x.Origin.event("login", "failure", userID, userID, "authorization code: "+reason))
		return CodeTokens{}, fmt.Errorf("%w: %s", ErrInvalidGrant, reason)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail("", "unknown code")
	case errors.Is(err, store.ErrTokenSpent):
		if c.FamilyID != "" {
			until := s.sessionKeepUntil(now)
			if err := s.st.RevokeRefreshFamily(ctx, c.FamilyID, now, until); err != nil && !errors.Is(err, store.ErrNotFound) {
				return CodeTokens{}, fmt.Errorf("revoke the code's session: %w", err)
			}
			s.sessionsEnded([]string{c.FamilyID}, until)
		}
		s.Audit(ctx, x.Origin.event("code.reuse", "failure", c.UserID, c.UserID, "session "+c.FamilyID+" revoked"))
		return CodeTokens{}, fmt.Errorf("%w: the code was used already", ErrInvalidGrant)
	case err != nil:
		return CodeTokens{}, err
	case !now.Before(c.ExpiresAt):
		return fail(c.UserID, "expired")
	case c.AppID != x.Client.ID:
		return fail(c.UserID, "issued to another client")
	case x.RedirectURI != c.RedirectURI:
		return fail(c.UserID, "redirect_uri differs from the authorization request's")
	case !pkceVerifierRE.MatchString(x.CodeVerifier) || !pkceMatches(x.CodeVerifier, c.CodeChallenge):
		return fail(c.UserID, "code_verifier does not match the code_challenge")
	}
	u, err := s.st.GetUser(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return fail(c.UserID, "user deleted")
	}
	if err != nil {
		return CodeTokens{}, err
	}
	member, err := s.st.IsMember(ctx, x.Client.ID, u.ID)
	if err != nil {
		return CodeTokens{}, fmt.Errorf("check membership: %w", err)
	}
	if cause := s.refusal(u, x.Client, member); cause != "" {
		return fail(u.ID, cause)
	}
	role, err := s.st.GetRole(ctx, u.Role)
	if err != nil {
		return CodeTokens{}, fmt.Errorf("get role %q: %w", u.Role, err)
	}
	scopes := strings.Fields(c.Scope)
	amr := strings.Fields(c.AMR)
	tokens, err := s.issueSessionAs(ctx, sid, u, role, x.Client, c.Scope, "", 0, amr, x.Origin, "authorization code")
	if err != nil {
		return CodeTokens{}, err
	}
	out := CodeTokens{Tokens: tokens, Scope: c.Scope}
	if !x.Client.Confidential() && !slices.Contains(scopes, ScopeOfflineAccess) {
		// The session stands (it ends with the user's sessions), but a
		// public client gets no refresh token without offline_access.
		out.RefreshToken, out.RefreshExpiresAt = "", time.Time{}
	}
	if slices.Contains(scopes, ScopeOpenID) {
		out.IDToken, err = s.issueIDToken(u, x.Client, scopes, c.Nonce, sid, c.AuthTime, amr, tokens.Access.Token)
		if err != nil {
			return CodeTokens{}, err
		}
	}
	return out, nil
}

// pkceMatches reports whether verifier's S256 transform is challenge.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}
