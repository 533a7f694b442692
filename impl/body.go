package impl

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// MaxHeaderBytes is the largest request line and header fields accepted;
// a larger request gets a 431 in its route's shape.
const MaxHeaderBytes = 64 << 10

// ServerMaxHeaderBytes is the http.Server's MaxHeaderBytes: more than
// MaxHeaderBytes, so that net/http reads a request somewhat over the limit
// and gatehouse, not net/http, answers it (logged, in the route's shape,
// as the contract says). Only a request over this gets net/http's bare 431.
const ServerMaxHeaderBytes = 2 * MaxHeaderBytes

// headerLimit answers 431 for a request whose request line and header
// fields are over MaxHeaderBytes, counted as net/http counts them.
func headerLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if headerBytes(c.Request()) > MaxHeaderBytes {
			return &Error{Kind: KindHeaderTooLarge, Detail: "the request line and header fields are over 64 KiB"}
		}
		return next(c)
	}
}

func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len("  \r\n")
	n += len("Host: \r\n") + len(r.Host)
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(v) + len(": \r\n")
		}
	}
	return n
}

const formType = "application/x-www-form-urlencoded"

// bodyMedia are the kinds of body an operation takes.
type bodyMedia struct{ json, form bool }

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// bodyOperations maps "METHOD /echo/:path" to the bodies the contract's
// operation takes, for the operations that take one.
func bodyOperations(spec *openapi3.T) map[string]bodyMedia {
	out := map[string]bodyMedia{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			var m bodyMedia
			for mt := range op.RequestBody.Value.Content {
				m.json = m.json || isJSON(mt)
				m.form = m.form || mt == formType
			}
			out[method+" "+echoPath(path)] = m
		}
	}
	return out
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// strictBodies rejects, before the validator and the strict handler read
// it, any body the two would parse leniently and differently from other
// parsers: JSON that is not UTF-8, holds an unpaired surrogate escape,
// repeats a member or has data after its value, and form bodies that
// repeat a parameter (RFC 6749 §3.2) or are not UTF-8. Both then decode
// the same checked bytes, so both see one verdict. On the /oauth routes,
// parameters in the query string are refused too: they belong in the body.
func strictBodies(spec *openapi3.T) echo.MiddlewareFunc {
	ops := bodyOperations(spec)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			media, ok := ops[r.Method+" "+c.Path()]
			if !ok {
				return next(c)
			}
			if name, _ := routeDialect(r.URL.Path); name == "oauth" && r.URL.RawQuery != "" {
				return invalidField(FieldError{
					Location: "query", Keyword: KeywordQuery,
					Message: "parameters must be sent in the request body, not the query string (RFC 6749 §3.2)",
				}, nil)
			}
			mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
			var check func([]byte) *FieldError
			switch {
			case media.json && isJSON(mt):
				check = jsonFault
			case media.form && mt == formType:
				check = formFault
			default:
				return next(c) // the validator refuses the content type
			}
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return err // over the body limit
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			if len(b) == 0 {
				return next(c) // the validator names what is missing
			}
			if f := check(b); f != nil {
				return invalidField(*f, nil)
			}
			return next(c)
		}
	}
}

// jsonFault is what is wrong with a JSON body, or nil. encoding/json
// would take invalid UTF-8 and unpaired surrogates as U+FFFD, ignore what
// follows a value when streaming, and keep the last of repeated members.
func jsonFault(b []byte) *FieldError {
	switch {
	case !utf8.Valid(b):
		return bodyFault("", KeywordParse, "the body is not valid JSON: it is not UTF-8")
	case !json.Valid(b):
		var v json.RawMessage
		if json.NewDecoder(bytes.NewReader(b)).Decode(&v) == nil {
			return bodyFault("", KeywordParse, "the body is not valid JSON: data follows the JSON value")
		}
		return bodyFault("", KeywordParse, "the body is not valid JSON")
	case unpairedSurrogate(b):
		return bodyFault("", KeywordParse, "the body is not valid JSON: it holds an unpaired UTF-16 surrogate escape")
	}
	if name, ok := repeatedMember(b); ok {
		return bodyFault(name, KeywordRepeated, "is repeated; the members of a JSON object must have unique names")
	}
	return nil
}

// unpairedSurrogate reports whether valid JSON b holds a \u escape of a
// UTF-16 surrogate that is not part of a pair.
func unpairedSurrogate(b []byte) bool {
	hex := func(i int) rune {
		if i+4 > len(b) {
			return -1
		}
		var r rune
		for _, c := range b[i : i+4] {
			switch {
			case '0' <= c && c <= '9':
				r = r<<4 | rune(c-'0')
			case 'a' <= c && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case 'A' <= c && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return -1
			}
		}
		return r
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++ // the escaped character: a backslash escapes no further one
		if i >= len(b) || b[i] != 'u' {
			continue
		}
		r := hex(i + 1)
		i += 4
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return true
		case 0xD800 <= r && r <= 0xDBFF:
			if i+2 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
				return true
			}
			if lo := hex(i + 3); lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 6
		}
	}
	return false
}

// repeatedMember returns the first member name that valid JSON b repeats
// within one object.
func repeatedMember(b []byte) (string, bool) {
	type frame struct {
		object    bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // io.EOF: b is valid, so nothing else
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			top := stack[n-1]
			if top.expectKey {
				key, _ := tok.(string)
				if top.keys[key] {
					return key, true
				}
				top.keys[key], top.expectKey = true, false
				continue
			}
			top.expectKey = true
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{object: d == '{', expectKey: true, keys: map[string]bool{}})
		}
	}
}

// formFault is what is wrong with a form body, or nil: a parameter given
// more than once (RFC 6749 §3.2: "Request and response parameters MUST
// NOT be included more than once"), bad percent-encoding, or text that is
// not UTF-8.
func formFault(b []byte) *FieldError {
	if _, err := url.ParseQuery(string(b)); err != nil {
		return bodyFault("", KeywordParse, "the body is not valid form data")
	}
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(string(b), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, _ = url.QueryUnescape(k) // ParseQuery checked them
		v, _ = url.QueryUnescape(v)
		switch {
		case !utf8.ValidString(k):
			return bodyFault("", KeywordParse, "the body is not valid form data: a parameter name is not UTF-8")
		case seen[k]:
			return bodyFault(k, KeywordRepeated, "is repeated; parameters must not be included more than once (RFC 6749 §3.2)")
		case !utf8.ValidString(v):
			return bodyFault(k, KeywordParse, "is not UTF-8")
		}
		seen[k] = true
	}
	return nil
}
