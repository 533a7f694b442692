package impl

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// A dialect's validation message names one field: the first failing one,
// in the order of the dialect's own fields, and for a field its first
// failing check in the order a hand-written validator makes them.
var keywordOrder = []Keyword{KeywordType, KeywordNullable, KeywordRequired, KeywordMinLength, KeywordMaxLength, KeywordFormat, KeywordPattern, KeywordAdditionalProperties}

// bodyFailure is how a whole request body failed, if it did.
type bodyFailure int

const (
	bodyOK        bodyFailure = iota
	bodyMalformed             // not parseable JSON
	bodyAbsent                // no body, or one an Express app would not parse (wrong content type)
	bodyNotObject             // JSON, but not an object
)

func bodyFailureOf(fields []FieldError) bodyFailure {
	for _, f := range fields {
		switch {
		case f.Keyword == KeywordParse, f.Keyword == KeywordRepeated:
			return bodyMalformed
		case f.Keyword == KeywordContentType, f.Field == "" && f.Keyword == KeywordRequired:
			return bodyAbsent
		case f.Field == "" && (f.Keyword == KeywordType || f.Keyword == KeywordNullable):
			return bodyNotObject
		}
	}
	return bodyOK
}

// rank is v's place in list, after all of it when it is not there.
func rank[T comparable](list []T, v T) int {
	if i := slices.Index(list, v); i >= 0 {
		return i
	}
	return len(list)
}

// firstField sorts the field errors in the dialect's order and returns
// the first, or false when none names a field.
func firstField(fields []FieldError, order []string) (FieldError, bool) {
	named := slices.DeleteFunc(slices.Clone(fields), func(f FieldError) bool { return f.Field == "" })
	if len(named) == 0 {
		return FieldError{}, false
	}
	slices.SortStableFunc(named, func(a, b FieldError) int {
		return cmp.Or(cmp.Compare(rank(order, a.Field), rank(order, b.Field)), cmp.Compare(rank(keywordOrder, a.Keyword), rank(keywordOrder, b.Keyword)))
	})
	return named[0], true
}

// jmvstreamRenderer writes the Jmvstream API's bodies: Joi's messages.
type jmvstreamRenderer struct{}

func (jmvstreamRenderer) render(c echo.Context, e *Error) error {
	switch e.Kind {
	case KindInvalid:
		return c.JSON(http.StatusBadRequest, api.JmvstreamError{Message: joiMessage(e.Fields)})
	case KindUnauthenticated, KindForbidden:
		return c.JSON(http.StatusUnauthorized, api.JmvstreamError{Message: "not allowed"})
	case KindTooLarge:
		return c.JSON(http.StatusRequestEntityTooLarge, api.JmvstreamError{Message: "request entity too large"})
	case KindHeaderTooLarge:
		return c.JSON(http.StatusRequestHeaderFieldsTooLarge, api.JmvstreamError{Message: "request header fields too large"})
	case KindTooManyRequests:
		return c.JSON(http.StatusTooManyRequests, api.JmvstreamError{Message: "Too many requests, please try again later."})
	case KindUnavailable:
		return c.JSON(http.StatusServiceUnavailable, api.JmvstreamServerError{Error: "Service Unavailable"})
	case KindNotFound:
		return c.JSON(http.StatusNotFound, api.JmvstreamError{Message: "not found"})
	case KindMethodNotAllowed:
		return c.JSON(http.StatusMethodNotAllowed, api.JmvstreamError{Message: "method not allowed"})
	}
	return c.JSON(http.StatusInternalServerError, api.JmvstreamServerError{Error: "Internal Server Error"})
}

