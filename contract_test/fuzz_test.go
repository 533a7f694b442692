package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// fuzzContentTypes are the Content-Type headers a fuzzed request may carry
// ("" sends none).
var fuzzContentTypes = []string{
	"application/json",
	"application/x-www-form-urlencoded",
	"text/plain",
	"",
	"application/json; charset=utf-8",
	"multipart/form-data; boundary=x",
	"application/JSON",
	"application/xml",
	"application/json; charset=utf-16",
	"application/x-www-form-urlencoded; charset=utf-8",
	"application/merge-patch+json",
	"*/*",
}

// FuzzDialectRequests posts arbitrary bodies, under assorted content
// types, to every dialect's login route and to /oauth/token: whatever
// comes, the answer is one of the documented client-error or success
// statuses (never a 500) and its body is JSON. The requests go through a
// plain http.Client: fuzzed requests break the contract by design.
func FuzzDialectRequests(f *testing.F) {
	s := newServer(f, func(c *authConfig) { c.MinPasswordLength = 5 })
	ctx := context.Background()
	for _, u := range []auth.NewUser{
		{Username: "BR0001", Password: "br123"},
		{Username: "john.doe", Password: "SecurePass123!", Email: "john@example.com", FirstName: "John", LastName: "Doe"},
	} {
		if _, err := s.Svc.CreateUser(ctx, u, "", auth.Origin{}); err != nil {
			f.Fatal(err)
		}
	}
	app, err := s.Store.DefaultApplication(ctx)
	if err != nil {
		f.Fatal(err)
	}
	sess, err := s.Svc.Login(ctx, auth.LoginRequest{Login: "john.doe", Password: "SecurePass123!", Refresh: true})
	if err != nil {
		f.Fatal(err)
	}

	routes := make([]string, 0, len(dialectRoutes)+1)
	for r := range dialectRoutes {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	routes = append(routes, "/oauth/token")
	index := func(route string) byte { return byte(slices.Index(routes, route)) }
	ctIndex := func(ct string) byte { return byte(slices.Index(fuzzContentTypes, ct)) }
	const jsonCT, formCT = "application/json", "application/x-www-form-urlencoded"

	// The seeds' own examples, then broken input of every kind.
	for _, seed := range []struct{ route, ct, body string }{
		{"/v1/authenticate", jsonCT, `{"email": "john@example.com", "password": "SecurePass123!", "resource": "` + app.ID + `"}`},
		{"/v1/authenticate", jsonCT, `{"email": "john@example.com", "password": "", "resource": "hub"}`},
		{"/v1/authenticate", jsonCT, `{"password": "x"}`},
		{"/v1/auth", jsonCT, `{"username": "BR0001", "password": "br123"}`},
		{"/v1/auth", jsonCT, `{"username": "your_user", "password": "your_password"}`},
		{"/v1/auth", jsonCT, `{"username": 1, "password": ""}`},
		{"/v1/auth", jsonCT, `{}`},
		{"/user/login", jsonCT, `{"username": "john.doe", "password": "SecurePass123!"}`},
		{"/user/login", jsonCT, `{"username": "john.doe", "password": "wrong"}`},
		{"/api/user/authenticate", jsonCT, `{"userName": "john.doe", "password": "SecurePass123!"}`},
		{"/api/user/authenticate", jsonCT, `{"userName": "", "password": null}`},
		{"/api/user/refresh-token", jsonCT, `{"refreshToken": "` + sess.RefreshToken + `"}`},
		{"/api/user/refresh-token", jsonCT, `{"refreshToken": ""}`},
		{"/oauth/token", formCT, "grant_type=password&username=john.doe&password=SecurePass123%21"},
		{"/oauth/token", formCT, "grant_type=password&username=john.doe&password=x&scope=users%3Awrite&client_id=" + app.ID},
		{"/oauth/token", formCT, "grant_type=refresh_token&refresh_token=" + url.QueryEscape(sess.RefreshToken)},
		{"/oauth/token", formCT, "grant_type=client_credentials"},
		{"/oauth/token", formCT, "grant_type=password&grant_type=refresh_token&username=%00"},
		{"/oauth/token", formCT, "%zz=1&;;&="},
		{"/oauth/token", jsonCT, `{"grant_type": "password", "username": "BR0001", "password": "br123"}`},
		{"/oauth/token", jsonCT, `{"grant_type": "refresh_token", "refresh_token": 7}`},
		{"/oauth/token", "text/plain", "grant_type=password"},
		{"/v1/auth", jsonCT, ``},
		{"/v1/auth", jsonCT, `{"a":`},
		{"/v1/auth", jsonCT, `[{"username": "admin"}]`},
		{"/v1/auth", jsonCT, `"admin"`},
		{"/v1/auth", jsonCT, `null`},
		{"/v1/auth", jsonCT, `{"username": "ad\u0000min", "password": "\ud800"}`},
		{"/v1/auth", jsonCT, "{\"username\": \"\xff\xfe\", \"password\": \"x\"}"},
		{"/v1/auth", jsonCT, `{"username": "a", "username": {"$gt": ""}, "password": "x"}`},
		{"/user/login", formCT, "username=john.doe&password=SecurePass123%21"},
		{"/api/user/authenticate", jsonCT, `{"userName": [["a"]], "password": {"$ne": null}}`},
		{"/v1/authenticate", jsonCT, `{"email": 1e999, "password": -0, "resource": true}`},
		{"/api/user/refresh-token", "", `{"refreshToken": "x"}`},
		{"/api/user/refresh-token", "application/json; charset=utf-16", "\xff\xfe{\x00}\x00"},
		{"/v1/authenticate", jsonCT, strings.Repeat("[", 10000)},
		{"/v1/auth", jsonCT, `{"username": "` + strings.Repeat("a", 5000) + `", "password": "` + strings.Repeat("b", 5000) + `"}`},
		// Lenient parsers take these; gatehouse refuses them (400):
		// invalid UTF-8, an unpaired surrogate, data after the value and
		// repeated parameters.
		{"/v1/auth", jsonCT, "{\"username\": \"BR0001\xff\", \"password\": \"br123\"}"},
		{"/v1/authenticate", jsonCT, "{\"email\": \"john@example.com\", \"password\": \"Secure\xc3\x28Pass\", \"resource\": \"" + app.ID + "\"}"},
		{"/user/login", jsonCT, "{\"\xed\xa0\x80username\": \"john.doe\", \"password\": \"SecurePass123!\"}"},
		{"/api/user/authenticate", jsonCT, "{\"userName\": \"john.doe\", \"password\": \"SecurePass123!\xf8\"}"},
		{"/oauth/token", jsonCT, "{\"grant_type\": \"password\", \"username\": \"\xc0\xafjohn.doe\", \"password\": \"SecurePass123!\"}"},
		{"/oauth/token", formCT, "grant_type=password&username=john.doe%FF&password=SecurePass123%21"},
		{"/v1/auth", jsonCT, `{"username": "BR0001", "password": "br123"} x`},
		{"/v1/auth", jsonCT, `{"username": "BR0001", "password": "br123"}{"username": "admin"}`},
		{"/v1/authenticate", jsonCT, `{"email": "john@example.com", "password": "SecurePass123!", "resource": "` + app.ID + `"}]`},
		{"/user/login", jsonCT, `{"username": "john.doe", "password": "SecurePass123!"} // comment`},
		{"/api/user/refresh-token", jsonCT, `{"refreshToken": "` + sess.RefreshToken + `"},`},
		{"/oauth/token", jsonCT, `{"grant_type": "password", "username": "BR0001", "password": "br123"} null`},
		{"/v1/auth", jsonCT, `{"username": "BR\ud800", "password": "br123"}`},
		{"/oauth/token", formCT, "grant_type=password&username=john.doe&password=SecurePass123%21&password=x"},
	} {
		f.Add(index(seed.route), ctIndex(seed.ct), []byte(seed.body))
	}

	hc := &http.Client{Timeout: 30 * time.Second}
	allowed := []int{200, 400, 401, 403, 413, 429, 503}
	f.Fuzz(func(t *testing.T, routeSel, ctSel byte, body []byte) {
		route := routes[int(routeSel)%len(routes)]
		ct := fuzzContentTypes[int(ctSel)%len(fuzzContentTypes)]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+route, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", route, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("POST %s: reading the answer: %v", route, err)
		}
		show := func() string {
			return "POST " + route + " (" + ct + ") " + truncate(string(body), 200) + " → " + resp.Status + " " + truncate(string(got), 500)
		}
		if !slices.Contains(allowed, resp.StatusCode) {
			t.Fatalf("status not one of %v: %s", allowed, show())
		}
		if !json.Valid(got) {
			t.Fatalf("body is not JSON: %s", show())
		}
		if (resp.StatusCode == 429 || resp.StatusCode == 503) && resp.Header.Get("Retry-After") == "" {
			t.Fatalf("no Retry-After: %s", show())
		}
		if strings.Contains(string(got), "goroutine ") || strings.Contains(string(got), ".go:") {
			t.Fatalf("a stack trace leaked: %s", show())
		}
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
