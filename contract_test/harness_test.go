// Package contract_test drives a real gatehouse (the same echo server that
// cmd/gatehouse serves, on a real SQLite file) through the generated client
// only, and validates every request and every response against
// openapi.yaml. It fails when a documented (operation, status) pair was
// never exercised.
package contract_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/auth/seal"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// testHashParams are argon2id parameters light enough for a test suite
// that logs in hundreds of times; the algorithm and code path are the
// production ones.
var testHashParams = auth.HashParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const adminPassword = "admin-password-for-tests"

// testMasterKey seals secrets on PostgreSQL, where every node of a test
// shares one database and so needs the same key.
var testMasterKey = bytes.Repeat([]byte{0x5e}, seal.KeySize)

// coverageExceptions are documented (operation, status) pairs no test
// provokes, each with the reason.
var coverageExceptions = map[string]string{}

// contract is openapi.yaml, loaded from the file (not the embedded copy,
// which the regeneration check compares separately), and the pairs seen.
var contract struct {
	once   sync.Once
	spec   *openapi3.T
	router routers.Router
	mu     sync.Mutex
	seen   map[string]bool
}

func loadContract(t testing.TB) {
	contract.once.Do(func() {
		// The contract describes /openapi.yaml as what it is, YAML text
		// (`type: string`, as OpenAPI 3.1 reads a text body's schema and
		// Prism checks it); kin-openapi would parse it into a mapping.
		// Only responses are YAML, so the server's validator is unaffected.
		openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
		// The console's page and assets are text too.
		for _, ct := range []string{"text/html", "text/css", "text/javascript"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
		loader := openapi3.NewLoader()
		spec, err := loader.LoadFromFile(filepath.Join("..", "openapi.yaml"))
		if err != nil {
			panic(err)
		}
		if err := spec.Validate(loader.Context); err != nil {
			panic(err)
		}
		spec.Servers = nil
		router, err := gorillamux.NewRouter(spec)
		if err != nil {
			panic(err)
		}
		contract.spec, contract.router, contract.seen = spec, router, map[string]bool{}
	})
}

func pair(op string, status int) string { return fmt.Sprintf("%s %d", op, status) }

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	removeBinary()
	// Coverage is only meaningful when every test ran.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && contract.spec != nil {
		var missing []string
		documented := 0
		for _, path := range contract.spec.Paths.InMatchingOrder() {
			for _, op := range contract.spec.Paths.Value(path).Operations() {
				for status := range op.Responses.Map() {
					documented++
					p := op.OperationID + " " + status
					if !contract.seen[p] && coverageExceptions[p] == "" {
						missing = append(missing, p)
					}
				}
			}
		}
		sort.Strings(missing)
		fmt.Printf("contract coverage: %d of %d documented (operation, status) pairs exercised, %d excepted\n",
			documented-len(missing)-len(coverageExceptions), documented, len(coverageExceptions))
		if len(missing) > 0 {
			fmt.Printf("FAIL: documented but never exercised:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

type ctxKey int

const invalidRequestKey ctxKey = 0

// invalid marks a request as deliberately breaking the contract, so only
// its response is validated.
func invalid(ctx context.Context) context.Context {
	return context.WithValue(ctx, invalidRequestKey, true)
}

// validatingDoer is the generated client's HTTP doer: it validates the
// request and the response against the contract and records the pair.
type validatingDoer struct {
	t    testing.TB
	next http.Client
}

func (d *validatingDoer) Do(req *http.Request) (*http.Response, error) {
	d.t.Helper()
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	route, params, err := contract.router.FindRoute(req)
	if err != nil {
		d.t.Errorf("%s %s: not in the contract: %v", req.Method, req.URL.Path, err)
		return d.next.Do(req)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if req.Context().Value(invalidRequestKey) == nil {
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			d.t.Errorf("%s %s: request breaks the contract: %v", req.Method, req.URL.Path, err)
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := d.next.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		d.t.Errorf("%s %s → %d: response breaks the contract: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	contract.mu.Lock()
	contract.seen[pair(route.Operation.OperationID, resp.StatusCode)] = true
	contract.mu.Unlock()
	return resp, nil
}

// server is a running gatehouse with its generated client.
type server struct {
	URL    string
	Client *client.ClientWithResponses
	Store  store.Store
	Svc    *auth.Service
	// Log holds everything the server logged.
	Log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// option changes the service's configuration before start.
type option func(*authConfig)

// fakeClock is a server's clock in tests: it stands still at the second it
// was made, but for the jumps a test makes (past a token's expiry, to a
// key's active_from), so what a test asserts about time holds however
// slowly the machine runs it. Nodes given one fakeClock agree on the time.
type fakeClock struct {
	start  time.Time
	offset atomic.Int64
}

func newFakeClock() *fakeClock { return &fakeClock{start: time.Now().UTC().Truncate(time.Second)} }

// Now is the fake time.
func (c *fakeClock) Now() time.Time { return c.start.Add(time.Duration(c.offset.Load())) }

// Set puts the clock d after its start.
func (c *fakeClock) Set(d time.Duration) { c.offset.Store(int64(d)) }

// At sets the clock so that it now reads t.
func (c *fakeClock) At(t time.Time) { c.Set(t.Sub(c.start)) }

// withClock makes the service tell time by c.
func withClock(c *fakeClock) option { return func(a *authConfig) { a.Now = c.Now } }

type authConfig = auth.Config

// newServer starts gatehouse on a fresh SQLite file in a temp dir, with
// the administrator "admin".
func newServer(t testing.TB, opts ...option) *server {
	t.Helper()
	return newServerWith(t, impl.Config{}, opts...)
}

// newServerWith is newServer with handler settings (dialects and such).
func newServerWith(t testing.TB, hcfg impl.Config, opts ...option) *server {
	t.Helper()
	return newServerOptions(t, func(o *gatehouse.Options) {
		o.HTTP = hcfg
		for _, opt := range opts {
			opt(&o.Auth)
		}
	})
}

// newServerOptions starts gatehouse with any of its options changed.
func newServerOptions(t testing.TB, change func(*gatehouse.Options)) *server {
	t.Helper()
	loadContract(t)
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	if pg := os.Getenv(storetest.PostgresEnv); pg != "" {
		// The whole suite runs on PostgreSQL: a fresh database per server,
		// dropped when the test ends.
		db = storetest.NewPostgresDatabase(t, pg)
	}
	o := gatehouse.Options{DB: db, Hash: testHashParams, Logger: log}
	if store.IsPostgresURL(db) {
		o.MasterKey = testMasterKey // required there; SQLite makes its own beside the file
	}
	change(&o)
	inst, err := gatehouse.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	st, svc := inst.Store, inst.Service
	if _, err := svc.EnsureAdmin(ctx, auth.Admin{Username: "admin", Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(inst.Handler)
	t.Cleanup(ts.Close)
	c, err := client.NewClientWithResponses(ts.URL, client.WithHTTPClient(&validatingDoer{t: t}))
	if err != nil {
		t.Fatal(err)
	}
	return &server{URL: ts.URL, Client: c, Store: st, Svc: svc, Log: logs}
}

// bearer authenticates one call.
func bearer(token string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// login runs the password grant for the default application and fails
// the test unless it succeeds.
func (s *server) login(t testing.TB, username, password string) client.TokenResponse {
	t.Helper()
	return s.loginTo(t, "", username, password)
}

// loginTo is login for the application appID ("" = the default one).
func (s *server) loginTo(t testing.TB, appID, username, password string) client.TokenResponse {
	t.Helper()
	body := client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password,
	}
	if appID != "" {
		body.ClientId = &appID
	}
	resp, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON200 == nil {
		t.Fatalf("login %s: %d %s", username, resp.StatusCode(), resp.Body)
	}
	return *resp.JSON200
}

// adminToken logs the administrator in.
func (s *server) adminToken(t testing.TB) string {
	t.Helper()
	return s.login(t, "admin", adminPassword).AccessToken
}

// createUser creates a user through the API and returns its id.
func (s *server) createUser(t testing.TB, admin string, body client.UserCreate) client.User {
	t.Helper()
	resp, err := s.Client.CreateUserWithResponse(context.Background(), body, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON201 == nil {
		t.Fatalf("create user %s: %d %s", body.Username, resp.StatusCode(), resp.Body)
	}
	return *resp.JSON201
}

func ptr[T any](v T) *T { return &v }

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// hasAll reports whether every want is in got.
func hasAll(got []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

func uuidOf(t testing.TB, s string) openapi_types.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func storeAuditFilter(action string) store.AuditFilter { return store.AuditFilter{Action: action} }

func storePage(limit int) store.Page { return store.Page{Limit: limit} }
