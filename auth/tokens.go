package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/store"
)

// Claims are the claims of every access token gatehouse signs, whatever
// the dialect that asked for it.
type Claims struct {
	jwt.RegisteredClaims
	SubType  string `json:"sub_type,omitempty"`
	Scope    string `json:"scope,omitempty"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	// SessionID is the refresh family the token was issued with (its
	// login and every refresh of it), "" for a login without one.
	SessionID string `json:"sid,omitempty"`
	// AMR is how the user authenticated (RFC 8176): ["pwd"], ["pwd",
	// "otp"] or ["pwd", "mfa"].
	AMR []string `json:"amr,omitempty"`
	// EmailVerified is always present: false until the address is verified.
	EmailVerified bool `json:"email_verified"`
}

// Scopes splits the scope claim.
func (c Claims) Scopes() []string { return strings.Fields(c.Scope) }

// AccessToken is a signed JWT and its claims.
type AccessToken struct {
	Token     string
	Claims    Claims
	ExpiresAt time.Time
}

// issueAccessToken signs a token for u in app, with alg ("" = the default),
// in the session sid ("" for none), with the authentication methods amr.
func (s *Service) issueAccessToken(u store.User, app store.Application, scope, alg, sid string, ttl time.Duration, amr []string) (AccessToken, error) {
	if alg == "" {
		alg = s.cfg.SigningAlg
	}
	kid, method, key, ok := s.Keys().Active(alg, s.now())
	if !ok {
		return AccessToken{}, fmt.Errorf("no active %s signing key", alg)
	}
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
	t := jwt.NewWithClaims(method, c)
	t.Header["kid"] = kid
	signed, err := t.SignedString(key)
	if err != nil {
		return AccessToken{}, fmt.Errorf("sign token: %w", err)
	}
	return AccessToken{Token: signed, Claims: c, ExpiresAt: exp}, nil
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
	// One spelling per token: base64url and dots only, decoded strictly,
	// so a token cannot be re-spelled (padding bits, CR/LF) and still pass.
	if strings.Trim(token, jwsAlphabet) != "" {
		return Claims{}, fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	parser := jwt.NewParser(jwt.WithValidMethods(keys.Algs()), jwt.WithStrictDecoding(), jwt.WithoutClaimsValidation())
	var c Claims
	_, err := parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		alg, pub, ok := keys.Public(kid)
		if !ok {
			return nil, errors.New("unknown kid")
		}
		// The key decides the algorithm, never the token's header.
		if t.Method.Alg() != alg {
			return nil, fmt.Errorf("alg %s does not match key %s", t.Method.Alg(), alg)
		}
		return pub, nil
	})
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

// hashRefreshToken is what the store keeps of a refresh token.
func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// jwsAlphabet is every character of a compact JWS.
const jwsAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

// looksLikeJWT tells access tokens from opaque refresh tokens.
func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }
