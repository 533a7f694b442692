package contract_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
)

const formType = "application/x-www-form-urlencoded"

// rawCall sends body to a route through the generated client's raw-body
// methods (so the validating doer checks the answer and records it) and
// returns the status and the decoded JSON object.
func rawCall(t *testing.T, send func(context.Context, string, io.Reader, ...client.RequestEditorFn) (*http.Response, error), contentType, body string, eds ...client.RequestEditorFn) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := send(invalid(context.Background()), contentType, strings.NewReader(body), eds...)
	b := readBody(t, resp, err)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, b)
	}
	return resp.StatusCode, resp.Header, out
}

// Bodies that encoding/json would take leniently are a 400 in every
// route's shape, and nothing is done with them.
func TestStrictJSONBodies(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	bodies := []struct{ name, body, problem string }{
		{"invalid UTF-8", "{\"username\": \"\xffbad\", \"password\": \"a-long-password\"}", "the body is not valid JSON: it is not UTF-8"},
		{"invalid UTF-8 in a key", "{\"username\": \"fine\", \"password\": \"a-long-password\", \"\xfe\": 1}", "the body is not valid JSON: it is not UTF-8"},
		{"trailing garbage", `{"username": "trailing", "password": "a-long-password"} x`, "the body is not valid JSON: data follows the JSON value"},
		{"second value", `{"username": "second", "password": "a-long-password"}{}`, "the body is not valid JSON: data follows the JSON value"},
		{"unpaired high surrogate", `{"username": "lone\ud800", "password": "a-long-password"}`, "the body is not valid JSON: it holds an unpaired UTF-16 surrogate escape"},
		{"unpaired low surrogate", `{"username": "lone\udc00x", "password": "a-long-password"}`, "the body is not valid JSON: it holds an unpaired UTF-16 surrogate escape"},
		{"repeated member", `{"username": "one", "username": "two", "password": "a-long-password"}`, "is repeated; the members of a JSON object must have unique names"},
		{"repeated member, escaped", `{"username": "one", "\u0075sername": "two", "password": "a-long-password"}`, "is repeated; the members of a JSON object must have unique names"},
	}
	t.Run("native", func(t *testing.T) {
		for _, tc := range bodies {
			resp, err := s.Client.CreateUserWithBody(invalid(context.Background()), jsonType, strings.NewReader(tc.body), bearer(admin))
			body := readBody(t, resp, err)
			p := wantProblem(t, resp, body, http.StatusBadRequest)
			if p.Errors == nil || len(*p.Errors) != 1 || (*p.Errors)[0].Message != tc.problem {
				t.Errorf("%s: %s", tc.name, body)
			}
			if strings.HasPrefix(tc.name, "repeated") {
				wantFieldError(t, p, "body", "username")
			}
		}
		// None was created, not even as U+FFFD.
		r, err := s.Client.ListUsersWithResponse(context.Background(), nil, bearer(admin))
		if err != nil || r.JSON200 == nil || len(r.JSON200.Items) != 1 {
			t.Fatalf("users after the refused bodies: %v %s", err, r.Body)
		}
	})
	t.Run("valid escapes", func(t *testing.T) {
		// A surrogate pair and an escaped backslash before a u are fine.
		resp, err := s.Client.CreateUserWithBody(context.Background(), jsonType,
			strings.NewReader(`{"username": "smile \ud83d\ude00 \\ud800", "password": "a-long-password"}`), bearer(admin))
		body := readBody(t, resp, err)
		var u client.User
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &u) != nil || u.Username != `smile 😀 \ud800` {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})

	// Each dialect answers in its own shape, with its own words.
	dialects := []struct {
		route string
		want  map[string]any
	}{
		{"/v1/auth", map[string]any{"code": 400.0, "message": "Unable to process request body!", "description": "Please verify that the JSON provided in the request body has a valid format and try again."}},
		{"/v1/authenticate", map[string]any{"message": "Unexpected token in JSON body"}},
		{"/user/login", map[string]any{"message": "the request body is not valid JSON"}},
		{"/api/user/authenticate", map[string]any{"responseKey": "INVALID_REQUEST", "responseMessage": "Invalid HTTP request: the request body is not valid JSON"}},
	}
	for _, d := range dialects {
		t.Run(d.route, func(t *testing.T) {
			for _, tc := range bodies {
				status, got := call(t, s, d.route, jsonType, tc.body, true)
				want := d.want
				if strings.HasPrefix(tc.name, "repeated") {
					switch d.route {
					case "/user/login":
						want = map[string]any{"message": "username is repeated"}
					case "/api/user/authenticate":
						continue // its field is userName
					}
				}
				if diff := cmp.Diff(want, got); status != http.StatusBadRequest || diff != "" {
					t.Errorf("%s: status %d, body (-want +got):\n%s", tc.name, status, diff)
				}
			}
		})
	}
	t.Run("/api/user/authenticate repeated", func(t *testing.T) {
		status, got := call(t, s, "/api/user/authenticate", jsonType, `{"userName": "admin", "userName": "x", "password": "p"}`, true)
		want := map[string]any{"responseKey": "INVALID_REQUEST", "responseMessage": "Invalid HTTP request: userName is repeated"}
		if diff := cmp.Diff(want, got); status != http.StatusBadRequest || diff != "" {
			t.Errorf("status %d, body (-want +got):\n%s", status, diff)
		}
	})
	t.Run("/oauth/token", func(t *testing.T) {
		for _, tc := range []struct{ body, desc string }{
			{`{"grant_type": "password", "username": "admin", "password": "` + adminPassword + `"} x`, "the body is not valid JSON: data follows the JSON value"},
			{"{\"grant_type\": \"password\", \"username\": \"\xffadmin\", \"password\": \"x\"}", "the body is not valid JSON: it is not UTF-8"},
			{`{"grant_type": "password", "grant_type": "refresh_token", "username": "admin", "password": "` + adminPassword + `"}`, "grant_type is repeated; the members of a JSON object must have unique names"},
		} {
			status, h, got := rawCall(t, s.Client.CreateTokenWithBody, jsonType, tc.body)
			want := map[string]any{"error": "invalid_request", "error_description": tc.desc}
			if diff := cmp.Diff(want, got); status != http.StatusBadRequest || diff != "" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: status %d, body (-want +got):\n%s", tc.body, status, diff)
			}
		}
	})
}