// joiMessage words the first failure as Joi (abortEarly) would. Express
// leaves the body empty for a missing body or another content type, so
// Joi then reports the first field as required.
func joiMessage(fields []FieldError) string {
	order := []string{"email", "password", "resource"}
	switch bodyFailureOf(fields) {
	case bodyMalformed:
		return "Unexpected token in JSON body"
	case bodyAbsent:
		return `"email" is required`
	case bodyNotObject:
		return `"value" must be of type object`
	}
	f, ok := firstField(fields, order)
	if !ok {
		return `"value" is invalid`
	}
	q := `"` + f.Field + `"`
	switch f.Keyword {
	case KeywordType, KeywordNullable:
		return q + " must be a string"
	case KeywordRequired:
		return q + " is required"
	case KeywordMinLength:
		return q + " is not allowed to be empty"
	case KeywordMaxLength:
		return q + " length must be less than or equal to " + strconv.FormatUint(f.Limit, 10) + " characters long"
	case KeywordFormat:
		if f.Format == "uuid" {
			return q + " must be a valid GUID"
		}
		return q + " must be a valid " + f.Format
	case KeywordAdditionalProperties:
		return q + " is not allowed"
	}
	return q + " is invalid"
}

// ocariotRenderer writes the OCARIoT account service's {code, message,
// description} bodies with its exact strings.
type ocariotRenderer struct{}

const (
	ocariotInvalid  = "One or more request fields are invalid..."
	ocariotRequired = "Required fields were not provided..."
)

func (ocariotRenderer) render(c echo.Context, e *Error) error {
	body := func(status int, msg, desc string) error {
		return c.JSON(status, api.OcariotError{Code: status, Message: msg, Description: nonEmpty(desc)})
	}
	switch e.Kind {
	case KindInvalid:
		msg, desc := ocariotMessage(e.Fields)
		return body(http.StatusBadRequest, msg, desc)
	case KindUnauthenticated, KindForbidden:
		return body(http.StatusUnauthorized, "Invalid username or password!", "")
	case KindTooLarge:
		return body(http.StatusRequestEntityTooLarge, "Request entity too large!", "The request body must not be larger than 1 MiB.")
	case KindHeaderTooLarge:
		return body(http.StatusRequestHeaderFieldsTooLarge, "Request header fields too large!", "The request line and header fields must not be larger than 64 KiB.")
	case KindTooManyRequests:
		return body(http.StatusTooManyRequests, "Too many requests!", "Too many login attempts from this address. Please try again later...")
	case KindUnavailable:
		return body(http.StatusServiceUnavailable, "Service temporarily unavailable!", "Too many logins are in progress. Please try again later...")
	case KindNotFound:
		return body(http.StatusNotFound, "Not found!", "")
	case KindMethodNotAllowed:
		return body(http.StatusMethodNotAllowed, "Method not allowed!", "")
	}
	return body(http.StatusInternalServerError, "An internal server error has occurred.", "An unexpected error has occurred. Please try again later...")
}

// ocariotMessage checks in the original's order: each field's type and
// emptiness (username, then password), then the absent fields together.
func ocariotMessage(fields []FieldError) (msg, desc string) {
	order := []string{"username", "password"}
	switch bodyFailureOf(fields) {
	case bodyMalformed:
		return "Unable to process request body!", "Please verify that the JSON provided in the request body has a valid format and try again."
	case bodyAbsent, bodyNotObject:
		return ocariotRequired, "username, password are required!"
	}
	var absent []string
	for _, name := range order {
		for _, f := range fields {
			if f.Field == name && f.Keyword == KeywordRequired {
				absent = append(absent, name)
			}
		}
	}
	present := slices.DeleteFunc(slices.Clone(fields), func(f FieldError) bool { return f.Keyword == KeywordRequired })
	if f, ok := firstField(present, order); ok {
		switch f.Keyword {
		case KeywordType, KeywordNullable:
			return ocariotInvalid, f.Field + " must be a string!"
		case KeywordMinLength:
			return ocariotInvalid, f.Field + " must have at least one character!"
		case KeywordMaxLength:
			return ocariotInvalid, f.Field + " must have at most " + strconv.FormatUint(f.Limit, 10) + " characters!"
		case KeywordPattern:
			return ocariotInvalid, f.Field + " must not contain control characters!"
		}
		return ocariotInvalid, f.Field + " is invalid!"
	}
	if len(absent) > 0 {
		return ocariotRequired, strings.Join(absent, ", ") + " are required!"
	}
	return ocariotInvalid, "The request is invalid!"
}

