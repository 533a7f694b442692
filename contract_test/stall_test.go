package contract_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/internal/testserver"
	"github.com/gatehouse-auth/gatehouse/store"
)

// TestDatabaseStall stalls the database under a running server (on
// PostgreSQL a proxy that stops forwarding, on SQLite another connection
// holding the write lock) for longer than --db-timeout: each request
// answers within its deadline, 503 with Retry-After in its route's shape
// (a dialect its 500), /readyz within a second; once the stall ends
// everything works at once, the refresh token a timed-out refresh carried
// included, and nothing a timed-out request began was written.
func TestDatabaseStall(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	db := testserver.FreshDB(t)
	stall := testserver.NewStall(t, db)
	s := newServerOptions(t, func(o *gatehouse.Options) { o.DB, o.DBTimeout = stall.DB, timeout })
	// The node's revocation sync runs through the stall.
	synced := make(chan int, 1000)
	s.Svc.OnRevocationsSynced(func(n int) { synced <- n })
	bg, stopSync := context.WithCancel(context.Background())
	syncDone := make(chan struct{})
	go func() { s.Svc.WatchRevocations(bg, 20*time.Millisecond); close(syncDone) }()
	t.Cleanup(func() { stopSync(); <-syncDone })
	tok := s.login(t, "admin", adminPassword)
	admin := tok.AccessToken
	// A use of an API key, whose last-used time the background flush
	// writes: during the stall it fails, and the time is kept for the
	// flush after it.
	key := createAPIKey(t, s, bearer(admin), "used", nil)
	if r, err := s.Client.GetMeWithResponse(context.Background(), apiKeyHeader(key.Key)); err != nil || r.JSON200 == nil {
		t.Fatalf("an API key: %v", err)
	}

	// Each request must answer before its deadline: the timeout, the
	// hashing of a login and a margin for a loaded machine.
	const deadline = timeout + 3*time.Second
	var worst time.Duration
	bounded := func(name string, call func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		start := time.Now()
		if err := call(ctx); err != nil {
			t.Fatalf("%s during the stall: %v (deadline %v)", name, err, deadline)
		}
		worst = max(worst, time.Since(start))
	}
	retryAfter := func(name string, h http.Header) {
		t.Helper()
		if h.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q, want 1", name, h.Get("Retry-After"))
		}
	}

	stall.Stall(t)
	bounded("refresh", func(ctx context.Context) error {
		body := tokenForm(client.TokenRequestGrantTypeRefreshToken)
		body.RefreshToken = &tok.RefreshToken
		r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, body)
		if err == nil && (r.JSON503 == nil || r.JSON503.Error != client.OAuthErrorErrorTemporarilyUnavailable) {
			t.Errorf("refresh: %d %s, want 503 temporarily_unavailable", r.StatusCode(), r.Body)
		}
		if err == nil {
			retryAfter("refresh", r.HTTPResponse.Header)
		}
		return err
	})
	bounded("password grant", func(ctx context.Context) error {
		body := tokenForm(client.TokenRequestGrantTypePassword)
		body.Username, body.Password = ptr("admin"), ptr(adminPassword)
		r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, body)
		if err == nil && r.JSON503 == nil {
			t.Errorf("password grant: %d %s, want 503", r.StatusCode(), r.Body)
		}
		return err
	})
	bounded("createUser", func(ctx context.Context) error {
		resp, err := s.Client.CreateUser(ctx, client.UserCreate{Username: "stalled", Password: "stalled-password"}, bearer(admin))
		if err == nil {
			p := wantProblem(t, resp, readBody(t, resp, nil), http.StatusServiceUnavailable)
			if strings.Contains(strings.ToLower(*p.Detail), "sql") {
				t.Errorf("the problem leaks its cause: %s", *p.Detail)
			}
			retryAfter("createUser", resp.Header)
		}
		return err
	})
	bounded("getMe", func(ctx context.Context) error {
		// Reads go on beside SQLite's held write lock.
		want := map[bool]int{true: http.StatusServiceUnavailable, false: http.StatusOK}[stall.Postgres]
		resp, err := s.Client.GetMe(ctx, bearer(admin))
		if err == nil {
			readBody(t, resp, nil)
			if resp.StatusCode != want {
				t.Errorf("getMe: %d, want %d", resp.StatusCode, want)
			}
		}
		return err
	})
	bounded("the api-user dialect", func(ctx context.Context) error {
		// A dialect documents no 503: its 500.
		resp, err := dialectRoutes["/api/user/authenticate"](s.Client, ctx, "application/json", strings.NewReader(`{"userName": "admin", "password": "`+adminPassword+`"}`))
		if err == nil {
			if body := readBody(t, resp, nil); resp.StatusCode != 500 || !strings.Contains(string(body), `"INTERNAL_ERROR"`) {
				t.Errorf("api-user: %d %s", resp.StatusCode, body)
			}
		}
		return err
	})
	bounded("the signing-key reload", func(ctx context.Context) error {
		// The background reload (which also deletes retired keys) fails
		// its round within the bound and works after the stall.
		if err := s.Svc.ReloadSigningKeys(ctx); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("reload during the stall: %v", err)
		}
		return ctx.Err()
	})
	bounded("the API-key usage flush", func(ctx context.Context) error {
		if err := s.Svc.FlushAPIKeyUsage(ctx); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("flush during the stall: %v", err)
		}
		return ctx.Err()
	})
	readyStart := time.Now()
	ready, err := s.Client.GetReadinessWithResponse(context.Background())
	readyTook := time.Since(readyStart)
	if err != nil || readyTook > time.Second {
		t.Fatalf("/readyz during the stall: %v after %v, want an answer within 1s", err, readyTook)
	}
	if want := map[bool]int{true: 503, false: 200}[stall.Postgres]; ready.StatusCode() != want {
		t.Errorf("/readyz during the stall: %d %s, want %d", ready.StatusCode(), ready.Body, want)
	}

	// On PostgreSQL another node, whose database answers, ends a session
	// meanwhile: this node learns of it once the stall is over.
	var ended client.TokenResponse
	if stall.Postgres {
		other := newServerOptions(t, func(o *gatehouse.Options) { o.DB = db })
		ended = other.login(t, "admin", adminPassword)
		if r, err := other.Client.RevokeTokenWithFormdataBodyWithResponse(context.Background(), client.RevokeTokenFormdataRequestBody{Token: ended.RefreshToken}); err != nil || r.StatusCode() != 200 {
			t.Fatalf("revoke on the other node: %v", err)
		}
	}
	for len(synced) > 0 {
		<-synced
	}

	stall.Resume(t)
	resumed := time.Now()
	r := refresh(t, s, tok.RefreshToken)
	recovery := time.Since(resumed)
	if r.JSON200 == nil {
		t.Fatalf("after the stall, the refresh token the timed-out refresh carried: %d %s", r.StatusCode(), r.Body)
	}
	// The user whose creation timed out was not half-written.
	if created, err := s.Client.CreateUserWithResponse(context.Background(), client.UserCreate{Username: "stalled", Password: "stalled-password"}, bearer(admin)); err != nil || created.JSON201 == nil {
		t.Errorf("after the stall, createUser: %v %d %s", err, created.StatusCode(), created.Body)
	}
	if me, _ := s.Client.GetMeWithResponse(context.Background(), bearer(r.JSON200.AccessToken)); me == nil || me.JSON200 == nil {
		t.Errorf("after the stall, getMe failed")
	}
	if err := s.Svc.FlushAPIKeyUsage(context.Background()); err != nil {
		t.Errorf("after the stall, the API-key usage flush: %v", err)
	}
	if k, _ := s.Client.GetApiKeyWithResponse(context.Background(), key.Id, bearer(admin)); k == nil || k.JSON200 == nil || k.JSON200.LastUsedAt == nil {
		t.Errorf("after the stall, the API key's use before it was lost")
	}
	if err := s.Svc.ReloadSigningKeys(context.Background()); err != nil {
		t.Errorf("after the stall, the signing-key reload: %v", err)
	}
	if ready, _ := s.Client.GetReadinessWithResponse(context.Background()); ready == nil || ready.JSON200 == nil {
		t.Errorf("after the stall, /readyz is not ready")
	}
	if stall.Postgres {
		// The sync resumes without a restart and misses nothing.
		for n := range synced {
			if n > 0 {
				break
			}
		}
		if me, _ := s.Client.GetMeWithResponse(context.Background(), bearer(ended.AccessToken)); me == nil || me.StatusCode() != 401 {
			t.Errorf("after the stall, a session another node ended during it is still accepted")
		}
	}
	t.Logf("postgres=%v db-timeout %v: worst request %v, /readyz %v during the stall; first refresh after it %v",
		stall.Postgres, timeout, worst, readyTook, recovery)
}

