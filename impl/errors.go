package impl

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/store"
)

// Kind classifies a failure; each dialect turns it into its own status and
// body.
type Kind int

// The kinds of failure.
const (
	KindInternal Kind = iota
	KindInvalid
	KindUnauthenticated
	KindForbidden
	KindNotFound
	KindMethodNotAllowed
	KindConflict
	KindTooLarge
	KindHeaderTooLarge
	KindTooManyRequests
	KindUnavailable
)

var kindStatus = map[Kind]int{
	KindInternal:         http.StatusInternalServerError,
	KindInvalid:          http.StatusBadRequest,
	KindUnauthenticated:  http.StatusUnauthorized,
	KindForbidden:        http.StatusForbidden,
	KindNotFound:         http.StatusNotFound,
	KindMethodNotAllowed: http.StatusMethodNotAllowed,
	KindConflict:         http.StatusConflict,
	KindTooLarge:         http.StatusRequestEntityTooLarge,
	KindHeaderTooLarge:   http.StatusRequestHeaderFieldsTooLarge,
	KindTooManyRequests:  http.StatusTooManyRequests,
	KindUnavailable:      http.StatusServiceUnavailable,
}

// Status is the HTTP status of the kind.
func (k Kind) Status() int { return kindStatus[k] }

// FieldError is one failed check of the request. Keyword is the JSON Schema
// keyword that failed ("required", "type", "minLength", ...) when the
// spec's validator found it, so a dialect can word it its own way.
type FieldError struct {
	Location string // body, query, path or header
	Field    string // dotted path; "" for the whole body
	Keyword  string
	Message  string
}

// Error is the one error type impl's handlers return. The HTTP error
// handler renders it in the shape of the route's dialect.
type Error struct {
	Kind   Kind
	Code   string // the OAuth error code, when not the kind's default
	Detail string // safe to show the caller
	Fields []FieldError
	// Scope is the scope that was missing, for KindForbidden.
	Scope string
	// TokenGiven tells a 401 for a bad token from one for no token.
	TokenGiven bool
	// RetryAfter is the Retry-After of a 429 or 503, in seconds.
	RetryAfter int
	Err        error // the cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// classify turns any error a handler, the validator or echo returned into
// an *Error. This is the one place that decides what a failure means.
func classify(err error) *Error {
	var e *Error
	var he *echo.HTTPError
	var policy *auth.PolicyError
	// The validator's errors first: they can hold several *Error, one per
	// security scheme tried, and fromValidation picks among them.
	if isTooLarge(err) {
		return &Error{Kind: KindTooLarge, Detail: "request body is over 1 MiB", Err: err}
	}
	if errors.As(err, &he) {
		if v := fromValidation(he.Internal); v != nil {
			return v
		}
	}
	switch {
	case errors.As(err, &e):
		return e
	case he != nil:
		return fromHTTPError(he)
	case errors.As(err, &policy):
		return &Error{Kind: KindInvalid, Detail: "the request failed validation", Err: err,
			Fields: []FieldError{{Location: "body", Field: policy.Field, Message: policy.Reason}}}
	case errors.Is(err, store.ErrBadCursor):
		return &Error{Kind: KindInvalid, Detail: "the request failed validation", Err: err,
			Fields: []FieldError{{Location: "query", Field: "cursor", Message: "is not a cursor this server issued"}}}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Kind: KindNotFound, Detail: "not found", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Kind: KindConflict, Detail: "already exists", Err: err}
	case errors.Is(err, store.ErrInUse):
		return &Error{Kind: KindConflict, Detail: "in use", Err: err}
	case errors.Is(err, auth.ErrInvalidCode):
		return &Error{Kind: KindInvalid, Detail: "the request failed validation", Err: err,
			Fields: []FieldError{{Location: "body", Field: "code", Message: "is wrong or already used"}}}
	case errors.Is(err, auth.ErrMFAState):
		return &Error{Kind: KindConflict, Detail: strings.TrimPrefix(err.Error(), auth.ErrMFAState.Error()+": "), Err: err}
	case errors.Is(err, auth.ErrSignupDisabled):
		return &Error{Kind: KindForbidden, Detail: "sign-up is disabled", Err: err}
	case errors.Is(err, auth.ErrInvalidEmailToken):
		return &Error{Kind: KindInvalid, Detail: "the request failed validation", Err: err,
			Fields: []FieldError{{Location: "body", Field: "token", Message: "is not valid: unknown, used, voided or expired"}}}
	case errors.Is(err, auth.ErrNoEmail), errors.Is(err, auth.ErrAlreadyVerified):
		return &Error{Kind: KindConflict, Detail: err.Error(), Err: err}
	case errors.Is(err, auth.ErrOverloaded):
		return &Error{Kind: KindUnavailable, Detail: "too many logins in progress, retry shortly", RetryAfter: 1, Err: err}
	}
	return &Error{Kind: KindInternal, Detail: "internal error", Err: err}
}

