// Package testissuer is a token issuer for verify's tests: an httptest
// server on loopback that serves discovery, a JWKS of keys the test
// generates, and introspection as the test decides, counting every fetch.
package testissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Key is a signing key of the issuer.
type Key struct {
	Kid    string
	Alg    string // ES256, RS256 or EdDSA
	Signer crypto.Signer
}

// NewKey generates a key for alg.
func NewKey(t testing.TB, alg, kid string) *Key {
	t.Helper()
	var (
		s   crypto.Signer
		err error
	)
	switch alg {
	case "ES256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case "EdDSA":
		_, s, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("testissuer: no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Key{Kid: kid, Alg: alg, Signer: s}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// JWK is the key's public JWK.
func (k *Key) JWK() map[string]any {
	j := map[string]any{"kid": k.Kid, "alg": k.Alg, "use": "sig"}
	switch pub := k.Signer.Public().(type) {
	case *ecdsa.PublicKey:
		raw, _ := pub.Bytes() // 0x04 || X || Y
		j["kty"], j["crv"], j["x"], j["y"] = "EC", "P-256", b64(raw[1:33]), b64(raw[33:])
	case *rsa.PublicKey:
		j["kty"], j["n"], j["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case ed25519.PublicKey:
		j["kty"], j["crv"], j["x"] = "OKP", "Ed25519", b64(pub)
	}
	return j
}

// Sign signs claims with the key, its alg and kid in the header.
func (k *Key) Sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.Alg), claims)
	tok.Header["kid"] = k.Kid
	s, err := tok.SignedString(k.Signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Server is the issuer. Its issuer is its URL.
type Server struct {
	URL string
	// JWKSFetches and DiscoveryFetches count the requests served.
	JWKSFetches, DiscoveryFetches atomic.Int64

	mu       sync.Mutex
	issuer   string
	jwks     []any
	maxAge   int // seconds; negative: no Cache-Control
	failing  bool
	gate     chan struct{}
	entered  chan struct{}
	noJWKS   bool
	intro    http.HandlerFunc
	noIntros bool
}

// New starts an issuer publishing keys, with max-age 300.
func New(t testing.TB, keys ...*Key) *Server {
	t.Helper()
	s := &Server{maxAge: 300}
	ts := httptest.NewServer(s.mux())
	t.Cleanup(ts.Close)
	s.URL, s.issuer = ts.URL, ts.URL
	s.Publish(keys...)
	return s
}

func (s *Server) mux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		s.DiscoveryFetches.Add(1)
		s.mu.Lock()
		doc := map[string]any{"issuer": s.issuer, "token_endpoint": s.URL + "/oauth/token", "grant_types_supported": []string{"password"}}
		if !s.noJWKS {
			doc["jwks_uri"] = s.URL + "/keys"
		}
		if !s.noIntros {
			doc["introspection_endpoint"] = s.URL + "/introspect"
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, doc)
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		s.JWKSFetches.Add(1)
		s.mu.Lock()
		gate, entered := s.gate, s.entered
		keys, maxAge, failing := s.jwks, s.maxAge, s.failing
		s.mu.Unlock()
		if gate != nil {
			select {
			case entered <- struct{}{}:
			default:
			}
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		if failing {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		if maxAge >= 0 {
			w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge))
		}
		writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	})
	mux.HandleFunc("POST /introspect", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := s.intro
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Publish replaces the JWKS with the public keys of keys.
func (s *Server) Publish(keys ...*Key) {
	jwks := make([]any, len(keys))
	for i, k := range keys {
		jwks[i] = k.JWK()
	}
	s.PublishRaw(jwks...)
}

// PublishRaw replaces the JWKS with jwks, as given.
func (s *Server) PublishRaw(jwks ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwks = jwks
}

// SetMaxAge sets the JWKS's Cache-Control max-age; negative sends none.
func (s *Server) SetMaxAge(seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxAge = seconds
}

// SetFailing makes the JWKS answer 500 (true) or serve again (false).
func (s *Server) SetFailing(failing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = failing
}

// SetIssuer changes the issuer that discovery names.
func (s *Server) SetIssuer(iss string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issuer = iss
}

// OmitEndpoints leaves jwks_uri and/or introspection_endpoint out of
// discovery.
func (s *Server) OmitEndpoints(jwks, introspection bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noJWKS, s.noIntros = jwks, introspection
}

// Hold makes JWKS requests wait until release is called; entered receives
// once a request is waiting.
func (s *Server) Hold() (entered <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gate, ent := make(chan struct{}), make(chan struct{}, 1)
	s.gate, s.entered = gate, ent
	var once sync.Once
	return ent, func() {
		once.Do(func() {
			s.mu.Lock()
			s.gate, s.entered = nil, nil
			s.mu.Unlock()
			close(gate)
		})
	}
}

// HandleIntrospection serves the introspection endpoint with h.
func (s *Server) HandleIntrospection(h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intro = h
}

// Claims are valid claims for aud at now, lasting an hour.
func (s *Server) Claims(aud string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": s.URL, "sub": "user-1", "sub_type": "user", "aud": aud,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": "jti-1", "scope": "read write", "username": "alice", "email": "alice@example.com",
	}
}

// MiddlewareCase is a request to a route behind the middleware and the
// answer it must get. The routes are /read, requiring the scope read, and
// /admin, requiring read and admin; behind them a handler writes the
// claims' subject and scope.
type MiddlewareCase struct {
	Name          string
	Path          string
	Authorization []string
	Status        int
	Challenge     string // WWW-Authenticate; "" = none
}

// MiddlewareCases are the cases every middleware must pass, given a
// valid token (scope "read write"), an expired one and one for another
// audience.
func MiddlewareCases(valid, expired, foreign string) []MiddlewareCase {
	const invalid = `Bearer error="invalid_token"`
	return []MiddlewareCase{
		{"no Authorization", "/read", nil, http.StatusUnauthorized, "Bearer"},
		{"Basic credentials", "/read", []string{"Basic dXNlcjpwdw=="}, http.StatusUnauthorized, "Bearer"},
		{"Bearer without a token", "/read", []string{"Bearer"}, http.StatusUnauthorized, invalid},
		{"not a JWT", "/read", []string{"Bearer garbage"}, http.StatusUnauthorized, invalid},
		{"expired", "/read", []string{"Bearer " + expired}, http.StatusUnauthorized, invalid},
		{"another audience", "/read", []string{"Bearer " + foreign}, http.StatusUnauthorized, invalid},
		{"two Authorization headers", "/read", []string{"Bearer " + valid, "Bearer " + valid}, http.StatusBadRequest, `Bearer error="invalid_request"`},
		{"valid", "/read", []string{"Bearer " + valid}, http.StatusOK, ""},
		{"scheme in lower case", "/read", []string{"bearer " + valid}, http.StatusOK, ""},
		{"a scope missing", "/admin", []string{"Bearer " + valid}, http.StatusForbidden, `Bearer error="insufficient_scope", scope="read admin"`},
		{"no token for a scoped route", "/admin", nil, http.StatusUnauthorized, "Bearer"},
	}
}

// CheckMiddleware sends every case to base and checks the answers; on
// 200, the body must be "user-1 read write".
func CheckMiddleware(t *testing.T, base string, cases []MiddlewareCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, base+tc.Path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tc.Authorization {
				req.Header.Add("Authorization", a)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.Status {
				t.Errorf("status %d, want %d (body %s)", resp.StatusCode, tc.Status, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.Challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.Challenge)
			}
			if tc.Status == http.StatusOK && string(body) != "user-1 read write" {
				t.Errorf("body %q: the handler did not see the claims", body)
			}
		})
	}
}