// holdSlot takes the one in-flight slot of a server started with
// MaxInFlight 1 and keeps it: a request whose body never finishes arriving.
// It returns once the slot is taken (another request is shed) and releases
// it when tb ends or release is called.
func holdSlot(t *testing.T, s *server, admin string) (release func()) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/users HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", admin)
	release = func() { conn.Close() }
	t.Cleanup(release)
	waitStatus(t, s, admin, http.StatusServiceUnavailable)
	return release
}

// waitStatus asks GET /v1/me until it answers status.
func waitStatus(t *testing.T, s *server, admin string, status int) {
	t.Helper()
	for {
		resp, err := s.Client.GetMe(context.Background(), bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == status {
			return
		}
	}
}

// TestLoadShed: with --max-in-flight 1 and its slot held, every operation
// that waits on the database answers 503 with Retry-After at once, in its
// route's shape (a dialect its 500); the health checks, discovery and the
// JWKS, which do not, answer as ever; once the slot is free, requests are
// served again.
func TestLoadShed(t *testing.T) {
	t.Parallel()
	s := newServerOptions(t, func(o *gatehouse.Options) { o.HTTP.MaxInFlight = 1 })
	admin := s.adminToken(t)
	release := holdSlot(t, s, admin)
	ctx := context.Background()
	id := uuid.New()
	ops := map[string]func() (*http.Response, error){
		"signup": func() (*http.Response, error) {
			return s.Client.Signup(ctx, client.SignupRequest{Username: "ada", Email: "a@example.com", Password: "a-long-password"})
		},
		"verifyEmail": func() (*http.Response, error) {
			return s.Client.VerifyEmail(ctx, client.EmailTokenRequest{Token: "x"})
		},
		"forgotPassword": func() (*http.Response, error) {
			return s.Client.ForgotPassword(ctx, client.PasswordForgotRequest{Email: "a@example.com"})
		},
		"resetPassword": func() (*http.Response, error) {
			return s.Client.ResetPassword(ctx, client.PasswordResetRequest{Token: "x", NewPassword: "a-long-password"})
		},
		"listApiKeys": func() (*http.Response, error) { return s.Client.ListApiKeys(ctx, nil, bearer(admin)) },
		"createApiKey": func() (*http.Response, error) {
			return s.Client.CreateApiKey(ctx, client.ApiKeyCreate{Name: "k"}, bearer(admin))
		},
		"getApiKey":       func() (*http.Response, error) { return s.Client.GetApiKey(ctx, id, bearer(admin)) },
		"deleteApiKey":    func() (*http.Response, error) { return s.Client.DeleteApiKey(ctx, id, bearer(admin)) },
		"listAuditEvents": func() (*http.Response, error) { return s.Client.ListAuditEvents(ctx, nil, bearer(admin)) },
		"getOverview":     func() (*http.Response, error) { return s.Client.GetOverview(ctx, bearer(admin)) },
	}
	for _, op := range nativeOps() {
		ops[op.id] = func() (*http.Response, error) { return op.call(ctx, s.Client, bearer(admin)) }
	}
	for name, call := range ops {
		resp, err := call()
		p := wantProblem(t, resp, readBody(t, resp, err), http.StatusServiceUnavailable)
		if resp.Header.Get("Retry-After") != "1" || !strings.Contains(*p.Detail, "retry") {
			t.Errorf("%s: Retry-After %q, %s", name, resp.Header.Get("Retry-After"), *p.Detail)
		}
	}
	oauth := map[string]func() (*http.Response, error){
		"createToken": func() (*http.Response, error) {
			return s.Client.CreateTokenWithFormdataBody(ctx, client.CreateTokenFormdataRequestBody{GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: ptr("x")})
		},
		"revokeToken": func() (*http.Response, error) {
			return s.Client.RevokeTokenWithFormdataBody(ctx, client.RevokeTokenFormdataRequestBody{Token: "x"})
		},
		"introspectToken": func() (*http.Response, error) {
			return s.Client.IntrospectTokenWithFormdataBody(ctx, client.IntrospectTokenFormdataRequestBody{Token: "x"}, bearer(admin))
		},
		"authorize": func() (*http.Response, error) {
			return s.Client.Authorize(ctx, &client.AuthorizeParams{ClientId: ptr(uuid.NewString())})
		},
		"getUserInfo":  func() (*http.Response, error) { return s.Client.GetUserInfo(ctx, bearer(admin)) },
		"postUserInfo": func() (*http.Response, error) { return s.Client.PostUserInfo(ctx, bearer(admin)) },
		"authorizeForm": func() (*http.Response, error) {
			return s.Client.AuthorizeFormWithFormdataBody(ctx, client.AuthorizeFormFormdataRequestBody{ClientId: ptr(uuid.NewString())})
		},
	}
	for name, call := range oauth {
		resp, err := call()
		body := readBody(t, resp, err)
		if resp.StatusCode != 503 || !strings.Contains(string(body), `"temporarily_unavailable"`) || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	for route := range dialectRoutes {
		resp, err := dialectRoutes[route](s.Client, invalid(ctx), "application/json", strings.NewReader(`{}`))
		if body := readBody(t, resp, err); resp.StatusCode != 500 {
			t.Errorf("%s: %d %s, want the dialect's 500", route, resp.StatusCode, body)
		}
	}
	if r, err := s.Client.GetReadinessWithResponse(ctx); err != nil || r.JSON200 == nil {
		t.Errorf("/readyz was shed: %v", err)
	}
	if r, err := s.Client.GetJWKSWithResponse(ctx); err != nil || r.JSON200 == nil {
		t.Errorf("the JWKS was shed: %v", err)
	}
	release()
	waitStatus(t, s, admin, http.StatusOK)
}
