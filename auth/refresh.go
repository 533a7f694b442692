package auth

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// refreshTokenBytes is the entropy of a refresh token and of a family's
// successor key: 256 bits.
const refreshTokenBytes = 32

// newRefreshFamily starts the refresh-token family (the session) id for a
// fresh login from cl, storing the audit events with it.
func (s *Service) newRefreshFamily(ctx context.Context, id string, u store.User, app store.Application, scope string, amr []string, cl Origin, events ...store.AuditEvent) (string, time.Time, error) {
	token, err := s.randomToken(refreshTokenBytes)
	if err != nil {
		return "", time.Time{}, err
	}
	key := make([]byte, refreshTokenBytes)
	if _, err := io.ReadFull(s.cfg.Rand, key); err != nil {
		return "", time.Time{}, fmt.Errorf("random: %w", err)
	}
	now := s.now()
	t := store.RefreshToken{
		Hash: jose.HashRandomSecret(token), FamilyID: id, UserID: u.ID, AppID: app.ID,
		Scope: scope, CreatedAt: now, ExpiresAt: now.Add(app.RefreshTokenTTL), FamilyKey: key,
		ClientIP: cl.IP, UserAgent: cl.UserAgent, AMR: strings.Join(amr, " "),
	}
	if err := s.st.CreateRefreshToken(ctx, t, events...); err != nil {
		return "", time.Time{}, fmt.Errorf("create refresh token: %w", err)
	}
	return token, t.ExpiresAt, nil
}

