package impl

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// errorHandler is echo's HTTPErrorHandler: every failure of every route
// leaves through it, in the route's dialect.
func errorHandler(log *slog.Logger, errorPage func(detail string) (pageResponse, error)) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := classify(err)
		if c.Request().URL.Path == "/oauth/authorize" && e.Kind == KindInvalid {
			// A browser's request: the authorization endpoint answers
			// what it cannot redirect with the error page.
			if p, perr := errorPage(e.Detail); perr == nil {
				if err := p.write(c.Response()); err != nil {
					log.ErrorContext(c.Request().Context(), "write error page", "err", err)
				}
				return
			}
		}
		switch e.Kind {
		case KindInternal:
			log.ErrorContext(c.Request().Context(), "request failed",
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"path", c.Path(), "err", err)
		case KindDatabaseUnavailable:
			log.WarnContext(c.Request().Context(), "database unavailable",
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"path", c.Path(), "err", err)
		}
		name, r := routeDialect(c.Request().URL.Path)
		if e.Kind == KindDatabaseUnavailable && name != "native" && name != "oauth" {
			// The dialects document no 503 for it: their 500, in their
			// shape, as for any failure of the server's own.
			e = &Error{Kind: KindInternal, Detail: "internal error", Err: e}
		}
		switch e.Kind {
		case KindUnauthenticated, KindForbidden:
			if h := wwwAuthenticate(c.Request(), e); h != "" {
				c.Response().Header().Set("WWW-Authenticate", h)
			}
		case KindTooManyRequests, KindDatabaseUnavailable:
			c.Response().Header().Set("Retry-After", strconv.Itoa(max(e.RetryAfter, 1)))
		case KindUnavailable:
			if e.RetryAfter > 0 {
				c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			}
		case KindMethodNotAllowed:
			if allow := allowedMethods(c); allow != "" {
				c.Response().Header().Set(echo.HeaderAllow, allow)
			}
		}
		if err := r.render(c, e); err != nil {
			log.ErrorContext(c.Request().Context(), "write error response", "err", err)
		}
	}
}

// allowedMethods is the Allow header of a 405 (RFC 9110 §15.5.6): the
// methods echo's router has for the path, which are the contract's. OPTIONS
// is not one: the validator refuses it, as every method the contract lacks.
func allowedMethods(c echo.Context) string {
	all, _ := c.Get(echo.ContextKeyHeaderAllow).(string)
	methods := strings.Split(all, ", ")
	methods = slices.DeleteFunc(methods, func(m string) bool { return m == "" || m == http.MethodOptions })
	return strings.Join(methods, ", ")
}

// wwwAuthenticate is the challenge of a 401 or 403. A client that failed
// to authenticate at the token endpoint is challenged only if it used HTTP
// Basic, and with Basic (RFC 6749 §5.2): a Bearer challenge there would
// tell an OAuth client its access token was refused, and clients (like
// oauth4webapi) that raise on any challenge would hide the error body.
// A client that did authenticate but lacks a scope is refused with no
// challenge at all: it sent no access token to be refused.
func wwwAuthenticate(r *http.Request, e *Error) string {
	if errors.Is(e.Err, auth.ErrSignupDisabled) {
		return "" // no credentials would change the answer: no challenge
	}
	switch e.Code {
	case codeInvalidClient:
		if _, _, basic := r.BasicAuth(); basic {
			return `Basic realm="gatehouse"`
		}
		return ""
	case string(api.OAuthErrorErrorUnauthorizedClient):
		return ""
	}
	h := `Bearer realm="gatehouse"`
	switch {
	case e.Kind == KindForbidden:
		h += fmt.Sprintf(`, error="insufficient_scope", scope=%q`, e.Scope)
	case e.TokenGiven:
		h += `, error="invalid_token"`
	}
	return h
}

// renderer writes a failure in one dialect's shape.
type renderer interface {
	render(c echo.Context, e *Error) error
}

// problemRenderer writes RFC 9457 problem details.
type problemRenderer struct{}

func (problemRenderer) render(c echo.Context, e *Error) error {
	status := e.Kind.Status()
	p := api.Problem{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   &e.Detail,
		Instance: ptr(c.Request().URL.Path),
	}
	if len(e.Fields) > 0 {
		errs := make([]api.FieldError, len(e.Fields))
		for i, f := range e.Fields {
			errs[i] = api.FieldError{Message: f.Message, Location: (*api.FieldErrorLocation)(nonEmpty(f.Location)), Field: nonEmpty(f.Field)}
		}
		p.Errors = &errs
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	return c.JSON(status, p)
}

// oauthRenderer writes RFC 6749 §5.2 errors.
type oauthRenderer struct{}

var oauthCodes = map[Kind]api.OAuthErrorError{
	KindInternal:            api.OAuthErrorErrorServerError,
	KindUnauthenticated:     api.OAuthErrorErrorInvalidToken,
	KindForbidden:           api.OAuthErrorErrorInsufficientScope,
	KindUnavailable:         api.OAuthErrorErrorTemporarilyUnavailable,
	KindDatabaseUnavailable: api.OAuthErrorErrorTemporarilyUnavailable,
	KindTooManyRequests:     api.OAuthErrorErrorTemporarilyUnavailable,
}

func (oauthRenderer) render(c echo.Context, e *Error) error {
	code := api.OAuthErrorError(e.Code)
	if code == "" {
		code = oauthCodes[e.Kind]
	}
	if code == "" {
		code = api.OAuthErrorErrorInvalidRequest
	}
	desc := e.Detail
	if len(e.Fields) > 0 {
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			parts[i] = oauthFieldText(f)
			// An unknown grant_type fails the schema's enum; RFC 6749
			// has a code of its own for it.
			if f.Field == "grant_type" && f.Keyword == KeywordEnum {
				code = api.OAuthErrorErrorUnsupportedGrantType
			}
		}
		// A missing body is told by what it lacks.
		if len(parts) > 1 && e.Fields[0].Field == "" && e.Fields[0].Keyword == KeywordRequired {
			parts = parts[1:]
		}
		desc = strings.Join(parts, "; ")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(e.Kind.Status(), api.OAuthError{Error: code, ErrorDescription: &desc})
}

// oauthFieldText words one failed check as an error_description names
// it: the parameter, then what is wrong with it.
func oauthFieldText(f FieldError) string {
	switch {
	case f.Field == "":
		return f.Message
	case f.Keyword == KeywordRequired:
		return f.Field + " is required"
	case f.Keyword == KeywordRepeated || strings.HasPrefix(f.Message, "is "):
		return f.Field + " " + f.Message
	}
	return f.Field + ": " + f.Message
}

func ptr[T any](v T) *T { return &v }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
