package auth

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/store"
)

// IDClaims are the claims of an ID token (OpenID Connect Core §2, §3.1.3.6,
// §5.1): who signed in, to which client, when and how, and by scope the
// user's profile and e-mail.
type IDClaims struct {
	jwt.RegisteredClaims
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	Nonce    string           `json:"nonce,omitempty"`
	AMR      []string         `json:"amr,omitempty"`
	SID      string           `json:"sid,omitempty"`
	ATHash   string           `json:"at_hash,omitempty"`
	UserClaims
}

// UserClaims are the claims about the user that the profile and email
// scopes release, in the ID token and at the userinfo endpoint.
type UserClaims struct {
	PreferredUsername string `json:"preferred_username,omitempty"`
	Name              string `json:"name,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	Email             string `json:"email,omitempty"`
	EmailVerified     *bool  `json:"email_verified,omitempty"`
}

// UserClaimsFor returns the claims about u that scopes release.
func UserClaimsFor(u store.User, scopes []string) UserClaims {
	var c UserClaims
	if slices.Contains(scopes, ScopeProfile) {
		c.PreferredUsername, c.GivenName, c.FamilyName = u.Username, u.FirstName, u.LastName
		c.Name = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	if slices.Contains(scopes, ScopeEmail) && u.Email != "" {
		verified := u.EmailVerified
		c.Email, c.EmailVerified = u.Email, &verified
	}
	return c
}

// idTokenTTL is how long an ID token is valid: it is read once, at sign-in.
const idTokenTTL = 10 * time.Minute

// issueIDToken signs the ID token of u's sign-in to app in the session
// sid, with at_hash of the access token issued with it.
func (s *Service) issueIDToken(u store.User, app store.Application, scopes []string, nonce, sid string, authTime time.Time, amr []string, accessToken string) (string, error) {
	alg := s.cfg.SigningAlg
	now := s.now().Truncate(time.Second)
	c := IDClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.cfg.Issuer, Subject: u.ID, Audience: jwt.ClaimStrings{app.ID},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(idTokenTTL)),
		},
		AuthTime: jwt.NewNumericDate(authTime), Nonce: nonce, AMR: amr, SID: sid,
		ATHash:     tokenHash(alg, accessToken),
		UserClaims: UserClaimsFor(u, scopes),
	}
	return s.sign(alg, c)
}

// tokenHash is an at_hash (OpenID Connect Core §3.1.3.6): the left half
// of the hash of token under the hash of the ID token's alg, base64url.
func tokenHash(alg, token string) string {
	var h hash.Hash = sha256.New()
	if alg == "EdDSA" {
		// Ed25519 signs with SHA-512 (as zitadel/oidc and go-oidc read it).
		h = sha512.New()
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// ErrNoOpenIDScope is returned by UserInfo for a valid access token whose
// scope lacks openid.
var ErrNoOpenIDScope = errors.New("the token's scope lacks openid")

// UserInfo returns the user an access token (of any application) was
// issued to and the claims its scopes release (OpenID Connect Core §5.3).
// A token that does not verify, is revoked or names no user any more is
// ErrInvalidToken; one without openid, ErrNoOpenIDScope.
func (s *Service) UserInfo(ctx context.Context, token string) (store.User, UserClaims, error) {
	c, err := s.VerifyAccessToken(ctx, token, "")
	if err != nil {
		return store.User{}, UserClaims{}, err
	}
	scopes := strings.Fields(c.Scope)
	if !slices.Contains(scopes, ScopeOpenID) {
		return store.User{}, UserClaims{}, ErrNoOpenIDScope
	}
	u, err := s.st.GetUser(ctx, c.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, UserClaims{}, fmt.Errorf("%w: the user no longer exists", ErrInvalidToken)
	}
	if err != nil {
		return store.User{}, UserClaims{}, err
	}
	return u, UserClaimsFor(u, scopes), nil
}
