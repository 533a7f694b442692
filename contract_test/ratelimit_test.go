package contract_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
)

// credentialCalls are one call to each rate-limited route, with the
// X-Forwarded-For given.
func credentialCalls(s *server, xff string) map[string]func() (int, string, []byte) {
	ctx := context.Background()
	fwd := func(_ context.Context, req *http.Request) error {
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		return nil
	}
	raw := func(route, body string) func() (int, string, []byte) {
		return func() (int, string, []byte) {
			r, err := dialectRoutes[route](s.Client, ctx, "application/json", strings.NewReader(body), fwd)
			if err != nil {
				panic(err)
			}
			defer r.Body.Close()
			b := make([]byte, 4096)
			n, _ := r.Body.Read(b)
			return r.StatusCode, r.Header.Get("Retry-After"), b[:n]
		}
	}
	return map[string]func() (int, string, []byte){
		"createToken": func() (int, string, []byte) {
			r, _ := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
				GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr("wrong"),
			}, fwd)
			return r.StatusCode(), r.HTTPResponse.Header.Get("Retry-After"), r.Body
		},
		"jmvstream":        raw("/v1/authenticate", `{"email": "a@b.c", "password": "x", "resource": "7d2b7a43-2ad4-4d4f-8f0e-6b4f5b7f1c11"}`),
		"ocariot":          raw("/v1/auth", `{"username": "admin", "password": "wrong"}`),
		"user-login":       raw("/user/login", `{"username": "admin", "password": "wrong"}`),
		"api-user":         raw("/api/user/authenticate", `{"userName": "admin", "password": "wrong"}`),
		"api-user refresh": raw("/api/user/refresh-token", `{"refreshToken": "nope"}`),
		// The hosted sign-in takes passwords too: the same limit.
		"authorize": func() (int, string, []byte) {
			r, _ := s.Client.AuthorizeWithResponse(ctx, &client.AuthorizeParams{}, fwd)
			return r.StatusCode(), r.HTTPResponse.Header.Get("Retry-After"), r.Body
		},
		"authorizeForm": func() (int, string, []byte) {
			r, _ := s.Client.AuthorizeFormWithFormdataBodyWithResponse(ctx, client.AuthorizeFormFormdataRequestBody{Login: ptr("admin"), Password: ptr("wrong")}, fwd)
			return r.StatusCode(), r.HTTPResponse.Header.Get("Retry-After"), r.Body
		},
		// The second step of a login is on the token endpoint: the same
		// limit.
		"mfa-otp": func() (int, string, []byte) {
			r, _ := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
				GrantType: grantMFAOTP, MfaToken: ptr("guess"), Otp: ptr("123456"),
			}, fwd)
			return r.StatusCode(), r.HTTPResponse.Header.Get("Retry-After"), r.Body
		},
	}
}

// TestRateLimit: each client IP gets a burst of credential requests, then
// 429 with Retry-After in the route's own shape; other routes are not
// limited.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	calls := 9
	s := newServerWith(t, impl.Config{RateLimit: 0.01, RateBurst: calls + 1})
	admin := s.adminToken(t) // the burst's first token
	byRoute := credentialCalls(s, "")
	names := make([]string, 0, len(byRoute))
	for name := range byRoute {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if status, _, body := byRoute[name](); status == http.StatusTooManyRequests {
			t.Fatalf("%s limited within the burst: %s", name, body)
		}
	}
	shapes := map[string]string{
		"createToken": `"error":"temporarily_unavailable"`, "jmvstream": `"message":`, "ocariot": `"code":429`,
		"user-login": `"message":"Too many requests"`, "api-user": `"responseKey":"TOO_MANY_REQUESTS"`, "api-user refresh": `"responseKey":"TOO_MANY_REQUESTS"`,
		"mfa-otp": `"error":"temporarily_unavailable"`, "authorize": `"error":"temporarily_unavailable"`, "authorizeForm": `"error":"temporarily_unavailable"`,
	}
	for _, name := range names {
		status, retryAfter, body := byRoute[name]()
		seconds, err := strconv.Atoi(retryAfter)
		if status != http.StatusTooManyRequests || err != nil || seconds < 1 || !strings.Contains(string(body), shapes[name]) {
			t.Errorf("%s past the burst: %d Retry-After %q %s", name, status, retryAfter, body)
		}
	}
	// The native API is not a credential route.
	if r, _ := s.Client.GetMeWithResponse(context.Background(), bearer(admin)); r.JSON200 == nil {
		t.Errorf("GET /v1/me limited: %d", r.StatusCode())
	}
	// Without trusted proxies, X-Forwarded-For is ignored: a new value
	// does not get a new bucket.
	if status, _, _ := credentialCalls(s, "203.0.113.9")["ocariot"](); status != http.StatusTooManyRequests {
		t.Errorf("X-Forwarded-For from an untrusted peer got a fresh bucket: %d", status)
	}
}

// TestTrustedProxies: behind a trusted proxy, the client is the
// X-Forwarded-For address, for the rate limit and the audit log alike.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, impl.Config{RateLimit: 0.01, RateBurst: 2, TrustedProxies: []string{"127.0.0.1/32"}})
	first := credentialCalls(s, "203.0.113.5")["ocariot"]
	for range 2 {
		if status, _, _ := first(); status != http.StatusUnauthorized {
			t.Fatalf("within the burst: %d", status)
		}
	}
	if status, _, _ := first(); status != http.StatusTooManyRequests {
		t.Fatalf("past the burst: %d", status)
	}
	if status, _, _ := credentialCalls(s, "203.0.113.6")["ocariot"](); status != http.StatusUnauthorized {
		t.Fatalf("another client behind the proxy was limited: %d", status)
	}
	events, _, err := s.Store.ListAuditEvents(context.Background(), storeAuditFilter("login"), storePage(50))
	if err != nil {
		t.Fatal(err)
	}
	ips := map[string]bool{}
	for _, e := range events {
		ips[e.ClientIP] = true
	}
	if !ips["203.0.113.5"] || !ips["203.0.113.6"] || ips["127.0.0.1"] {
		t.Errorf("audited client IPs %v, want the forwarded ones", ips)
	}
	if _, err := newHandlersWithProxies("not-a-cidr"); err == nil {
		t.Error("a malformed trusted proxy was accepted")
	}
}
