package jose

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// ErrNotCompact is returned, wrapped with the reason, by ParseCompact and
// Verify for a token that is not a compact JWS in its one spelling.
var ErrNotCompact = errors.New("not a compact JWS")

// Header is what gatehouse reads of a JWS's protected header.
type Header struct {
	Alg string // always set
	Kid string // "" when absent
	Typ string // "" when absent
}

// LooksCompact reports whether token has the shape of a compact JWS, three
// segments joined by dots, and not that of an opaque token (gatehouse's
// refresh tokens and API keys have no dot). It checks nothing else;
// ParseCompact does.
func LooksCompact(token string) bool { return strings.Count(token, ".") == 2 }

// segmentNames name a compact JWS's segments in errors.
var segmentNames = [3]string{"header", "payload", "signature"}

// ParseCompact checks that token is a compact JWS (RFC 7515 section 7.1)
// and returns its header and its payload, decoded: three non-empty
// segments, each base64url decoded strictly (DecodeBase64URL), and a header
// that is a JSON object naming alg (and kid and typ, when present, as
// strings). Every token and assertion goes through it before golang-jwt
// parses it, so that a token has one spelling: one re-spelled (padding,
// line breaks, other unused bits) does not verify. Its errors wrap
// ErrNotCompact.
func ParseCompact(token string) (Header, []byte, error) {
	if n := strings.Count(token, ".") + 1; n != 3 {
		return Header{}, nil, fmt.Errorf("%w: %d segments, want 3", ErrNotCompact, n)
	}
	var decoded [3][]byte
	rest := token
	for i := range decoded {
		var seg string
		seg, rest, _ = strings.Cut(rest, ".")
		if seg == "" {
			return Header{}, nil, fmt.Errorf("%w: %s is empty", ErrNotCompact, segmentNames[i])
		}
		b, err := DecodeBase64URL(seg)
		if err != nil {
			return Header{}, nil, fmt.Errorf("%w: %s: %w", ErrNotCompact, segmentNames[i], err)
		}
		decoded[i] = b
	}
	h, err := parseHeader(decoded[0])
	if err != nil {
		return Header{}, nil, fmt.Errorf("%w: header: %w", ErrNotCompact, err)
	}
	return h, decoded[1], nil
}

// parseHeader reads a protected header as golang-jwt does (a JSON object
// into a map, so that both see the same members).
func parseHeader(raw []byte) (Header, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return Header{}, fmt.Errorf("not a JSON object: %w", err)
	}
	var h Header
	for _, member := range [...]struct {
		name string
		dst  *string
	}{{"alg", &h.Alg}, {"kid", &h.Kid}, {"typ", &h.Typ}} {
		v, ok := m[member.name]
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return Header{}, fmt.Errorf("%s is not a string", member.name)
		}
		*member.dst = s
	}
	if h.Alg == "" {
		return Header{}, errors.New("alg is missing")
	}
	return h, nil
}

// DecodeBase64URL decodes s as JOSE spells binary data (RFC 7515 section
// 2): the URL-safe alphabet with no padding and nothing else (Go's decoder
// alone would skip CR and LF), and canonical, the unused bits of the last
// character zero; so each value has exactly one spelling.
func DecodeBase64URL(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !isBase64URL(s[i]) {
			return nil, fmt.Errorf("byte %d (%q) is not base64url without padding", i, s[i:i+1])
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		// With the alphabet checked, only a length of 4n+1 or unused bits
		// that are not zero remain.
		return nil, errors.New("not canonical base64url")
	}
	return b, nil
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// Verify checks token as ParseCompact does, then its signature with the
// key keyFor returns for its header, and decodes its payload into claims;
// it returns the payload, for a caller that reads more of it. The key
// decides the algorithm: the header's alg must be the key's and one of
// algs. opts add golang-jwt's claim checks (issuer, audience, times), or
// jwt.WithoutClaimsValidation. A failed check of the form wraps
// ErrNotCompact; every other error is golang-jwt's or keyFor's.
func Verify(token string, claims jwt.Claims, algs []string, keyFor func(Header) (Key, error), opts ...jwt.ParserOption) ([]byte, error) {
	h, payload, err := ParseCompact(token)
	if err != nil {
		return nil, err
	}
	parser := jwt.NewParser(append([]jwt.ParserOption{jwt.WithValidMethods(algs), jwt.WithStrictDecoding()}, opts...)...)
	_, err = parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		k, err := keyFor(h)
		if err != nil {
			return nil, err
		}
		if t.Method.Alg() != k.Alg {
			return nil, fmt.Errorf("alg %s does not match the key's %s", t.Method.Alg(), k.Alg)
		}
		return k.Public, nil
	})
	if err != nil {
		return nil, err
	}
	return payload, nil
}
