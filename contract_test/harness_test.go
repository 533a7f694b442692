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
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/conformance"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/internal/testserver"
	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/webhook"
)

// testHashParams, adminPassword and testMasterKey are testserver's: light
// hashing, the administrator's password, the master key of PostgreSQL
// nodes that share a database.
var testHashParams = testserver.HashParams

const adminPassword = testserver.AdminPassword

var testMasterKey = testserver.MasterKey

// coverageExceptions are documented (operation, status) pairs no test
// provokes, each with the reason.
var coverageExceptions = map[string]string{}

// contract is openapi.yaml, loaded from the file (not the embedded copy,
// which the regeneration check compares separately); its Contract records
// the pairs seen.
var contract struct {
	once sync.Once
	c    *conformance.Contract
	spec *openapi3.T
}

func loadContract(t testing.TB) {
	contract.once.Do(func() {
		data, err := os.ReadFile(filepath.Join("..", "openapi.yaml"))
		if err != nil {
			panic(err)
		}
		c, err := conformance.LoadContract(data)
		if err != nil {
			panic(err)
		}
		contract.c, contract.spec = c, c.Spec
	})
}

func pair(op string, status int) string { return conformance.Pair(op, status) }

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	removeBinary()
	// Coverage is only meaningful when every test ran.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && contract.c != nil {
		missing, documented := contract.c.Unexercised(coverageExceptions)
		fmt.Printf("contract coverage: %d of %d documented (operation, status) pairs exercised, %d excepted\n",
			documented-len(missing)-len(coverageExceptions), documented, len(coverageExceptions))
		if len(missing) > 0 {
			fmt.Printf("FAIL: documented but never exercised:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// invalid marks a request as deliberately breaking the contract, so only
// its response is validated.
func invalid(ctx context.Context) context.Context { return conformance.BreaksRequest(ctx) }

// validatingDoer is the generated client's HTTP doer: conformance's Doer,
// which validates the request and the response against the contract and
// records the pair, failing t for what breaks it.
type validatingDoer struct {
	t testing.TB
}

func (d *validatingDoer) Do(req *http.Request) (*http.Response, error) {
	d.t.Helper()
	loadContract(d.t)
	return (&conformance.Doer{Contract: contract.c, ReportBodies: true, Report: func(problem string) { d.t.Errorf("%s", problem) }}).Do(req)
}

// server is a running gatehouse with its generated client.
type server struct {
	URL    string
	Client *client.ClientWithResponses
	Store  store.Store
	Svc    *auth.Service
	// Webhooks is the node's delivery worker, which tests run a pass of
	// at a time.
	Webhooks *webhook.Worker
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

// fakeClock is a server's clock in tests, testclock's; nodes given one
// fakeClock agree on the time.
type fakeClock = testclock.Clock

func newFakeClock() *fakeClock { return testclock.New() }

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

// newServerOptions starts gatehouse (testserver.Start: a fresh database,
// on PostgreSQL when GATEHOUSE_TEST_POSTGRES is set) with any of its
// options changed, logging everything to the server's Log.
func newServerOptions(t testing.TB, change func(*gatehouse.Options)) *server {
	t.Helper()
	loadContract(t)
	logs := &syncBuffer{}
	ts := testserver.Start(t, func(_ string, o *gatehouse.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		change(o)
	})
	c := ts.Client(t, client.WithHTTPClient(&validatingDoer{t: t}))
	return &server{URL: ts.URL, Client: c, Store: ts.Store, Svc: ts.Service, Webhooks: ts.Webhooks, Log: logs}
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
