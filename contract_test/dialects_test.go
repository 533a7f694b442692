package contract_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
)

// dialectRoutes are the dialects' login routes, called through the
// generated client's raw-body methods so that any body can be sent.
var dialectRoutes = map[string]func(c *client.ClientWithResponses, ctx context.Context, contentType string, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error){
	"/v1/authenticate": func(c *client.ClientWithResponses, ctx context.Context, ct string, b io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
		return c.ClientInterface.JmvstreamAuthenticateWithBody(ctx, ct, b, eds...)
	},
	"/v1/auth": func(c *client.ClientWithResponses, ctx context.Context, ct string, b io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
		return c.ClientInterface.OcariotAuthWithBody(ctx, ct, b, eds...)
	},
	"/user/login": func(c *client.ClientWithResponses, ctx context.Context, ct string, b io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
		return c.ClientInterface.UserLoginWithBody(ctx, ct, b, eds...)
	},
	"/api/user/authenticate": func(c *client.ClientWithResponses, ctx context.Context, ct string, b io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
		return c.ClientInterface.ApiUserAuthenticateWithBody(ctx, ct, b, eds...)
	},
	"/api/user/refresh-token": func(c *client.ClientWithResponses, ctx context.Context, ct string, b io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
		return c.ClientInterface.ApiUserRefreshTokenWithBody(ctx, ct, b, eds...)
	},
}

// call posts body to a dialect route and decodes the JSON answer.
func call(t *testing.T, s *server, route, contentType, body string, contractBreaking bool) (int, map[string]any) {
	t.Helper()
	ctx := context.Background()
	if contractBreaking {
		ctx = invalid(ctx)
	}
	resp, err := dialectRoutes[route](s.Client, ctx, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v", route, err)
	}
	return resp.StatusCode, out
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad expectation %s: %v", s, err)
	}
	return m
}

// dialectFixture is a server with the users every dialect test needs.
type dialectFixture struct {
	s        *server
	admin    string
	appID    string // an application whose only member is "member"
	password string
}

func newDialectFixture(t *testing.T, hcfg impl.Config) dialectFixture {
	t.Helper()
	s := newServerWith(t, hcfg, func(c *authConfig) { c.MinPasswordLength = 5; c.MaxFailedLogins = 3 })
	ctx := context.Background()
	admin := s.adminToken(t)
	f := dialectFixture{s: s, admin: admin, password: "correct-password"}
	for _, u := range []client.UserCreate{
		{Username: "BR0001", Password: "br123"},
		{Username: "john.doe", Password: "SecurePass123!", Email: ptr(client.Email("john@example.com")), FirstName: ptr("John"), LastName: ptr("Doe")},
		{Username: "member", Password: f.password, Email: ptr(client.Email("member@example.com"))},
		{Username: "outsider", Password: f.password, Email: ptr(client.Email("outsider@example.com"))},
		{Username: "disabled", Password: f.password, Email: ptr(client.Email("disabled@example.com"))},
		{Username: "expired", Password: f.password, Email: ptr(client.Email("expired@example.com"))},
		{Username: "locked", Password: f.password, Email: ptr(client.Email("locked@example.com"))},
	} {
		created := s.createUser(t, admin, u)
		switch u.Username {
		case "disabled":
			patchUser(t, s, admin, created.Id.String(), client.UserUpdate{Disabled: ptr(true)})
		case "expired":
			var upd client.UserUpdate
			upd.PasswordExpiresAt.Set(time.Now().Add(-time.Hour))
			patchUser(t, s, admin, created.Id.String(), upd)
		}
	}
	app, err := s.Client.CreateApplicationWithResponse(ctx, client.ApplicationCreate{Name: "hub"}, bearer(admin))
	if err != nil || app.JSON201 == nil {
		t.Fatalf("create application: %v", err)
	}
	f.appID = app.JSON201.Id.String()
	me := userID(t, s, "member")
	if r, err := s.Client.AddApplicationMemberWithResponse(ctx, app.JSON201.Id, me, bearer(admin)); err != nil || r.StatusCode() != 204 {
		t.Fatalf("add member: %v", err)
	}
	// Lock "locked" with three wrong passwords.
	for range 3 {
		call(t, s, "/v1/auth", "application/json", `{"username": "locked", "password": "wrong"}`, false)
	}
	return f
}

