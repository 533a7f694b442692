package impl

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// renderer writes a failure in one dialect's shape.
type renderer interface {
	render(c echo.Context, e *Error) error
}

// rendererFor picks the renderer of the dialect of the request's route.
func rendererFor(c echo.Context) renderer {
	_, r := routeDialect(c.Request().URL.Path)
	return r
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
	KindInternal:        api.OAuthErrorErrorServerError,
	KindUnauthenticated: api.OAuthErrorErrorInvalidToken,
	KindForbidden:       api.OAuthErrorErrorInsufficientScope,
	KindUnavailable:     api.OAuthErrorErrorTemporarilyUnavailable,
	KindTooManyRequests: api.OAuthErrorErrorTemporarilyUnavailable,
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
			if f.Field == "grant_type" && f.Keyword == "enum" {
				code = api.OAuthErrorErrorUnsupportedGrantType
			}
		}
		// A missing body is told by what it lacks.
		if len(parts) > 1 && e.Fields[0].Field == "" && e.Fields[0].Keyword == "required" {
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
	case f.Keyword == "required":
		return f.Field + " is required"
	case f.Keyword == "repeated" || strings.HasPrefix(f.Message, "is "):
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