// RFC 6749 §3.2: request parameters must not be included more than once.
// A repeated one is a 400 invalid_request naming it, on every /oauth route.
func TestRepeatedOAuthParameters(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	refreshToken := s.login(t, "admin", adminPassword).RefreshToken
	type send = func(context.Context, string, io.Reader, ...client.RequestEditorFn) (*http.Response, error)
	cases := []struct {
		name, body, param string
		send              send
		eds               []client.RequestEditorFn
	}{
		{"token: grant_type", "grant_type=password&grant_type=refresh_token&username=admin&password=" + adminPassword + "&refresh_token=" + refreshToken, "grant_type", s.Client.CreateTokenWithBody, nil},
		{"token: same grant_type twice", "grant_type=password&username=admin&password=" + adminPassword + "&grant_type=password", "grant_type", s.Client.CreateTokenWithBody, nil},
		{"token: password", "grant_type=password&username=admin&password=wrong&password=" + adminPassword, "password", s.Client.CreateTokenWithBody, nil},
		{"token: an empty second value", "grant_type=refresh_token&refresh_token=" + refreshToken + "&refresh_token=", "refresh_token", s.Client.CreateTokenWithBody, nil},
		{"revoke: token", "token=" + refreshToken + "&token=other", "token", s.Client.RevokeTokenWithBody, nil},
		{"revoke: token_type_hint", "token=" + refreshToken + "&token_type_hint=refresh_token&token_type_hint=access_token", "token_type_hint", s.Client.RevokeTokenWithBody, nil},
		{"introspect: token", "token=" + admin + "&token=" + refreshToken, "token", s.Client.IntrospectTokenWithBody, []client.RequestEditorFn{bearer(admin)}},
	}
	for _, tc := range cases {
		status, h, got := rawCall(t, tc.send, formType, tc.body, tc.eds...)
		want := map[string]any{"error": "invalid_request", "error_description": tc.param + " is repeated; parameters must not be included more than once (RFC 6749 §3.2)"}
		if diff := cmp.Diff(want, got); status != http.StatusBadRequest || diff != "" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: status %d, body (-want +got):\n%s", tc.name, status, diff)
		}
	}
	// Nothing was done: the refresh token was neither spent nor revoked.
	if r := refresh(t, s, refreshToken); r.JSON200 == nil {
		t.Errorf("the refresh token after the refused requests: %d %s", r.StatusCode(), r.Body)
	}
	// Other broken form bodies.
	for _, tc := range []struct{ body, desc string }{
		{"grant_type=password&username=%FFadmin&password=x", "username is not UTF-8"},
		{"grant_type=password&%zz=1", "the body is not valid form data"},
	} {
		status, _, got := rawCall(t, s.Client.CreateTokenWithBody, formType, tc.body)
		want := map[string]any{"error": "invalid_request", "error_description": tc.desc}
		if diff := cmp.Diff(want, got); status != http.StatusBadRequest || diff != "" {
			t.Errorf("%s: status %d, body (-want +got):\n%s", tc.body, status, diff)
		}
	}
}