func patchUser(t *testing.T, s *server, admin, id string, upd client.UserUpdate) {
	t.Helper()
	r, err := s.Client.UpdateUserWithResponse(context.Background(), uuidOf(t, id), upd, bearer(admin))
	if err != nil || r.JSON200 == nil {
		t.Fatalf("patch user: %v %d %s", err, r.StatusCode(), r.Body)
	}
}

func userID(t *testing.T, s *server, username string) client.ID {
	t.Helper()
	u, err := s.Store.GetUserByLogin(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return uuidOf(t, u.ID)
}

func TestJmvstreamAuthenticate(t *testing.T) {
	t.Parallel()
	f := newDialectFixture(t, impl.Config{})
	body := func(email, password, resource string) string {
		return `{"email": "` + email + `", "password": "` + password + `", "resource": "` + resource + `"}`
	}
	status, got := call(t, f.s, "/v1/authenticate", "application/json", body("member@example.com", f.password, f.appID), false)
	if status != 200 {
		t.Fatalf("login: %d %v", status, got)
	}
	claims := verifyWithJWKS(t, f.s, got["token"].(string))
	if aud, _ := claims.GetAudience(); len(aud) != 1 || aud[0] != f.appID {
		t.Errorf("aud = %v, want [%s]", aud, f.appID)
	}
	notAllowed := `{"message": "not allowed"}`
	cases := []struct{ name, body, want string }{
		{"wrong password", body("member@example.com", "wrong", f.appID), notAllowed},
		{"unknown user", body("nobody@example.com", f.password, f.appID), notAllowed},
		{"not a member", body("outsider@example.com", f.password, f.appID), notAllowed},
		{"unknown resource", body("member@example.com", f.password, "7d2b7a43-2ad4-4d4f-8f0e-6b4f5b7f1c11"), notAllowed},
		{"disabled", body("disabled@example.com", f.password, f.appID), notAllowed},
		{"locked", body("locked@example.com", f.password, f.appID), notAllowed},
		{"expired password", body("expired@example.com", f.password, f.appID), notAllowed},
	}
	for _, tc := range cases {
		status, got := call(t, f.s, "/v1/authenticate", "application/json", tc.body, false)
		if diff := cmp.Diff(decode(t, tc.want), got); status != 401 || diff != "" {
			t.Errorf("%s: status %d, body (-want +got):\n%s", tc.name, status, diff)
		}
	}
	// Joi's messages, for the first failing field in the order email,
	// password, resource.
	invalidCases := []struct{ name, body, want string }{
		{"empty object", `{}`, `"email" is required`},
		{"email missing", `{"password": "x", "resource": "` + f.appID + `"}`, `"email" is required`},
		{"email empty", body("", "x", f.appID), `"email" is not allowed to be empty`},
		{"email malformed", body("not-an-email", "x", f.appID), `"email" must be a valid email`},
		{"email not a string", `{"email": 7, "password": "x", "resource": "` + f.appID + `"}`, `"email" must be a string`},
		{"password missing", `{"email": "a@b.c", "resource": "` + f.appID + `"}`, `"password" is required`},
		{"password empty", body("a@b.c", "", f.appID), `"password" is not allowed to be empty`},
		{"resource missing", `{"email": "a@b.c", "password": "x"}`, `"resource" is required`},
		{"resource not a GUID", body("a@b.c", "x", "hub"), `"resource" must be a valid GUID`},
		{"email before password", `{"password": ""}`, `"email" is required`},
		{"unknown key", `{"email": "a@b.c", "password": "x", "resource": "` + f.appID + `", "admin": true}`, `"admin" is not allowed`},
	}
	for _, tc := range invalidCases {
		status, got := call(t, f.s, "/v1/authenticate", "application/json", tc.body, true)
		if diff := cmp.Diff(map[string]any{"message": tc.want}, got); status != 400 || diff != "" {
			t.Errorf("%s: status %d, body (-want +got):\n%s", tc.name, status, diff)
		}
	}
}

func TestOcariotAuth(t *testing.T) {
	t.Parallel()
	f := newDialectFixture(t, impl.Config{})
	// The seed's own example.
	status, got := call(t, f.s, "/v1/auth", "application/json", `{"username": "BR0001", "password": "br123"}`, false)
	if status != 200 {
		t.Fatalf("seed example: %d %v", status, got)
	}
	tok := got["access_token"].(string)
	claims := verifyWithJWKS(t, f.s, tok)
	if alg := jwtHeader(t, tok)["alg"]; alg != "RS256" {
		t.Errorf("alg = %v, want RS256", alg)
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(iat.Time) != 24*time.Hour || claims["sub_type"] != "user" || claims["scope"] != "profile api_keys" || claims["iss"] != "gatehouse" {
		t.Errorf("claims: %v", claims)
	}

	invalidFields, requiredFields := "One or more request fields are invalid...", "Required fields were not provided..."
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"wrong password", `{"username": "BR0001", "password": "br124"}`, 401, `{"code": 401, "message": "Invalid username or password!"}`},
		{"unknown user", `{"username": "BR9999", "password": "br123"}`, 401, `{"code": 401, "message": "Invalid username or password!"}`},
		{"disabled", `{"username": "disabled", "password": "correct-password"}`, 401, `{"code": 401, "message": "Invalid username or password!"}`},
		{"locked", `{"username": "locked", "password": "correct-password"}`, 401, `{"code": 401, "message": "Invalid username or password!"}`},
		{"expired password", `{"username": "expired", "password": "correct-password"}`, 401, `{"code": 401, "message": "Invalid username or password!"}`},
		{"both absent", `{}`, 400, `{"code": 400, "message": "` + requiredFields + `", "description": "username, password are required!"}`},
		{"password absent", `{"username": "BR0001"}`, 400, `{"code": 400, "message": "` + requiredFields + `", "description": "password are required!"}`},
		{"username absent", `{"password": "br123"}`, 400, `{"code": 400, "message": "` + requiredFields + `", "description": "username are required!"}`},
		{"username not a string", `{"username": 5, "password": "br123"}`, 400, `{"code": 400, "message": "` + invalidFields + `", "description": "username must be a string!"}`},
		{"username empty", `{"username": "", "password": "br123"}`, 400, `{"code": 400, "message": "` + invalidFields + `", "description": "username must have at least one character!"}`},
		{"password not a string", `{"username": "BR0001", "password": true}`, 400, `{"code": 400, "message": "` + invalidFields + `", "description": "password must be a string!"}`},
		{"password empty", `{"username": "BR0001", "password": ""}`, 400, `{"code": 400, "message": "` + invalidFields + `", "description": "password must have at least one character!"}`},
		// The type and emptiness checks come before the absence check.
		{"type before absence", `{"username": 5}`, 400, `{"code": 400, "message": "` + invalidFields + `", "description": "username must be a string!"}`},
		{"malformed JSON", `{"username": "BR0001",`, 400, `{"code": 400, "message": "Unable to process request body!", "description": "Please verify that the JSON provided in the request body has a valid format and try again."}`},
	}
	for _, tc := range cases {
		status, got := call(t, f.s, "/v1/auth", "application/json", tc.body, tc.status == 400)
		if diff := cmp.Diff(decode(t, tc.want), got); status != tc.status || diff != "" {
			t.Errorf("%s: status %d, body (-want +got):\n%s", tc.name, status, diff)
		}
	}
}

