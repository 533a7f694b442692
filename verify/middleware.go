package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// claimsKey is the request-context key of the Claims.
type claimsKey struct{}

// NewContext returns ctx carrying c, as the middleware does.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFrom returns the Claims the middleware put in ctx.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// Rule is what a route requires of a request's bearer token.
type Rule struct {
	// Scopes must all be in the token's scope.
	Scopes []string
	// Active asks the introspection endpoint as well, for routes that
	// must see a revocation at once (Options.Introspection must be set).
	Active bool
}

// Error is a refused request, as Authorize returns it: the status and the
// RFC 6750 section 3 challenge to answer with.
type Error struct {
	// Status is 401 (no or an invalid token), 400 (more than one
	// Authorization header), 403 (a scope is missing) or 503
	// (introspection failed).
	Status int
	// Code is the RFC 6750 error code: "" when the request carries no
	// bearer token, invalid_request, invalid_token or insufficient_scope.
	Code string
	// Scope is, for insufficient_scope, the scopes the route requires.
	Scope string
	// Err is the cause.
	Err error
}

func (e *Error) Error() string {
	msg := http.StatusText(e.Status)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Challenge is the WWW-Authenticate value to send ("" for a 503), e.g.
// `Bearer error="insufficient_scope", scope="a b"`.
func (e *Error) Challenge() string {
	switch {
	case e.Status == http.StatusServiceUnavailable:
		return ""
	case e.Code == "":
		return "Bearer"
	case e.Code == "insufficient_scope":
		// A scope token holds no quote or backslash (RFC 6749 section 3.3).
		scope := strings.Map(func(r rune) rune {
			if r == '"' || r == '\\' || r < ' ' || r > '~' {
				return -1
			}
			return r
		}, e.Scope)
		return fmt.Sprintf(`Bearer error=%q, scope="%s"`, e.Code, scope)
	}
	return fmt.Sprintf(`Bearer error=%q`, e.Code)
}

// Authorize checks the request's Authorization: Bearer token against rule
// and returns its claims. Its error is always an *Error.
func (v *Verifier) Authorize(r *http.Request, rule Rule) (*Claims, error) {
	auth := r.Header.Values("Authorization")
	if len(auth) > 1 {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_request", Err: errors.New("more than one Authorization header")}
	}
	scheme, token, _ := strings.Cut(strings.Join(auth, ""), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, &Error{Status: http.StatusUnauthorized, Err: errors.New("no bearer token")}
	}
	ctx := r.Context()
	c, err := v.Verify(ctx, strings.TrimSpace(token))
	if err == nil && rule.Active {
		_, err = v.Introspect(ctx, strings.TrimSpace(token))
	}
	switch {
	case errors.Is(err, ErrInvalidToken):
		return nil, &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Err: err}
	case err != nil:
		return nil, &Error{Status: http.StatusServiceUnavailable, Err: err}
	case !c.HasScopes(rule.Scopes...):
		return nil, &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Scope: strings.Join(rule.Scopes, " "),
			Err: fmt.Errorf("scope %q lacks one of %q", c.Scope, rule.Scopes)}
	}
	return c, nil
}

// Require is net/http middleware that lets a request through only with a
// valid bearer token granting every one of scopes, and puts its Claims in
// the request context (ClaimsFrom). It answers 401 with
// `WWW-Authenticate: Bearer` when there is no token, 401 with
// `Bearer error="invalid_token"` when it is invalid, and 403 with
// `Bearer error="insufficient_scope", scope="…"` when a scope is missing.
func (v *Verifier) Require(scopes ...string) func(http.Handler) http.Handler {
	return v.middleware(Rule{Scopes: scopes})
}

// RequireActive is Require that also introspects the token, so that a
// revoked token is refused at once; inactive is 401 invalid_token, an
// introspection that fails is 503.
func (v *Verifier) RequireActive(scopes ...string) func(http.Handler) http.Handler {
	return v.middleware(Rule{Scopes: scopes, Active: true})
}

func (v *Verifier) middleware(rule Rule) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := v.Authorize(r, rule)
			if err != nil {
				var e *Error
				errors.As(err, &e)
				if ch := e.Challenge(); ch != "" {
					w.Header().Set("WWW-Authenticate", ch)
				}
				http.Error(w, http.StatusText(e.Status), e.Status)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
		})
	}
}
