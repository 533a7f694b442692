package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/store"
)

// refreshTokenBytes is the entropy of a refresh token: 256 bits.
const refreshTokenBytes = 32

func (s *Service) newRefreshToken() (token, hash string, err error) {
	token, err = s.randomToken(refreshTokenBytes)
	return token, hashRefreshToken(token), err
}

// newRefreshFamily starts a refresh-token family for a fresh login.
func (s *Service) newRefreshFamily(ctx context.Context, u store.User, app store.Application, scope string) (string, time.Time, error) {
	token, hash, err := s.newRefreshToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	t := store.RefreshToken{
		Hash: hash, FamilyID: uuid.NewString(), UserID: u.ID, AppID: app.ID,
		Scope: scope, CreatedAt: now, ExpiresAt: now.Add(app.RefreshTokenTTL),
	}
	if err := s.st.CreateRefreshToken(ctx, t); err != nil {
		return "", time.Time{}, fmt.Errorf("create refresh token: %w", err)
	}
	return token, t.ExpiresAt, nil
}

// RefreshRequest is a refresh-token grant from any dialect.
type RefreshRequest struct {
	Token     string
	Alg       string
	AccessTTL time.Duration
	Client    Client
}

// Refresh spends a refresh token and issues a new access token and refresh
// token in the same family. A spent token used again revokes the family:
// either it was stolen, or two clients raced and only one may win.
func (s *Service) Refresh(ctx context.Context, r RefreshRequest) (Session, error) {
	hash := hashRefreshToken(r.Token)
	old, err := s.st.GetRefreshToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrInvalidGrant
	}
	if err != nil {
		return Session{}, fmt.Errorf("get refresh token: %w", err)
	}
	now := s.now()
	fail := func(reason string) (Session, error) {
		s.Audit(ctx, r.Client.event("refresh", "failure", old.UserID, old.UserID, reason))
		return Session{}, ErrInvalidGrant
	}
	switch {
	case old.FamilyRevoked:
		return fail("family revoked")
	case old.UsedAt != nil:
		return Session{}, s.reuseDetected(ctx, old, r.Client)
	case !now.Before(old.ExpiresAt):
		return fail("expired")
	}
	u, err := s.st.GetUser(ctx, old.UserID)
	if err != nil {
		return Session{}, fmt.Errorf("get user: %w", err)
	}
	if u.Disabled || (u.LockedUntil != nil && now.Before(*u.LockedUntil)) {
		return fail("user cannot log in")
	}
	app, err := s.st.GetApplication(ctx, old.AppID)
	if err != nil {
		return Session{}, fmt.Errorf("get application: %w", err)
	}
	role, err := s.st.GetRole(ctx, u.Role)
	if err != nil {
		return Session{}, fmt.Errorf("get role %q: %w", u.Role, err)
	}
	// The role may have lost scopes since the family began.
	scope := strings.Join(slices.DeleteFunc(strings.Fields(old.Scope), func(sc string) bool {
		return !slices.Contains(role.Scopes, sc)
	}), " ")

	token, newHash, err := s.newRefreshToken()
	if err != nil {
		return Session{}, err
	}
	next := store.RefreshToken{
		Hash: newHash, FamilyID: old.FamilyID, UserID: u.ID, AppID: app.ID,
		Scope: scope, CreatedAt: now, ExpiresAt: now.Add(app.RefreshTokenTTL),
	}
	err = s.st.RotateRefreshToken(ctx, hash, next, now)
	if errors.Is(err, store.ErrTokenSpent) {
		return Session{}, s.reuseDetected(ctx, old, r.Client)
	}
	if err != nil {
		return Session{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	sess := Session{User: u, Role: role, App: app, RefreshToken: token, RefreshExpiresAt: next.ExpiresAt}
	if sess.Access, err = s.issueAccessToken(u, app, scope, r.Alg, cmp.Or(r.AccessTTL, app.AccessTokenTTL)); err != nil {
		return Session{}, err
	}
	// A successful refresh is not audited: it is routine, frequent, and
	// the family's login already was. Failures and reuse are.
	return sess, nil
}

func (s *Service) reuseDetected(ctx context.Context, t store.RefreshToken, cl Client) error {
	if err := s.st.RevokeRefreshFamily(ctx, t.FamilyID, s.now()); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	s.Audit(ctx, cl.event("refresh.reuse", "failure", t.UserID, t.UserID, "family "+t.FamilyID+" revoked"))
	return ErrInvalidGrant
}

// Revoke revokes a token (RFC 7009): a refresh token's whole family, or an
// access token's jti until it expires. Unknown and invalid tokens are not
// an error.
func (s *Service) Revoke(ctx context.Context, token string, cl Client) error {
	if looksLikeJWT(token) {
		c, err := s.parseAccessToken(token, "")
		if err != nil {
			return nil
		}
		if err := s.st.RevokeAccessToken(ctx, c.ID, c.ExpiresAt.Time.Add(s.cfg.Leeway)); err != nil {
			return fmt.Errorf("revoke access token: %w", err)
		}
		s.Audit(ctx, cl.event("token.revoke", "success", c.Subject, c.Subject, "access token"))
		return nil
	}
	t, err := s.st.GetRefreshToken(ctx, hashRefreshToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get refresh token: %w", err)
	}
	if err := s.st.RevokeRefreshFamily(ctx, t.FamilyID, s.now()); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	s.Audit(ctx, cl.event("token.revoke", "success", t.UserID, t.UserID, "refresh family "+t.FamilyID))
	return nil
}

// Introspection is RFC 7662's answer; only Active is set for a token that
// is not valid now.
type Introspection struct {
	Active    bool
	TokenType string // "access_token" or "refresh_token"
	Claims    Claims // for a refresh token: sub, scope, aud (the app), exp, iat
}

// Introspect tells whether token is valid now, and what it carries.
func (s *Service) Introspect(ctx context.Context, token string) (Introspection, error) {
	if looksLikeJWT(token) {
		c, err := s.VerifyAccessToken(ctx, token, "")
		if errors.Is(err, ErrInvalidToken) {
			return Introspection{}, nil
		}
		if err != nil {
			return Introspection{}, err
		}
		return Introspection{Active: true, TokenType: "access_token", Claims: c}, nil
	}
	t, err := s.st.GetRefreshToken(ctx, hashRefreshToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Introspection{}, nil
	}
	if err != nil {
		return Introspection{}, fmt.Errorf("get refresh token: %w", err)
	}
	if t.FamilyRevoked || t.UsedAt != nil || !s.now().Before(t.ExpiresAt) {
		return Introspection{}, nil
	}
	c := Claims{Scope: t.Scope}
	c.Subject, c.Issuer = t.UserID, s.cfg.Issuer
	c.Audience = []string{t.AppID}
	c.IssuedAt, c.ExpiresAt = jwt.NewNumericDate(t.CreatedAt), jwt.NewNumericDate(t.ExpiresAt)
	return Introspection{Active: true, TokenType: "refresh_token", Claims: c}, nil
}