// successor is the refresh token that replaces token in its family: an
// HMAC of token under the family's key, so every use of token within the
// reuse interval is answered with the same successor, which is never
// stored (only its hash is) and which no client can compute. A family
// from before successor keys gets a random successor.
func (s *Service) successor(old store.RefreshToken, token string) (string, error) {
	if old.FamilyKey == nil {
		return s.randomToken(refreshTokenBytes)
	}
	mac := hmac.New(sha256.New, old.FamilyKey)
	mac.Write([]byte("gatehouse refresh successor\x00" + token))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// RefreshRequest is a refresh-token grant from any dialect.
type RefreshRequest struct {
	Token     string
	Alg       string
	AccessTTL time.Duration
	// ClientID is the application the request names as its client (""
	// for none); ClientAuthenticated tells it authenticated as that
	// client (IdentifyClient). A token is refreshed only by the client it
	// was issued to, and a confidential one's only with its credentials.
	ClientID            string
	ClientAuthenticated bool
	Origin              Origin
}

// Refresh spends a refresh token and issues a new access token and refresh
// token in the same family. A spent token used again within the reuse
// interval of its first use gets the same successor (two tabs refreshing
// at once); used again later, or once its successor is spent too, it
// revokes the family: it was stolen, or its holder is out of date.
func (s *Service) Refresh(ctx context.Context, r RefreshRequest) (Tokens, error) {
	hash := jose.HashRandomSecret(r.Token)
	// One read: the token, its family, user, role and application.
	g, err := s.st.GetRefreshGrant(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		// No token to check the client against: an unknown client is
		// still invalid_client.
		if r.ClientID != "" && !r.ClientAuthenticated {
			if _, err := s.IdentifyClient(ctx, ClientAuth{ID: r.ClientID}, r.Origin); err != nil {
				return Tokens{}, err
			}
		}
		return Tokens{}, ErrInvalidGrant
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("get refresh token: %w", err)
	}
	old := g.Token
	if err := s.refreshClient(ctx, g, r); err != nil {
		return Tokens{}, err
	}
	now := s.now()
	switch {
	case old.FamilyRevoked:
		return s.refreshFailed(ctx, old, r.Origin, "family revoked")
	case old.UsedAt != nil:
		return s.refreshSpent(ctx, r, old, now)
	case !now.Before(old.ExpiresAt):
		return s.refreshFailed(ctx, old, r.Origin, "expired")
	}
	sess, scope, err := s.refreshSession(ctx, g, r.Origin)
	if err != nil {
		return Tokens{}, err
	}
	token, err := s.successor(old, r.Token)
	if err != nil {
		return Tokens{}, err
	}
	next := store.RefreshToken{
		Hash: jose.HashRandomSecret(token), FamilyID: old.FamilyID, UserID: old.UserID, AppID: old.AppID,
		Scope: scope, CreatedAt: now, ExpiresAt: now.Add(sess.App.RefreshTokenTTL),
		ClientIP: r.Origin.IP, UserAgent: r.Origin.UserAgent,
	}
	err = s.st.RotateRefreshToken(ctx, hash, next, now)
	if errors.Is(err, store.ErrTokenSpent) {
		// A concurrent use got there first: this one is a reuse, maybe
		// within the interval.
		if old, err = s.st.GetRefreshToken(ctx, hash); err != nil {
			return Tokens{}, fmt.Errorf("get refresh token: %w", err)
		}
		if old.FamilyRevoked {
			return s.refreshFailed(ctx, old, r.Origin, "family revoked")
		}
		return s.refreshSpent(ctx, r, old, now)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	sess.RefreshToken, sess.RefreshExpiresAt = token, next.ExpiresAt
	// A successful refresh is not audited: it is routine, frequent, and
	// the family's login already was. Failures and reuse are.
	if err := s.issueRefreshed(&sess, r, old.FamilyID, scope); err != nil {
		return Tokens{}, err
	}
	return sess, nil
}

// refreshSpent answers a use of the spent token old: within the reuse
// interval of its first use, and while its successor is the family's live
// token, with that successor and a fresh access token; otherwise it is
// reuse, and the family is revoked.
func (s *Service) refreshSpent(ctx context.Context, r RefreshRequest, old store.RefreshToken, now time.Time) (Tokens, error) {
	if s.cfg.RefreshReuseInterval <= 0 || old.FamilyKey == nil || !now.Before(old.UsedAt.Add(s.cfg.RefreshReuseInterval)) {
		return Tokens{}, s.reuseDetected(ctx, old, r.Origin)
	}
	token, err := s.successor(old, r.Token)
	if err != nil {
		return Tokens{}, err
	}
	g, err := s.st.GetRefreshGrant(ctx, jose.HashRandomSecret(token))
	next := g.Token
	if errors.Is(err, store.ErrNotFound) || (err == nil && next.UsedAt != nil) {
		return Tokens{}, s.reuseDetected(ctx, old, r.Origin)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("get refresh token: %w", err)
	}
	if next.FamilyRevoked || !now.Before(next.ExpiresAt) {
		return s.refreshFailed(ctx, old, r.Origin, "family revoked")
	}
	sess, _, err := s.refreshSession(ctx, g, r.Origin)
	if err != nil {
		return Tokens{}, err
	}
	// The answer is a use of the session too.
	if err := s.st.TouchRefreshFamily(ctx, next.FamilyID, store.RefreshUse{At: now, ClientIP: r.Origin.IP, UserAgent: r.Origin.UserAgent}); err != nil {
		return Tokens{}, fmt.Errorf("touch refresh family: %w", err)
	}
	sess.RefreshToken, sess.RefreshExpiresAt = token, next.ExpiresAt
	if err := s.issueRefreshed(&sess, r, next.FamilyID, next.Scope); err != nil {
		return Tokens{}, err
	}
	return sess, nil
}

// refreshClient checks that the client refreshing g's token is the one
// it was issued to (RFC 6749 §6): a request that names another
// application is ErrInvalidGrant (ErrInvalidClient when it names none
// that exists), and a confidential application's token is refreshed only
// by that application, authenticated (ErrInvalidClient). It is checked
// before anything else, so another client's request spends nothing and
// detects no reuse.
func (s *Service) refreshClient(ctx context.Context, g store.RefreshGrant, r RefreshRequest) error {
	switch {
	case r.ClientID == g.App.ID || r.ClientID == "":
		if g.App.Confidential() && !r.ClientAuthenticated {
			s.Audit(ctx, r.Origin.event("client.authenticate", "failure", "", g.App.ID, "a confidential client must authenticate"))
			return fmt.Errorf("%w: a confidential client must authenticate", ErrInvalidClient)
		}
		return nil
	case !r.ClientAuthenticated:
		// An unknown client, or a confidential one that did not
		// authenticate, is invalid_client before the token is looked at.
		if _, err := s.IdentifyClient(ctx, ClientAuth{ID: r.ClientID}, r.Origin); err != nil {
			return err
		}
	}
	_, err := s.refreshFailed(ctx, g.Token, r.Origin, "issued to another client")
	return err
}

// refreshSession checks what a refresh of g's token issues for, read with
// it: its user, who must still be allowed to log in to its application
// (refusal), and role; and cuts the token's scope to what the role still
// grants.
func (s *Service) refreshSession(ctx context.Context, g store.RefreshGrant, cl Origin) (Tokens, string, error) {
	t, u := g.Token, g.User
	if cause := s.refusal(u, g.App, g.Member); cause != "" {
		_, err := s.refreshFailed(ctx, t, cl, cause)
		return Tokens{}, "", err
	}
	return Tokens{User: u, Role: g.Role, App: g.App, AMR: strings.Fields(t.AMR)}, grantedScope(g.Role, t.Scope), nil
}

// issueRefreshed signs the access token of the refreshed session sid.
func (s *Service) issueRefreshed(sess *Tokens, r RefreshRequest, sid, scope string) error {
	var err error
	sess.Access, err = s.issueAccessToken(sess.User, sess.App, scope, r.Alg, sid, cmp.Or(r.AccessTTL, sess.App.AccessTokenTTL), sess.AMR)
	return err
}

// refreshFailed audits a refused refresh of t and returns ErrInvalidGrant.
func (s *Service) refreshFailed(ctx context.Context, t store.RefreshToken, cl Origin, reason string) (Tokens, error) {
	s.Audit(ctx, cl.event("refresh", "failure", t.UserID, t.UserID, reason))
	return Tokens{}, ErrInvalidGrant
}

func (s *Service) reuseDetected(ctx context.Context, t store.RefreshToken, cl Origin) error {
	// The family's session ends with it.
	if err := s.revokeFamily(ctx, t.FamilyID); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("refresh.reuse", "failure", t.UserID, t.UserID, "family "+t.FamilyID+" revoked"))
	return ErrInvalidGrant
}

// Revoke revokes a token (RFC 7009): a refresh token's whole family, or an
// access token's jti until it expires. Unknown and invalid tokens are not
// an error. A request that names a client (IdentifyClient; a zero
// application when none) revokes only the tokens issued to it (RFC 7009
// §2.1): another client's is ErrOtherClient, and nothing is revoked. One
// that names none revokes any token it holds: holding it is the right.
func (s *Service) Revoke(ctx context.Context, token string, client store.Application, cl Origin) error {
	if jose.LooksCompact(token) {
		c, err := s.parseAccessToken(token, "", s.cfg.Leeway)
		if err != nil {
			return nil
		}
		if client.ID != "" && !slices.Contains(c.Audience, client.Audience) {
			s.Audit(ctx, cl.event("token.revoke", "failure", client.ID, c.Subject, "access token issued to another client"))
			return ErrOtherClient
		}
		until := c.ExpiresAt.Time.Add(s.cfg.Leeway)
		if err := s.st.RevokeAccessToken(ctx, c.ID, until); err != nil {
			return fmt.Errorf("revoke access token: %w", err)
		}
		s.revoked.add(store.RevokedJTI, c.ID, until)
		s.Audit(ctx, cl.event("token.revoke", "success", c.Subject, c.Subject, "access token"))
		return nil
	}
	t, err := s.st.GetRefreshToken(ctx, jose.HashRandomSecret(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get refresh token: %w", err)
	}
	if client.ID != "" && client.ID != t.AppID {
		s.Audit(ctx, cl.event("token.revoke", "failure", client.ID, t.UserID, "refresh token issued to another client"))
		return ErrOtherClient
	}
	if err := s.revokeFamily(ctx, t.FamilyID); err != nil {
		return err
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

// Introspect tells whether token is valid now, and what it carries. It
// allows no leeway: a token past its exp is not active.
func (s *Service) Introspect(ctx context.Context, token string) (Introspection, error) {
	if jose.LooksCompact(token) {
		c, err := s.verifyAccessToken(ctx, token, "", 0)
		if errors.Is(err, ErrInvalidToken) {
			return Introspection{}, nil
		}
		if err != nil {
			return Introspection{}, err
		}
		return Introspection{Active: true, TokenType: "access_token", Claims: c}, nil
	}
	t, err := s.st.GetRefreshToken(ctx, jose.HashRandomSecret(token))
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