func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	b, err := base64URL(seg)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(b))
}

func TestOcariotRoleLogins(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	roles := map[string][]string{
		"child":              {"physicalactivities:read", "sleep:read"},
		"educator":           {"physicalactivities:read", "sleep:read", "measurements:read", "children:read"},
		"healthprofessional": {"physicalactivities:read", "sleep:read", "measurements:read"},
		"family":             {"physicalactivities:read", "children:read"},
		"application":        {"physicalactivities:create", "sleep:create", "measurements:create"},
	}
	code := 10
	for name, scopes := range roles {
		code++
		r, err := s.Client.PutRoleWithResponse(ctx, name, client.RolePut{Code: code, Scopes: scopes}, bearer(admin))
		if err != nil || r.JSON201 == nil {
			t.Fatalf("put role %s: %v %d %s", name, err, r.StatusCode(), r.Body)
		}
		s.createUser(t, admin, client.UserCreate{Username: "u-" + name, Password: "password-" + name, Role: ptr(name)})
	}
	for name, scopes := range roles {
		status, got := call(t, s, "/v1/auth", "application/json", `{"username": "u-`+name+`", "password": "password-`+name+`"}`, false)
		if status != 200 {
			t.Fatalf("%s: %d %v", name, status, got)
		}
		claims := verifyWithJWKS(t, s, got["access_token"].(string))
		if claims["sub_type"] != name || claims["scope"] != strings.Join(scopes, " ") {
			t.Errorf("%s: sub_type %v scope %v", name, claims["sub_type"], claims["scope"])
		}
	}
	status, got := call(t, s, "/v1/auth", "application/json", `{"username": "admin", "password": "`+adminPassword+`"}`, false)
	if claims := verifyWithJWKS(t, s, got["access_token"].(string)); status != 200 || claims["sub_type"] != "admin" || !strings.Contains(claims["scope"].(string), "users:write") {
		t.Errorf("admin: %d %v", status, claims)
	}
}

