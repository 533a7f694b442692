package jose

import (
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of gatehouse's access tokens, whatever the dialect
// that asked for one: auth signs them, verify reads them.
type Claims struct {
	// RegisteredClaims are iss, sub, aud, exp, nbf, iat and jti.
	jwt.RegisteredClaims
	// SubType is the user's role, or "client" for a token of the
	// client_credentials grant.
	SubType string `json:"sub_type,omitempty"`
	// Scope is space-separated; see Scopes.
	Scope    string `json:"scope,omitempty"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	// EmailVerified is always present: false until the address is verified.
	EmailVerified bool `json:"email_verified"`
	// AMR is how the user authenticated (RFC 8176): ["pwd"], ["pwd",
	// "otp"], ["pwd", "mfa"], ...
	AMR []string `json:"amr,omitempty"`
	// SessionID is sid, the session (refresh family) the token was issued
	// in: its login and every refresh of it; "" for none.
	SessionID string `json:"sid,omitempty"`
	// Raw holds every claim as decoded JSON, extras included, where the
	// reader keeps them (verify does; auth does not). It is never signed.
	Raw map[string]any `json:"-"`
}

// Scopes splits Scope.
func (c Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScopes reports whether the token grants every one of scopes.
func (c Claims) HasScopes(scopes ...string) bool {
	have := c.Scopes()
	for _, s := range scopes {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}