// An error_description says which parameter is wrong and how.
func TestOAuthErrorDescriptions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	inQuery := func(q string) client.RequestEditorFn {
		return func(_ context.Context, r *http.Request) error {
			r.URL.RawQuery = q
			return nil
		}
	}
	type send = func(context.Context, string, io.Reader, ...client.RequestEditorFn) (*http.Response, error)
	cases := []struct {
		name, contentType, body, desc string
		send                          send
		eds                           []client.RequestEditorFn
	}{
		{"token: empty form", formType, "", "grant_type is required", s.Client.CreateTokenWithBody, nil},
		{"token: empty JSON", jsonType, "", "grant_type is required", s.Client.CreateTokenWithBody, nil},
		{"token: grant_type empty", formType, "username=admin", "grant_type is required", s.Client.CreateTokenWithBody, nil},
		{"token: in the query string", formType, "", "parameters must be sent in the request body, not the query string (RFC 6749 §3.2)", s.Client.CreateTokenWithBody,
			[]client.RequestEditorFn{inQuery("grant_type=password&username=admin&password=" + adminPassword)}},
		{"token: some in the query string", formType, "grant_type=password&username=admin", "parameters must be sent in the request body, not the query string (RFC 6749 §3.2)", s.Client.CreateTokenWithBody,
			[]client.RequestEditorFn{inQuery("password=" + adminPassword)}},
		{"revoke: empty", formType, "", "token is required", s.Client.RevokeTokenWithBody, nil},
		{"revoke: in the query string", formType, "", "parameters must be sent in the request body, not the query string (RFC 6749 §3.2)", s.Client.RevokeTokenWithBody,
			[]client.RequestEditorFn{inQuery("token=x")}},
		{"introspect: empty", formType, "", "token is required", s.Client.IntrospectTokenWithBody, []client.RequestEditorFn{bearer(admin)}},
		{"introspect: no token", formType, "token_type_hint=access_token", "token is required", s.Client.IntrospectTokenWithBody, []client.RequestEditorFn{bearer(admin)}},
		{"introspect: no token, JSON", jsonType, `{"token_type_hint": "access_token"}`, "token is required", s.Client.IntrospectTokenWithBody, []client.RequestEditorFn{bearer(admin)}},
	}
	for _, tc := range cases {
		status, _, got := rawCall(t, tc.send, tc.contentType, tc.body, tc.eds...)
		want := map[string]any{"error": "invalid_request", "error_description": tc.desc}
		if diff := cmp.Diff(want, got); status != http.StatusBadRequest || diff != "" {
			t.Errorf("%s: status %d, body (-want +got):\n%s", tc.name, status, diff)
		}
	}
	// A native route's missing body names what it lacks too.
	resp, err := s.Client.CreateUserWithBody(invalid(context.Background()), jsonType, strings.NewReader(""), bearer(admin))
	body := readBody(t, resp, err)
	p := wantProblem(t, resp, body, http.StatusBadRequest)
	wantFieldError(t, p, "body", "username") // password is optional: an invitation
}