func TestUserLogin(t *testing.T) {
	t.Parallel()
	f := newDialectFixture(t, impl.Config{})
	status, got := call(t, f.s, "/user/login", "application/json", `{"username": "john.doe", "password": "SecurePass123!"}`, false)
	if status != 200 {
		t.Fatalf("seed example: %d %v", status, got)
	}
	for k, want := range map[string]any{"Username": "john.doe", "Email": "john@example.com", "Firstname": "John", "Lastname": "Doe", "PasswordExpiration": nil} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if claims := verifyWithJWKS(t, f.s, got["Token"].(string)); claims["sub"] != got["Id"] {
		t.Errorf("token sub %v, Id %v", claims["sub"], got["Id"])
	}
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"wrong password", `{"username": "john.doe", "password": "nope"}`, 401, `{"message": "Incorrect credentials"}`},
		{"unknown user", `{"username": "jane.doe", "password": "nope"}`, 401, `{"message": "Incorrect credentials"}`},
		{"disabled", `{"username": "disabled", "password": "correct-password"}`, 401, `{"message": "Incorrect credentials"}`},
		{"locked", `{"username": "locked", "password": "correct-password"}`, 401, `{"message": "Incorrect credentials"}`},
		// The one dialect that tells an expired password.
		{"expired password", `{"username": "expired", "password": "correct-password"}`, 403, `{"message": "Password expired"}`},
		{"expired password, wrong", `{"username": "expired", "password": "nope"}`, 401, `{"message": "Incorrect credentials"}`},
		{"username absent", `{"password": "x"}`, 400, `{"message": "username is required"}`},
		{"password not a string", `{"username": "john.doe", "password": ["x"]}`, 400, `{"message": "password must be a string"}`},
	}
	for _, tc := range cases {
		status, got := call(t, f.s, "/user/login", "application/json", tc.body, tc.status == 400)
		if diff := cmp.Diff(decode(t, tc.want), got); status != tc.status || diff != "" {
			t.Errorf("%s: status %d, body (-want +got):\n%s", tc.name, status, diff)
		}
	}
}

