package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// Introspect asks the discovered introspection endpoint (RFC 7662) about
// token with Options.Introspection's credential. An inactive token, or one
// of another issuer or audience, wraps ErrInvalidToken (inactive also
// ErrInactive); the claims are those the server returns. Use it, or
// RequireActive, where a revocation must be seen at once; Verify is
// offline.
func (v *Verifier) Introspect(ctx context.Context, token string) (*Claims, error) {
	if v.cred == nil {
		return nil, ErrNoIntrospection
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.introspectURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	switch c := v.cred; {
	case c.ClientID != "":
		// RFC 6749 section 2.3.1: each part form-encoded first.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	case c.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+c.BearerToken)
	default:
		req.Header.Set("X-API-Key", c.APIKey)
	}
	resp, err := v.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspect: status %d", resp.StatusCode)
	}
	var in client.Introspection
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	if !in.Active {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, ErrInactive)
	}
	c := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: deref(in.Iss), Subject: deref(in.Sub), ID: deref(in.Jti),
			ExpiresAt: unix(in.Exp), IssuedAt: unix(in.Iat), NotBefore: unix(in.Nbf),
		},
		SubType: deref(in.SubType), Scope: deref(in.Scope), Username: deref(in.Username),
	}
	if in.Aud != nil {
		c.Audience = []string{*in.Aud}
	}
	if c.Issuer != "" && c.Issuer != v.issuer {
		return nil, fmt.Errorf("%w: introspected iss %q", ErrInvalidToken, c.Issuer)
	}
	if in.Aud != nil && *in.Aud != v.audience {
		return nil, fmt.Errorf("%w: introspected aud %q", ErrInvalidToken, *in.Aud)
	}
	if err := json.Unmarshal(body, &c.Raw); err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	return c, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func unix(n *int64) *jwt.NumericDate {
	if n == nil {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(*n, 0))
}