func isTooLarge(err error) bool {
	var he *echo.HTTPError
	return errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge
}

func fromHTTPError(he *echo.HTTPError) *Error {
	switch he.Code {
	case http.StatusNotFound:
		return &Error{Kind: KindNotFound, Detail: "no such route", Err: he}
	case http.StatusMethodNotAllowed:
		return &Error{Kind: KindMethodNotAllowed, Detail: "method not allowed", Err: he}
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return &Error{Kind: KindInvalid, Detail: "the request is malformed", Err: he}
	}
	return &Error{Kind: KindInternal, Detail: "internal error", Err: he}
}

// fromValidation reads the kin-openapi validator's error: a failed
// security requirement (our AuthenticationFunc's *Error) wins over field
// errors, so an unauthenticated caller learns nothing of the schema.
func fromValidation(err error) *Error {
	if err == nil {
		return nil
	}
	var sec *openapi3filter.SecurityRequirementsError
	if errors.As(err, &sec) {
		// Of the schemes that failed, report the one the caller tried.
		var first *Error
		for _, se := range sec.Errors {
			var e *Error
			if errors.As(se, &e) {
				if e.TokenGiven || e.Kind != KindUnauthenticated {
					return e
				}
				first = cmp.Or(first, e)
			}
		}
		if first != nil {
			return first
		}
		return &Error{Kind: KindUnauthenticated, Detail: "authentication required", Err: err}
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, sub := range me {
			if errors.As(sub, &sec) {
				return fromValidation(sub)
			}
		}
	}
	fields := requestFields(err)
	if len(fields) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Detail: "the request failed validation", Fields: fields, Err: err}
}

// requestFields flattens the validator's errors into FieldErrors, in the
// order the validator found them. It walks by type, not errors.As: a
// RequestError unwraps to the MultiError of its schema errors.
func requestFields(err error) []FieldError {
	var out []FieldError
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, sub := range e {
			out = append(out, requestFields(sub)...)
		}
	case *openapi3filter.RequestError:
		out = requestErrorFields(e)
	}
	return out
}

func requestErrorFields(re *openapi3filter.RequestError) []FieldError {
	loc := "body"
	if re.Parameter != nil {
		loc = re.Parameter.In
	}
	if fs := schemaFields(re.Err, loc); len(fs) > 0 {
		// A parameter's schema errors point inside its value, not at it.
		for i := range fs {
			if fs[i].Field == "" && re.Parameter != nil {
				fs[i].Field = re.Parameter.Name
			}
		}
		return fs
	}
	if re.RequestBody != nil && errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return missingBodyFields(re)
	}
	f := FieldError{Location: loc, Message: re.Reason}
	var pe *openapi3filter.ParseError
	switch {
	case re.Parameter != nil:
		f.Field = re.Parameter.Name
		if strings.Contains(re.Reason, "required") {
			f.Keyword = "required"
		}
	case errors.As(re.Err, &pe):
		f.Keyword, f.Message = "parse", "the body is not valid "+bodyKind(re.Reason)
	case strings.Contains(re.Reason, "Content-Type"):
		f.Keyword = "contentType"
	case strings.Contains(re.Reason, "required"):
		f.Keyword = "required"
	}
	if f.Message == "" {
		f.Message = "is invalid"
	}
	return []FieldError{f}
}

