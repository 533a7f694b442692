// Package echoverify is verify's middleware for echo v4: the same checks
// and answers as verify.Verifier.Require, with the claims in the request
// context (verify.ClaimsFrom(c.Request().Context()), or ClaimsFrom(c)), so
// that oapi-codegen strict handlers see them too.
package echoverify

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/verify"
)

// Require lets a request through only with a valid bearer token granting
// every one of scopes. A refusal sets WWW-Authenticate (RFC 6750 section 3)
// and returns an *echo.HTTPError of the status (401, 403, or 400), whose
// internal error is the *verify.Error, for echo's error handler to render.
func Require(v *verify.Verifier, scopes ...string) echo.MiddlewareFunc {
	return middleware(v, verify.Rule{Scopes: scopes})
}

// RequireActive is Require that also introspects the token (see
// verify.Verifier.RequireActive); a failed introspection is 503.
func RequireActive(v *verify.Verifier, scopes ...string) echo.MiddlewareFunc {
	return middleware(v, verify.Rule{Scopes: scopes, Active: true})
}

// ClaimsFrom returns the claims Require put in the request context.
func ClaimsFrom(c echo.Context) (*verify.Claims, bool) {
	return verify.ClaimsFrom(c.Request().Context())
}

func middleware(v *verify.Verifier, rule verify.Rule) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			claims, err := v.Authorize(r, rule)
			if err != nil {
				var e *verify.Error
				errors.As(err, &e)
				if ch := e.Challenge(); ch != "" {
					c.Response().Header().Set("WWW-Authenticate", ch)
				}
				return echo.NewHTTPError(e.Status, http.StatusText(e.Status)).SetInternal(err)
			}
			c.SetRequest(r.WithContext(verify.NewContext(r.Context(), claims)))
			return next(c)
		}
	}
}