// HEAD is served for the public GETs with the GET's status and headers
// and no body; the contract declares each.
func TestHead(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	c := s.Client.ClientInterface.(*client.Client)
	pairs := []struct {
		name      string
		get, head func(context.Context, ...client.RequestEditorFn) (*http.Response, error)
	}{
		{"jwks", c.GetJWKS, c.HeadJWKS},
		{"openid-configuration", c.GetOpenIDConfiguration, c.HeadOpenIDConfiguration},
		{"oauth-authorization-server", c.GetAuthorizationServerMetadata, c.HeadAuthorizationServerMetadata},
		{"healthz", c.GetHealth, c.HeadHealth},
		{"readyz", c.GetReadiness, c.HeadReadiness},
		{"openapi.yaml", c.GetOpenAPISpec, c.HeadOpenAPISpec},
	}
	for _, p := range pairs {
		get, err := p.get(ctx)
		getBody := readBody(t, get, err)
		head, err := p.head(ctx)
		headBody := readBody(t, head, err)
		if head.StatusCode != http.StatusOK || len(headBody) != 0 {
			t.Errorf("HEAD %s: %d, %d bytes of body", p.name, head.StatusCode, len(headBody))
		}
		if got, want := head.Header.Get("Content-Type"), get.Header.Get("Content-Type"); got != want {
			t.Errorf("HEAD %s: Content-Type %q, GET's %q", p.name, got, want)
		}
		if cl := head.Header.Get("Content-Length"); cl != "" && cl != get.Header.Get("Content-Length") && get.Header.Get("Content-Length") != "" {
			t.Errorf("HEAD %s: Content-Length %s, GET's %s (%d bytes)", p.name, cl, get.Header.Get("Content-Length"), len(getBody))
		}
	}
	// As GET, HEAD /readyz is 503 without a database.
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadReadiness(ctx)
	if body := readBody(t, head, err); head.StatusCode != http.StatusServiceUnavailable || len(body) != 0 {
		t.Errorf("HEAD /readyz without a database: %d %s", head.StatusCode, body)
	}
}

// A method a path does not serve is a 405 with Allow listing those it
// does (HEAD included wherever GET is), in the route's shape: for every
// path of the contract and every method it lacks.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	loadContract(t)
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "PROPFIND"}
	for _, path := range contract.spec.Paths.InMatchingOrder() {
		ops := contract.spec.Paths.Value(path).Operations()
		if _, ok := ops[http.MethodGet]; ok {
			ops[http.MethodHead] = ops[http.MethodGet] // served as the GET (TestHeadIsGet)
		}
		var allowed []string
		for m := range ops {
			allowed = append(allowed, m)
		}
		slices.Sort(allowed)
		for _, m := range methods {
			if _, ok := ops[m]; ok {
				continue
			}
			req, err := http.NewRequest(m, s.URL+concretePath(path), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			body := readBody(t, resp, err)
			allow := strings.Split(resp.Header.Get("Allow"), ", ")
			slices.Sort(allow)
			if resp.StatusCode != http.StatusMethodNotAllowed || !slices.Equal(allow, allowed) {
				t.Errorf("%s %s: %d, Allow %q, want 405 and %v", m, path, resp.StatusCode, resp.Header.Get("Allow"), allowed)
				continue
			}
			if m == http.MethodHead {
				continue // no body
			}
			want := map[string]any{
				"/v1/authenticate":       map[string]any{"message": "method not allowed"},
				"/v1/auth":               map[string]any{"code": 405.0, "message": "Method not allowed!"},
				"/user/login":            map[string]any{"message": "Method not allowed"},
				"/api/user/authenticate": map[string]any{"responseKey": "INVALID_REQUEST", "responseMessage": "Invalid HTTP request: method not allowed"},
				"/oauth/token":           map[string]any{"error": "invalid_request", "error_description": "method not allowed"},
				"/v1/users": map[string]any{"type": "about:blank", "title": "Method Not Allowed", "status": 405.0,
					"detail": "method not allowed", "instance": "/v1/users"},
			}[path]
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Errorf("%s %s: %v: %s", m, path, err, body)
			} else if diff := cmp.Diff(want, got); want != nil && diff != "" {
				t.Errorf("%s %s: body (-want +got):\n%s", m, path, diff)
			}
		}
	}
}