// plainMessage words the first failure in plain English, for the
// dialects whose documents give no wording of their own.
func plainMessage(fields []FieldError, order []string) string {
	switch bodyFailureOf(fields) {
	case bodyMalformed:
		for _, f := range fields {
			if f.Keyword == KeywordRepeated {
				return f.Field + " is repeated"
			}
		}
		return "the request body is not valid JSON"
	case bodyAbsent:
		return "the request body must be a JSON object (Content-Type: application/json)"
	case bodyNotObject:
		return "the request body must be a JSON object"
	}
	f, ok := firstField(fields, order)
	if !ok {
		return "the request is invalid"
	}
	switch f.Keyword {
	case KeywordType, KeywordNullable:
		return f.Field + " must be a string"
	case KeywordRequired:
		return f.Field + " is required"
	case KeywordMinLength:
		return f.Field + " must not be empty"
	case KeywordMaxLength:
		return f.Field + " must be at most " + strconv.FormatUint(f.Limit, 10) + " characters"
	case KeywordPattern:
		return f.Field + " must not contain control characters"
	}
	return fmt.Sprintf("%s is invalid", f.Field)
}

// userLoginRenderer writes {"message": ...} bodies.
type userLoginRenderer struct{}

func (userLoginRenderer) render(c echo.Context, e *Error) error {
	msg := map[Kind]string{
		KindInvalid:          plainMessage(e.Fields, []string{"username", "password"}),
		KindUnauthenticated:  "Incorrect credentials",
		KindForbidden:        "Password expired",
		KindTooLarge:         "Request body too large",
		KindHeaderTooLarge:   "Request header fields too large",
		KindTooManyRequests:  "Too many requests",
		KindUnavailable:      "Service temporarily unavailable",
		KindNotFound:         "Not found",
		KindMethodNotAllowed: "Method not allowed",
	}[e.Kind]
	return c.JSON(e.Kind.Status(), api.MessageError{Message: cmp.Or(msg, "Internal server error")})
}

// authHeaderRenderer writes the /authheader/* endpoints' {"message": ...}.
type authHeaderRenderer struct{}

func (authHeaderRenderer) render(c echo.Context, e *Error) error {
	msg := map[Kind]string{
		KindInvalid:          plainMessage(e.Fields, []string{"name", "text"}),
		KindUnauthenticated:  "Unauthorized: a valid JWT is required in Authorization",
		KindForbidden:        "Forbidden: the JWT lacks the scope " + e.Scope,
		KindNotFound:         "Auth header not found",
		KindTooLarge:         "Request body too large",
		KindHeaderTooLarge:   "Request header fields too large",
		KindMethodNotAllowed: "Method not allowed",
	}[e.Kind]
	return c.JSON(e.Kind.Status(), api.MessageError{Message: cmp.Or(msg, "Internal server error")})
}

// apiUserRenderer writes {responseKey, responseMessage} bodies.
type apiUserRenderer struct{}

func (apiUserRenderer) render(c echo.Context, e *Error) error {
	key, msg := api.INTERNALERROR, "Server is temporarily unavailable"
	status := e.Kind.Status()
	switch e.Kind {
	case KindInvalid:
		key, msg = api.INVALIDREQUEST, "Invalid HTTP request: "+plainMessage(e.Fields, []string{"userName", "password", "refreshToken"})
	case KindUnauthenticated, KindForbidden:
		key, msg, status = api.INVALIDCREDENTIALS, "Invalid credentials", http.StatusUnauthorized
	case KindTooLarge:
		key, msg = api.INVALIDREQUEST, "Invalid HTTP request: the request body is larger than 1 MiB"
	case KindUnavailable:
		key, msg = api.SERVICEUNAVAILABLE, "Too many logins in progress, retry shortly"
	case KindTooManyRequests:
		key, msg = api.TOOMANYREQUESTS, "Too many requests, retry later"
	case KindHeaderTooLarge:
		key, msg = api.INVALIDREQUEST, "Invalid HTTP request: the request header fields are larger than 64 KiB"
	case KindNotFound:
		key, msg = api.INVALIDREQUEST, "Invalid HTTP request"
	case KindMethodNotAllowed:
		key, msg = api.INVALIDREQUEST, "Invalid HTTP request: method not allowed"
	}
	return c.JSON(status, api.ApiUserError{ResponseKey: key, ResponseMessage: msg})
}
