package impl

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

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
	// KindDatabaseUnavailable: the database did not answer within
	// --db-timeout, or more requests wait on it than --max-in-flight.
	// The native API and /oauth/* answer 503; the dialects, which
	// document no such answer, their 500.
	KindDatabaseUnavailable
)

var kindStatus = map[Kind]int{
	KindInternal:            http.StatusInternalServerError,
	KindInvalid:             http.StatusBadRequest,
	KindUnauthenticated:     http.StatusUnauthorized,
	KindForbidden:           http.StatusForbidden,
	KindNotFound:            http.StatusNotFound,
	KindMethodNotAllowed:    http.StatusMethodNotAllowed,
	KindConflict:            http.StatusConflict,
	KindTooLarge:            http.StatusRequestEntityTooLarge,
	KindHeaderTooLarge:      http.StatusRequestHeaderFieldsTooLarge,
	KindTooManyRequests:     http.StatusTooManyRequests,
	KindUnavailable:         http.StatusServiceUnavailable,
	KindDatabaseUnavailable: http.StatusServiceUnavailable,
}

// Status is the HTTP status of the kind.
func (k Kind) Status() int { return kindStatus[k] }

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
	// RetryAfter is the Retry-After of a 429 or 503, in seconds: at least
	// 1 on a 429; 0 on a 503 sends none (no wait would mend it).
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
	case errors.Is(err, store.ErrUnavailable):
		return &Error{Kind: KindDatabaseUnavailable, Detail: "the database did not answer in time, retry shortly", RetryAfter: 1, Err: err}
	case he != nil:
		return fromHTTPError(he)
	case errors.As(err, &policy):
		return invalidField(FieldError{Location: "body", Field: policy.Field, Keyword: KeywordInvalid, Message: policy.Reason}, err)
	case errors.Is(err, store.ErrBadCursor):
		return invalidField(FieldError{Location: "query", Field: "cursor", Keyword: KeywordInvalid, Message: "is not a cursor this server issued"}, err)
	case errors.Is(err, store.ErrNotFound):
		return &Error{Kind: KindNotFound, Detail: "not found", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Kind: KindConflict, Detail: "already exists", Err: err}
	case errors.Is(err, store.ErrInUse):
		return &Error{Kind: KindConflict, Detail: "in use", Err: err}
	case errors.Is(err, auth.ErrInvalidCode):
		return invalidField(FieldError{Location: "body", Field: "code", Keyword: KeywordInvalid, Message: "is wrong or already used"}, err)
	case errors.Is(err, auth.ErrMFAState):
		return &Error{Kind: KindConflict, Detail: strings.TrimPrefix(err.Error(), auth.ErrMFAState.Error()+": "), Err: err}
	case errors.Is(err, auth.ErrSignupDisabled):
		return &Error{Kind: KindForbidden, Detail: "sign-up is disabled", Err: err}
	case errors.Is(err, auth.ErrInvalidEmailToken):
		return invalidField(FieldError{Location: "body", Field: "token", Keyword: KeywordInvalid, Message: "is not valid: unknown, used, voided or expired"}, err)
	case errors.Is(err, auth.ErrNoEmail), errors.Is(err, auth.ErrAlreadyVerified):
		return &Error{Kind: KindConflict, Detail: err.Error(), Err: err}
	case errors.Is(err, auth.ErrMailDisabled):
		// No Retry-After: no wait mends it, only a restart with the flag.
		return &Error{Kind: KindUnavailable, Detail: "no mail can be sent: the server runs without --smtp-url", Err: err}
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