// missingBodyFields reports a missing body, then each property its
// schema requires, so that a caller learns what to send ("grant_type is
// required") and not only that something is wrong.
func missingBodyFields(re *openapi3filter.RequestError) []FieldError {
	out := []FieldError{{Location: "body", Keyword: "required", Message: "the request body is missing"}}
	var media *openapi3.MediaType
	if re.Input != nil && re.Input.Request != nil {
		mt, _, _ := mime.ParseMediaType(re.Input.Request.Header.Get(echo.HeaderContentType))
		media = re.RequestBody.Content.Get(mt)
	}
	if media == nil {
		media = re.RequestBody.Content.Get("application/json")
	}
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return out
	}
	for _, name := range media.Schema.Value.Required {
		out = append(out, FieldError{Location: "body", Field: name, Keyword: "required", Message: "is required"})
	}
	return out
}

func bodyKind(reason string) string {
	if strings.Contains(reason, "urlencoded") {
		return "form data"
	}
	return "JSON"
}

// schemaFields reads the schema errors under err. Reasons never hold the
// offending value, which may be a password.
func schemaFields(err error, loc string) []FieldError {
	var out []FieldError
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, sub := range e {
			out = append(out, schemaFields(sub, loc)...)
		}
	case *openapi3.SchemaError:
		field, kw := strings.Join(e.JSONPointer(), "."), e.SchemaField
		// kin-openapi reports an unknown property under "properties".
		if kw == "properties" && strings.HasSuffix(e.Reason, "is unsupported") {
			kw = "additionalProperties"
		}
		// A missing or unknown property is reported on its parent with the
		// name in the reason; name the property itself.
		if kw == "required" || kw == "additionalProperties" {
			if name, ok := quoted(e.Reason); ok && !strings.HasSuffix("."+field, "."+name) {
				field = strings.TrimPrefix(field+"."+name, ".")
			}
		}
		out = append(out, FieldError{Location: loc, Field: field, Keyword: kw, Message: e.Reason})
	}
	return out
}

// quoted returns the first double-quoted word in s.
func quoted(s string) (string, bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", false
	}
	j := strings.IndexByte(s[i+1:], '"')
	if j < 0 {
		return "", false
	}
	return s[i+1 : i+1+j], true
}

// errorHandler is echo's HTTPErrorHandler: every failure of every route
// leaves through it, in the route's dialect.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := classify(err)
		if e.Kind == KindInternal {
			log.ErrorContext(c.Request().Context(), "request failed",
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"path", c.Path(), "err", err)
		}
		switch e.Kind {
		case KindUnauthenticated, KindForbidden:
			if h := wwwAuthenticate(c.Request(), e); h != "" {
				c.Response().Header().Set("WWW-Authenticate", h)
			}
		case KindUnavailable, KindTooManyRequests:
			c.Response().Header().Set("Retry-After", strconv.Itoa(max(e.RetryAfter, 1)))
		case KindMethodNotAllowed:
			if allow := allowedMethods(c); allow != "" {
				c.Response().Header().Set(echo.HeaderAllow, allow)
			}
		}
		if err := rendererFor(c).render(c, e); err != nil {
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
func wwwAuthenticate(r *http.Request, e *Error) string {
	if errors.Is(e.Err, auth.ErrSignupDisabled) {
		return "" // no credentials would change the answer: no challenge
	}
	if e.Code == codeInvalidClient {
		if _, _, basic := r.BasicAuth(); basic {
			return `Basic realm="gatehouse"`
		}
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
