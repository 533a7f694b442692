package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// Claims are the claims of every access token gatehouse signs, whatever
// the dialect that asked for it: jose's, the one type verify reads too.
type Claims = jose.Claims

// AccessToken is a signed JWT and its claims.
type AccessToken struct {
	Token     string
	Claims    Claims
	ExpiresAt time.Time
}

// issueAccessToken signs a token for u in app, with alg ("" = the default),
// in the session sid ("" for none), with the authentication methods amr.
func (s *Service) issueAccessToken(u store.User, app store.Application, scope, alg, sid string, ttl time.Duration, amr []string) (AccessToken, error) {
	jti, err := s.randomToken(16)
	if err != nil {
		return AccessToken{}, err
	}
	now := s.now().Truncate(time.Second)
	exp := now.Add(ttl)
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   u.ID,
			Audience:  jwt.ClaimStrings{app.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        jti,
		},
		SubType:       u.Role,
		Scope:         scope,
		Username:      u.Username,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		SessionID:     sid,
		AMR:           amr,
	}
	signed, err := s.sign(alg, c)
	if err != nil {
		return AccessToken{}, err
	}
	return AccessToken{Token: signed, Claims: c, ExpiresAt: exp}, nil
}

// sign signs c with the active key of alg ("" = the default).
func (s *Service) sign(alg string, c jwt.Claims) (string, error) {
	if alg == "" {
		alg = s.cfg.SigningAlg
	}
	kid, method, key, ok := s.Keys().Active(alg, s.now())
	if !ok {
		return "", fmt.Errorf("no active %s signing key", alg)
	}
	t := jwt.NewWithClaims(method, c)
	t.Header["kid"] = kid
	signed, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

// parseAccessToken checks signature, algorithm, kid, iss, exp and nbf (with
// leeway), and aud when audience is not "". It does not consult the
// deny-list. A token whose signature this node verified before under the
// current keys is not verified again (verified.go); its claims are checked
// all the same.
func (s *Service) parseAccessToken(token, audience string, leeway time.Duration) (Claims, error) {
	keys := s.Keys()
	c, ok := s.verified.get(keys, token)
	if !ok {
		var err error
		if c, err = verifySignature(keys, token); err != nil {
			return Claims{}, err
		}
		s.verified.put(keys, token, c)
	}
	opts := []jwt.ParserOption{
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.cfg.Now),
	}
	if audience != "" {
		opts = append(opts, jwt.WithAudience(audience))
	}
	if err := jwt.NewValidator(opts...).Validate(c); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return c, nil
}

// verifySignature checks token's form, algorithm, kid and signature under
// keys, and returns its claims, which must name sub and jti; it checks
// nothing that depends on the time or the audience.
func verifySignature(keys *Keyring, token string) (Claims, error) {
	var c Claims
	_, err := jose.Verify(token, &c, keys.Algs(), func(h jose.Header) (jose.Key, error) {
		alg, pub, ok := keys.Public(h.Kid)
		if !ok {
			return jose.Key{}, errors.New("unknown kid")
		}
		return jose.Key{Kid: h.Kid, Alg: alg, Public: pub}, nil
	}, jwt.WithoutClaimsValidation())
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" || c.ID == "" {
		return Claims{}, fmt.Errorf("%w: missing sub or jti", ErrInvalidToken)
	}
	return c, nil
}

// VerifyAccessToken verifies token as parseAccessToken does, with the
// configured leeway, and rejects a revoked jti or session.
func (s *Service) VerifyAccessToken(ctx context.Context, token, audience string) (Claims, error) {
	return s.verifyAccessToken(ctx, token, audience, s.cfg.Leeway)
}

// VerifyOwnAccessToken verifies a token presented to gatehouse's own API:
// as VerifyAccessToken does, and only for gatehouse's own audience (the
// default application's). A token issued for another application is for
// that application's resource server and never administers gatehouse,
// whatever its scopes (RFC 8725 section 3.9).
func (s *Service) VerifyOwnAccessToken(ctx context.Context, token string) (Claims, error) {
	return s.verifyAccessToken(ctx, token, s.OwnAudience(), s.cfg.Leeway)
}

func (s *Service) verifyAccessToken(ctx context.Context, token, audience string, leeway time.Duration) (Claims, error) {
	c, err := s.parseAccessToken(token, audience, leeway)
	if err != nil {
		return Claims{}, err
	}
	// The node's copy of the revocation log, current to its last sync
	// (and at once for what this node revoked): no database read.
	if s.revoked.revoked(c.ID, c.SessionID) {
		return Claims{}, fmt.Errorf("%w: revoked", ErrInvalidToken)
	}
	return c, nil
}

// randomToken returns n random bytes, base64url-encoded.
func (s *Service) randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