func TestAPIUserAuthenticateAndRefresh(t *testing.T) {
	t.Parallel()
	f := newDialectFixture(t, impl.Config{})
	s, ctx := f.s, context.Background()
	// The seed's example credentials, on the administrator (role code 1).
	adminID := userID(t, s, "admin")
	if r, err := s.Client.SetUserPasswordWithResponse(ctx, adminID, client.PasswordSet{NewPassword: "AdminPassword"}, bearer(f.admin)); err != nil || r.StatusCode() != 204 {
		t.Fatalf("set password: %v", err)
	}
	status, got := call(t, s, "/api/user/authenticate", "application/json", `{"userName": "Admin", "password": "AdminPassword"}`, false)
	if status != 200 {
		t.Fatalf("seed example: %d %v", status, got)
	}
	for k, want := range map[string]any{"responseKey": "SUCCESS", "responseMessage": "Successful request", "role": float64(1), "userName": "admin", "fullName": "admin", "email": ""} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	accessExp, err := time.Parse(time.RFC3339, got["accessTokenExpiryTime"].(string))
	if err != nil || time.Until(accessExp) < 59*time.Minute || time.Until(accessExp) > 61*time.Minute {
		t.Errorf("accessTokenExpiryTime %v: want one hour from now", got["accessTokenExpiryTime"])
	}
	verifyWithJWKS(t, s, got["accessToken"].(string))

	first := got["refreshToken"].(string)
	status, second := call(t, s, "/api/user/refresh-token", "application/json", `{"refreshToken": "`+first+`"}`, false)
	if status != 200 || second["refreshToken"] == first || second["responseKey"] != "SUCCESS" {
		t.Fatalf("refresh: %d %v", status, second)
	}
	invalidCredentials := `{"responseKey": "INVALID_CREDENTIALS", "responseMessage": "Invalid credentials"}`
	status, third := call(t, s, "/api/user/refresh-token", "application/json", `{"refreshToken": "`+second["refreshToken"].(string)+`"}`, false)
	if status != 200 || third["refreshToken"] == second["refreshToken"] {
		t.Fatalf("second refresh: %d %v", status, third)
	}
	// Reuse of the first token, two links back, revokes the family, the
	// newer tokens with it.
	for _, tok := range []string{first, second["refreshToken"].(string), third["refreshToken"].(string), "never-issued"} {
		status, got := call(t, s, "/api/user/refresh-token", "application/json", `{"refreshToken": "`+tok+`"}`, false)
		if diff := cmp.Diff(decode(t, invalidCredentials), got); status != 401 || diff != "" {
			t.Errorf("refresh with %.8s…: %d (-want +got):\n%s", tok, status, diff)
		}
	}
	cases := []struct {
		name, route, body string
		status            int
		want              string
	}{
		{"wrong password", "/api/user/authenticate", `{"userName": "admin", "password": "nope"}`, 401, invalidCredentials},
		{"expired password", "/api/user/authenticate", `{"userName": "expired", "password": "correct-password"}`, 401, invalidCredentials},
		{"disabled", "/api/user/authenticate", `{"userName": "disabled", "password": "correct-password"}`, 401, invalidCredentials},
		{"userName absent", "/api/user/authenticate", `{"username": "admin", "password": "x"}`, 400, `{"responseKey": "INVALID_REQUEST", "responseMessage": "Invalid HTTP request: userName is required"}`},
		{"refreshToken empty", "/api/user/refresh-token", `{"refreshToken": ""}`, 400, `{"responseKey": "INVALID_REQUEST", "responseMessage": "Invalid HTTP request: refreshToken must not be empty"}`},
	}
	for _, tc := range cases {
		status, got := call(t, s, tc.route, "application/json", tc.body, tc.status == 400)
		if diff := cmp.Diff(decode(t, tc.want), got); status != tc.status || diff != "" {
			t.Errorf("%s: status %d, body (-want +got):\n%s", tc.name, status, diff)
		}
	}
}