// concretePath fills a contract path's parameters with valid values.
func concretePath(path string) string {
	r := strings.NewReplacer("{id}", uuid.NewString(), "{user_id}", uuid.NewString(), "{name}", "admin", "{asset}", "index.html")
	return r.Replace(path)
}

// Header fields over 64 KiB are gatehouse's 431, not net/http's bare one:
// in the route's shape, logged, and declared by every operation.
func TestHeaderTooLarge(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	loadContract(t)
	doer := &validatingDoer{t: t}
	padding := strings.Repeat("p", impl.MaxHeaderBytes)
	shapes := map[string]map[string]any{
		"/v1/authenticate":        {"message": "request header fields too large"},
		"/v1/auth":                {"code": 431.0, "message": "Request header fields too large!", "description": "The request line and header fields must not be larger than 64 KiB."},
		"/user/login":             {"message": "Request header fields too large"},
		"/authheader/add":         {"message": "Request header fields too large"},
		"/authheader/list":        {"message": "Request header fields too large"},
		"/authheader/delete":      {"message": "Request header fields too large"},
		"/api/user/authenticate":  {"responseKey": "INVALID_REQUEST", "responseMessage": "Invalid HTTP request: the request header fields are larger than 64 KiB"},
		"/api/user/refresh-token": {"responseKey": "INVALID_REQUEST", "responseMessage": "Invalid HTTP request: the request header fields are larger than 64 KiB"},
		"/oauth/token":            {"error": "invalid_request", "error_description": "the request line and header fields are over 64 KiB"},
		"/oauth/revoke":           {"error": "invalid_request", "error_description": "the request line and header fields are over 64 KiB"},
		"/oauth/introspect":       {"error": "invalid_request", "error_description": "the request line and header fields are over 64 KiB"},
		"/oauth/authorize":        {"error": "invalid_request", "error_description": "the request line and header fields are over 64 KiB"},
		"/oauth/userinfo":         {"error": "invalid_request", "error_description": "the request line and header fields are over 64 KiB"},
	}
	ops := 0
	for _, path := range contract.spec.Paths.InMatchingOrder() {
		for method := range contract.spec.Paths.Value(path).Operations() {
			ops++
			req, err := http.NewRequestWithContext(invalid(context.Background()), method, s.URL+concretePath(path), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Padding", padding)
			resp, err := doer.Do(req)
			body := readBody(t, resp, err)
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("%s %s: %d %.200s", method, path, resp.StatusCode, body)
				continue
			}
			if method == http.MethodHead {
				continue
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Errorf("%s %s: %v: %s", method, path, err, body)
				continue
			}
			want, ok := shapes[path]
			if !ok {
				want = map[string]any{"type": "about:blank", "title": "Request Header Fields Too Large", "status": 431.0,
					"detail": "the request line and header fields are over 64 KiB", "instance": req.URL.Path}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s: body (-want +got):\n%s", method, path, diff)
			}
		}
	}
	if n := strings.Count(s.Log.String(), `"status":431`); n != ops {
		t.Errorf("%d 431s in the access log, want %d", n, ops)
	}
	// Just under the limit is served.
	req, err := http.NewRequest(http.MethodGet, s.URL+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", padding[:impl.MaxHeaderBytes-1024])
	resp, err := doer.Do(req)
	if body := readBody(t, resp, err); resp.StatusCode != http.StatusOK {
		t.Errorf("headers just under the limit: %d %s", resp.StatusCode, body)
	}
	if impl.ServerMaxHeaderBytes <= impl.MaxHeaderBytes {
		t.Errorf("net/http's limit %d must exceed gatehouse's %d, or net/http answers first", impl.ServerMaxHeaderBytes, impl.MaxHeaderBytes)
	}
}
