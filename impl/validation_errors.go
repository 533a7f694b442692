package impl

import (
	"cmp"
	"errors"
	"mime"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// The kin-openapi validator's failures, read by their types and fields
// (RequestError's Parameter, RequestBody and Err; SchemaError's
// SchemaField, Schema, Value and JSONPointer), never by their message text:
// its wording may change between releases, and the dialects' exact strings
// must not.

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
	if fs := (&schemaWalk{loc: loc}).fields(re.Err); len(fs) > 0 {
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
	f := FieldError{Location: loc, Keyword: KeywordInvalid, Message: re.Reason}
	var pe *openapi3filter.ParseError
	switch {
	case re.Parameter != nil:
		f.Field = re.Parameter.Name
		if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
			f.Keyword = KeywordRequired
		}
	case errors.As(re.Err, &pe):
		f.Keyword, f.Message = KeywordParse, "the body is not valid "+bodyKind(re)
	case re.RequestBody != nil && re.Err == nil && re.RequestBody.Content.Get(contentTypeHeader(re)) == nil:
		f.Keyword = KeywordContentType
	}
	if f.Message == "" {
		f.Message = "is invalid"
	}
	return []FieldError{f}
}

// contentTypeHeader is the request's Content-Type header.
func contentTypeHeader(re *openapi3filter.RequestError) string {
	if re.Input == nil || re.Input.Request == nil {
		return ""
	}
	return re.Input.Request.Header.Get(echo.HeaderContentType)
}

// contentType is the media type the request's Content-Type names.
func contentType(re *openapi3filter.RequestError) string {
	mt, _, _ := mime.ParseMediaType(contentTypeHeader(re))
	return mt
}

// missingBodyFields reports a missing body, then each property its
// schema requires, so that a caller learns what to send ("grant_type is
// required") and not only that something is wrong.
func missingBodyFields(re *openapi3filter.RequestError) []FieldError {
	out := []FieldError{{Location: "body", Keyword: KeywordRequired, Message: "the request body is missing"}}
	media := re.RequestBody.Content.Get(contentType(re))
	if media == nil {
		media = re.RequestBody.Content.Get("application/json")
	}
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return out
	}
	for _, name := range media.Schema.Value.Required {
		out = append(out, FieldError{Location: "body", Field: name, Keyword: KeywordRequired, Message: "is required"})
	}
	return out
}

// bodyKind names what a body of the request's media type should be.
func bodyKind(re *openapi3filter.RequestError) string {
	if contentType(re) == formType {
		return "form data"
	}
	return "JSON"
}

// schemaWalk reads the schema errors under one RequestError.
type schemaWalk struct {
	loc string
	// unknownSeen counts the unknown properties already reported of each
	// object, by the object's schema and path.
	unknownSeen map[objectAt]int
}

// objectAt is an object validated against a schema.
type objectAt struct {
	schema *openapi3.Schema
	path   string
}

// fields reads the schema errors under err, in the validator's order.
func (w *schemaWalk) fields(err error) []FieldError {
	var out []FieldError
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, sub := range e {
			out = append(out, w.fields(sub)...)
		}
	case *openapi3.SchemaError:
		out = append(out, w.field(e))
	}
	return out
}

// field is the FieldError of one schema error. Its Message is the
// validator's Reason, which never holds the offending value.
func (w *schemaWalk) field(e *openapi3.SchemaError) FieldError {
	f := FieldError{Location: w.loc, Field: strings.Join(e.JSONPointer(), "."), Keyword: keywordOf(e.SchemaField), Message: e.Reason}
	if s := e.Schema; s != nil {
		switch f.Keyword {
		case KeywordMinLength:
			f.Limit = s.MinLength
		case KeywordMaxLength:
			f.Limit = deref(s.MaxLength)
		case KeywordMinItems:
			f.Limit = s.MinItems
		case KeywordMaxItems:
			f.Limit = deref(s.MaxItems)
		case KeywordFormat:
			f.Format = s.Format
		case KeywordAdditionalProperties:
			// An unknown property is reported on its object; name the
			// property itself.
			if name, ok := w.unknownProperty(f.Field, e); ok {
				f.Field = strings.TrimPrefix(f.Field+"."+name, ".")
			}
		}
	}
	return f
}

// unknownProperty names the property of the object at path that the
// schema error e reports as unknown. The validator reports an object's
// unknown properties one error each, in the order of their sorted names,
// so the nth such error of an object is its nth unknown name.
func (w *schemaWalk) unknownProperty(path string, e *openapi3.SchemaError) (string, bool) {
	obj, ok := e.Value.(map[string]any)
	if !ok {
		return "", false
	}
	var unknown []string
	for name := range obj {
		if e.Schema.Properties[name] == nil {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	if w.unknownSeen == nil {
		w.unknownSeen = map[objectAt]int{}
	}
	at := objectAt{e.Schema, path}
	n := w.unknownSeen[at]
	w.unknownSeen[at]++
	if n >= len(unknown) {
		return "", false
	}
	return unknown[n], true
}