// TestDialectBadInput sends every kind of broken request to every dialect
// route: each answers 400 (or 413) in its own shape — the validating doer
// checks the shape against the route's schema — and never 500.
func TestDialectBadInput(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	long := strings.Repeat("a", 100_000)
	bodies := []struct {
		name, contentType, body string
		status                  int
	}{
		{"missing body", "application/json", "", 400},
		{"malformed JSON", "application/json", `{"a":`, 400},
		{"wrong content type", "text/plain", `{"username": "admin"}`, 400},
		{"form encoded", "application/x-www-form-urlencoded", "username=admin&password=x", 400},
		{"JSON array", "application/json", `[{"username": "admin"}]`, 400},
		{"JSON string", "application/json", `"admin"`, 400},
		{"null", "application/json", `null`, 400},
		{"wrong types", "application/json", `{"email": 1, "username": 1, "userName": 1, "password": 2, "resource": 3, "refreshToken": 4}`, 400},
		{"nested arrays", "application/json", `{"email": [["a"]], "username": [["a"]], "userName": [["a"]], "password": [[]], "resource": [], "refreshToken": [[]]}`, 400},
		{"nested objects", "application/json", `{"email": {"a": {}}, "username": {"$gt": ""}, "userName": {"$gt": ""}, "password": {"$ne": null}, "resource": {}, "refreshToken": {}}`, 400},
		{"NUL bytes", "application/json", `{"email": "a\u0000@b.c", "username": "ad\u0000min", "userName": "ad\u0000min", "password": "", "resource": "\u0000", "refreshToken": ""}`, 400},
		{"100,000-character fields", "application/json", `{"email": "` + long + `@b.c", "username": "` + long + `", "userName": "` + long + `", "password": "` + long + `", "resource": "` + long + `", "refreshToken": "` + long + `"}`, 400},
		{"2 MiB body", "application/json", `{"username": "` + strings.Repeat("a", 2<<20) + `"}`, 413},
	}
	for route := range dialectRoutes {
		for _, b := range bodies {
			status, got := call(t, s, route, b.contentType, b.body, true)
			if status != b.status {
				t.Errorf("%s %s: status %d, want %d: %v", route, b.name, status, b.status, got)
			}
		}
	}
}

func TestDialectsSwitch(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, impl.Config{Dialects: []string{impl.DialectOcariot}})
	// A switched-off dialect's route does not exist: plain HTTP, since the
	// contract describes the routes as they are when switched on.
	for _, route := range []string{"/v1/authenticate", "/user/login", "/api/user/authenticate", "/api/user/refresh-token"} {
		resp, err := http.Post(s.URL+route, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s switched off: %d, want 404", route, resp.StatusCode)
		}
	}
	if status, got := call(t, s, "/v1/auth", "application/json", `{"username": "admin", "password": "`+adminPassword+`"}`, false); status != 200 {
		t.Errorf("/v1/auth switched on: %d %v", status, got)
	}
	if _, err := newHandlersWithDialect("klingon"); err == nil {
		t.Error("an unknown dialect name was accepted")
	}
}

func newHandlersWithDialect(name string) (*impl.Handlers, error) {
	return impl.New(&auth.Service{}, nil, impl.Config{Dialects: []string{name}})
}

// TestDialectLoginsAreAudited checks that every dialect's logins land in
// the audit log with the dialect's name.
func TestDialectLoginsAreAudited(t *testing.T) {
	t.Parallel()
	f := newDialectFixture(t, impl.Config{})
	logins := map[string]string{
		"/v1/authenticate":       `{"email": "member@example.com", "password": "correct-password", "resource": "` + f.appID + `"}`,
		"/v1/auth":               `{"username": "member", "password": "correct-password"}`,
		"/user/login":            `{"username": "member", "password": "correct-password"}`,
		"/api/user/authenticate": `{"userName": "member", "password": "correct-password"}`,
	}
	for route, body := range logins {
		if status, got := call(t, f.s, route, "application/json", body, false); status != 200 {
			t.Fatalf("%s: %d %v", route, status, got)
		}
	}
	events, _, err := f.s.Store.ListAuditEvents(context.Background(), storeAuditFilter("login"), storePage(500))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		if e.Outcome == "success" && e.SubjectID == userID(t, f.s, "member").String() {
			seen[e.Dialect] = true
		}
	}
	for _, d := range impl.AllDialects {
		if !seen[d] {
			t.Errorf("no successful login audited for dialect %s (saw %v)", d, seen)
		}
	}
}

func newHandlersWithProxies(cidr string) (*impl.Handlers, error) {
	return impl.New(&auth.Service{}, nil, impl.Config{TrustedProxies: []string{cidr}})
}
