package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	"github.com/gatehouse-auth/gatehouse/conformance"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// wantProblem checks that a native-API response is an RFC 9457 problem
// with the given status, and returns it.
func wantProblem(t testing.TB, hr *http.Response, body []byte, status int) client.Problem {
	t.Helper()
	p, err := conformance.WantProblem(hr, body, status)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantFieldError checks that the problem's errors name field at location.
func wantFieldError(t testing.TB, p client.Problem, location, field string) {
	t.Helper()
	wantFieldErrorWhere(t, p, location, field, func(e client.FieldError) bool {
		return e.Field != nil && *e.Field == field
	})
}

// wantParamError checks that the problem's errors hold one for the path
// or query parameter name. impl/errors.go currently leaves out the field
// of a parameter's schema error (a parameter's JSON pointer is empty), so
// an entry at the location without a field is accepted too.
func wantParamError(t testing.TB, p client.Problem, location, name string) {
	t.Helper()
	wantFieldErrorWhere(t, p, location, name, func(e client.FieldError) bool {
		return e.Field == nil || *e.Field == name
	})
}

// wantUnknownProperty checks that the problem's errors name an unknown
// body property. impl/errors.go currently names it only in the message
// (kin-openapi reports it under the keyword "properties", not
// "additionalProperties"), so that is accepted too.
func wantUnknownProperty(t testing.TB, p client.Problem, name string) {
	t.Helper()
	wantFieldErrorWhere(t, p, "body", name, func(e client.FieldError) bool {
		return e.Field != nil && *e.Field == name || e.Field == nil && strings.Contains(e.Message, `"`+name+`"`)
	})
}

// wantBodyError checks a schema failure of the body: field failed its
// schema, or unknown is a property the schema does not have, or (both "")
// the errors list is not empty.
func wantBodyError(t testing.TB, p client.Problem, field, unknown string) {
	t.Helper()
	switch {
	case field != "":
		wantFieldError(t, p, "body", field)
	case unknown != "":
		wantUnknownProperty(t, p, unknown)
	case p.Errors == nil || len(*p.Errors) == 0:
		t.Errorf("problem without errors: %+v", p)
	}
}

func wantFieldErrorWhere(t testing.TB, p client.Problem, location, field string, match func(client.FieldError) bool) {
	t.Helper()
	if p.Errors == nil || len(*p.Errors) == 0 {
		t.Errorf("problem without errors, want one for %s %s", location, field)
		return
	}
	found := false
	for _, e := range *p.Errors {
		if e.Message == "" {
			t.Errorf("field error without a message: %+v", e)
		}
		if e.Location != nil && string(*e.Location) == location && match(e) {
			found = true
		}
	}
	if !found {
		b, _ := json.Marshal(p.Errors)
		t.Errorf("problem errors %s do not name %s %s", b, location, field)
	}
}

// replacePath rewrites the request's path, to send a value the generated
// client's types cannot hold (a non-UUID id). Mark the context invalid.
func replacePath(old, new string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.URL.Path = strings.Replace(req.URL.Path, old, new, 1)
		req.URL.RawPath = ""
		return nil
	}
}

// noAuth sends a request without credentials.
func noAuth(context.Context, *http.Request) error { return nil }

// tokenRequest runs the password grant, optionally for an application.
func tokenRequest(t testing.TB, s *server, username, password, clientID string) *client.CreateTokenResponse {
	t.Helper()
	body := client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password,
	}
	if clientID != "" {
		body.ClientId = &clientID
	}
	resp, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// wantLoginRefused checks that a password grant fails with invalid_grant
// and the given description.
func wantLoginRefused(t testing.TB, resp *client.CreateTokenResponse, description string) {
	t.Helper()
	if resp.JSON400 == nil || resp.JSON400.Error != client.OAuthErrorErrorInvalidGrant ||
		resp.JSON400.ErrorDescription == nil || *resp.JSON400.ErrorDescription != description {
		t.Fatalf("login: %d %s, want 400 invalid_grant %q", resp.StatusCode(), resp.Body, description)
	}
}

// wantNoPassword checks that a response body holds neither the password
// nor any password field but password_expires_at.
func wantNoPassword(t testing.TB, body []byte, password string) {
	t.Helper()
	if password != "" && bytes.Contains(body, []byte(password)) {
		t.Errorf("the response holds the password: %s", body)
	}
	if len(body) == 0 {
		return
	}
	var keys func(v any)
	keys = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if strings.Contains(k, "password") && k != "password_expires_at" {
					t.Errorf("the response has the field %q: %s", k, body)
				}
				keys(x)
			}
		case []any:
			for _, x := range v {
				keys(x)
			}
		}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body: %v", err)
	}
	keys(v)
}

var ignoreUserServerFields = cmpopts.IgnoreFields(client.User{}, "Id", "CreatedAt", "UpdatedAt")

func neverExpires() nullable.Nullable[time.Time] { return nullable.NewNullNullable[time.Time]() }

func TestCreateUser(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	cases := []struct {
		name string
		body client.UserCreate
		want client.User
	}{
		{
			"every field",
			client.UserCreate{Username: "Ada Lovelace", Password: "analytical-engine", Email: ptr(client.Email("ada@example.com")),
				FirstName: ptr("Ada"), LastName: ptr("Lovelace"), Role: ptr("admin")},
			client.User{Username: "Ada Lovelace", Email: ptr("ada@example.com"), FirstName: ptr("Ada"), LastName: ptr("Lovelace"),
				Role: "admin", PasswordExpiresAt: neverExpires()},
		},
		{
			"role defaults to user",
			client.UserCreate{Username: "BR0001", Password: "child-password"},
			client.User{Username: "BR0001", Role: "user", PasswordExpiresAt: neverExpires()},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			resp, err := s.Client.CreateUserWithResponse(ctx, tc.body, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			if resp.JSON201 == nil {
				t.Fatalf("create: %d %s", resp.StatusCode(), resp.Body)
			}
			got := *resp.JSON201
			if diff := cmp.Diff(tc.want, got, ignoreUserServerFields); diff != "" {
				t.Errorf("created user (-want +got):\n%s", diff)
			}
			if got.Id == uuid.Nil || got.CreatedAt.Before(before) || !got.UpdatedAt.Equal(got.CreatedAt) || got.CreatedAt.Location() != time.UTC {
				t.Errorf("server fields: id %s created %s updated %s", got.Id, got.CreatedAt, got.UpdatedAt)
			}
			wantNoPassword(t, resp.Body, tc.body.Password)

			// The stored user reads back the same, and never with its password.
			g, err := s.Client.GetUserWithResponse(ctx, got.Id, bearer(admin))
			if err != nil || g.JSON200 == nil {
				t.Fatalf("get: %v %d %s", err, g.StatusCode(), g.Body)
			}
			if diff := cmp.Diff(got, *g.JSON200); diff != "" {
				t.Errorf("get after create (-create +get):\n%s", diff)
			}
			wantNoPassword(t, g.Body, tc.body.Password)
			// The password works.
			tok := s.login(t, tc.body.Username, tc.body.Password)
			if claims := verifyWithJWKS(t, s, tok.AccessToken); claims["sub"] != got.Id.String() || claims["sub_type"] != got.Role {
				t.Errorf("claims: %v", claims)
			}
		})
	}
	list, err := s.Client.ListUsersWithResponse(ctx, nil, bearer(admin))
	if err != nil || list.JSON200 == nil {
		t.Fatalf("list: %v", err)
	}
	wantNoPassword(t, list.Body, "analytical-engine")
	wantNoPassword(t, list.Body, adminPassword)
}

func TestCreateUserRejected(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	s.createUser(t, admin, client.UserCreate{Username: "Grace Hopper", Password: "cobol-forever", Email: ptr(client.Email("grace@example.com"))})

	cases := []struct {
		name       string
		body       client.UserCreate
		wantStatus int
		wantField  string // the field the problem's errors name; "" for a 409
	}{
		{"username taken", client.UserCreate{Username: "Grace Hopper", Password: "another-password"}, 409, ""},
		{"username taken, other case", client.UserCreate{Username: "GRACE hopper", Password: "another-password"}, 409, ""},
		{"e-mail taken, other case", client.UserCreate{Username: "grace2", Password: "another-password", Email: ptr(client.Email("Grace@Example.COM"))}, 409, ""},
		{"password under 8 characters", client.UserCreate{Username: "shorty", Password: "1234567"}, 400, "password"},
		{"password is the username", client.UserCreate{Username: "LongUsername", Password: "longusername"}, 400, "password"},
		{"unknown role", client.UserCreate{Username: "roleless", Password: "a-fine-password", Role: ptr("emperor")}, 400, "role"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.CreateUserWithResponse(ctx, tc.body, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, resp.HTTPResponse, resp.Body, tc.wantStatus)
			if tc.wantField != "" {
				wantFieldError(t, p, "body", tc.wantField)
			}
			wantNoPassword(t, resp.Body, tc.body.Password)
		})
	}

	// Bodies that break the schema.
	raw := []struct {
		name, body string
		wantField  string // a property that fails its schema
		unknown    string // a property the schema does not have
	}{
		{"bad e-mail", `{"username": "x1", "password": "a-fine-password", "email": "not-an-email"}`, "email", ""},
		{"unknown property", `{"username": "x2", "password": "a-fine-password", "nickname": "xx"}`, "", "nickname"},
		{"empty username", `{"username": "", "password": "a-fine-password"}`, "username", ""},
		{"missing password", `{"username": "x3"}`, "password", ""},
		{"control character in username", `{"username": "x\u0007y", "password": "a-fine-password"}`, "username", ""},
		{"password not a string", `{"username": "x4", "password": 12345678}`, "password", ""},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.CreateUserWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(tc.body), bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantBodyError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), tc.wantField, tc.unknown)
			wantNoPassword(t, resp.Body, "a-fine-password")
		})
	}
	t.Run("malformed JSON", func(t *testing.T) {
		resp, err := s.Client.CreateUserWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(`{"username": `), bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantProblem(t, resp.HTTPResponse, resp.Body, 400)
	})

	// None of them created anyone.
	list, err := s.Client.ListUsersWithResponse(ctx, nil, bearer(admin))
	if err != nil || list.JSON200 == nil {
		t.Fatalf("list: %v", err)
	}
	if n := len(list.JSON200.Items); n != 2 {
		t.Errorf("%d users after the rejected creations, want 2: %s", n, list.Body)
	}
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	want := []string{"admin"}
	for _, u := range []client.UserCreate{
		{Username: "alice", Password: "password-alice", Email: ptr(client.Email("alice@wonderland.example"))},
		{Username: "bob", Password: "password-bob", Email: ptr(client.Email("bob@builders.example"))},
		{Username: "carol", Password: "password-carol", Email: ptr(client.Email("carol@WONDERLAND.example"))},
		{Username: "dave", Password: "password-dave"},
		{Username: "Malice", Password: "password-malice"},
		{Username: "erin", Password: "password-erin", Email: ptr(client.Email("erin@builders.example"))},
	} {
		s.createUser(t, admin, u)
		want = append(want, u.Username)
	}

	usernames := func(us []client.User) []string {
		out := make([]string, len(us))
		for i, u := range us {
			out[i] = u.Username
		}
		return out
	}
	list := func(params *client.ListUsersParams) *client.ListUsersResponse {
		t.Helper()
		resp, err := s.Client.ListUsersWithResponse(ctx, params, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		if resp.JSON200 == nil {
			t.Fatalf("list %+v: %d %s", params, resp.StatusCode(), resp.Body)
		}
		return resp
	}

	t.Run("one page", func(t *testing.T) {
		resp := list(nil)
		if diff := cmp.Diff(want, usernames(resp.JSON200.Items)); diff != "" || resp.JSON200.NextCursor != nil {
			t.Errorf("users (-want +got):\n%s\nnext_cursor %v", diff, resp.JSON200.NextCursor)
		}
	})
	for _, limit := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprintf("pages of %d", limit), func(t *testing.T) {
			var got []string
			var cursor *string
			pages := 0
			for {
				resp := list(&client.ListUsersParams{Limit: ptr(limit), Cursor: cursor})
				pages++
				if n := len(resp.JSON200.Items); n > limit || n == 0 {
					t.Fatalf("page %d has %d items, limit %d", pages, n, limit)
				}
				got = append(got, usernames(resp.JSON200.Items)...)
				if cursor = resp.JSON200.NextCursor; cursor == nil {
					break
				}
				if pages > len(want) {
					t.Fatal("paging does not end")
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("users over all pages (-want +got):\n%s", diff)
			}
			if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}

	filters := []struct {
		q    string
		want []string
	}{
		{"alice", []string{"alice", "Malice"}},
		{"ALICE", []string{"alice", "Malice"}},
		{"wonderland", []string{"alice", "carol"}},
		{"@BUILDERS.", []string{"bob", "erin"}},
		{"nobody", nil},
	}
	for _, tc := range filters {
		t.Run("q="+tc.q, func(t *testing.T) {
			resp := list(&client.ListUsersParams{Q: ptr(tc.q)})
			if diff := cmp.Diff(tc.want, usernames(resp.JSON200.Items), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("q=%q (-want +got):\n%s", tc.q, diff)
			}
		})
	}
	t.Run("q with paging", func(t *testing.T) {
		first := list(&client.ListUsersParams{Q: ptr("builders"), Limit: ptr(1)})
		if first.JSON200.NextCursor == nil || len(first.JSON200.Items) != 1 || first.JSON200.Items[0].Username != "bob" {
			t.Fatalf("first page: %s", first.Body)
		}
		second := list(&client.ListUsersParams{Q: ptr("builders"), Limit: ptr(1), Cursor: first.JSON200.NextCursor})
		if len(second.JSON200.Items) != 1 || second.JSON200.Items[0].Username != "erin" || second.JSON200.NextCursor != nil {
			t.Fatalf("second page: %s", second.Body)
		}
	})

	bad := []struct {
		name      string
		params    client.ListUsersParams
		wantField string
	}{
		{"garbage cursor", client.ListUsersParams{Cursor: ptr("garbage!")}, "cursor"},
		{"cursor of no sort key", client.ListUsersParams{Cursor: ptr("Z2FyYmFnZQ")}, "cursor"},
		{"limit 0", client.ListUsersParams{Limit: ptr(0)}, "limit"},
		{"limit over 500", client.ListUsersParams{Limit: ptr(501)}, "limit"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := ctx
			if tc.wantField == "limit" {
				c = invalid(ctx)
			}
			resp, err := s.Client.ListUsersWithResponse(c, &tc.params, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, resp.HTTPResponse, resp.Body, 400)
			if tc.wantField == "limit" {
				wantParamError(t, p, "query", tc.wantField)
			} else {
				wantFieldError(t, p, "query", tc.wantField)
			}
		})
	}
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	u := s.createUser(t, admin, client.UserCreate{Username: "lin", Password: "password-lin", FirstName: ptr("Lin")})

	resp, err := s.Client.GetUserWithResponse(ctx, u.Id, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("get: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	if diff := cmp.Diff(u, *resp.JSON200); diff != "" {
		t.Errorf("get (-created +got):\n%s", diff)
	}

	runChecks(t, s, "GET /v1/users/{unknown} is 404")
	bad, err := s.Client.GetUserWithResponse(invalid(ctx), u.Id, bearer(admin), replacePath(u.Id.String(), "not-a-uuid"))
	if err != nil {
		t.Fatal(err)
	}
	wantParamError(t, wantProblem(t, bad.HTTPResponse, bad.Body, 400), "path", "id")
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	s.createUser(t, admin, client.UserCreate{Username: "taken", Password: "password-taken", Email: ptr(client.Email("taken@example.com"))})
	u := s.createUser(t, admin, client.UserCreate{Username: "ursula", Password: "password-ursula",
		Email: ptr(client.Email("ursula@example.com")), FirstName: ptr("Ursula"), LastName: ptr("Le Guin")})

	// Each step changes only the fields given; want accumulates.
	want := u
	steps := []struct {
		name  string
		patch client.UserUpdate
		apply func(*client.User)
	}{
		{"e-mail", client.UserUpdate{Email: ptr(client.Email("ursula@earthsea.example"))}, func(w *client.User) { w.Email = ptr("ursula@earthsea.example") }},
		{"names", client.UserUpdate{FirstName: ptr("Ursula K."), LastName: ptr("Le Guin")}, func(w *client.User) { w.FirstName = ptr("Ursula K.") }},
		{"role", client.UserUpdate{Role: ptr("admin")}, func(w *client.User) { w.Role = "admin" }},
		{"role back", client.UserUpdate{Role: ptr("user")}, func(w *client.User) { w.Role = "user" }},
		{"own e-mail again, other case", client.UserUpdate{Email: ptr(client.Email("URSULA@earthsea.example"))}, func(w *client.User) { w.Email = ptr("URSULA@earthsea.example") }},
		{"password expiry in the future", client.UserUpdate{PasswordExpiresAt: nullable.NewNullableWithValue(time.Date(2100, 1, 2, 3, 4, 5, 0, time.UTC))},
			func(w *client.User) {
				w.PasswordExpiresAt = nullable.NewNullableWithValue(time.Date(2100, 1, 2, 3, 4, 5, 0, time.UTC))
			}},
		{"password never expires", client.UserUpdate{PasswordExpiresAt: neverExpires()}, func(w *client.User) { w.PasswordExpiresAt = neverExpires() }},
	}
	for _, st := range steps {
		resp, err := s.Client.UpdateUserWithResponse(ctx, u.Id, st.patch, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		if resp.JSON200 == nil {
			t.Fatalf("%s: %d %s", st.name, resp.StatusCode(), resp.Body)
		}
		st.apply(&want)
		if diff := cmp.Diff(want, *resp.JSON200, cmpopts.IgnoreFields(client.User{}, "UpdatedAt")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", st.name, diff)
		}
		if resp.JSON200.UpdatedAt.Before(resp.JSON200.CreatedAt) {
			t.Errorf("%s: updated_at %s before created_at %s", st.name, resp.JSON200.UpdatedAt, resp.JSON200.CreatedAt)
		}
		g, err := s.Client.GetUserWithResponse(ctx, u.Id, bearer(admin))
		if err != nil || g.JSON200 == nil {
			t.Fatalf("get: %v", err)
		}
		if diff := cmp.Diff(*resp.JSON200, *g.JSON200); diff != "" {
			t.Errorf("%s: stored user differs from the answer (-patch +get):\n%s", st.name, diff)
		}
	}
	// The new e-mail logs in.
	s.login(t, "ursula@earthsea.example", "password-ursula")

	bad := []struct {
		name       string
		id         uuid.UUID
		patch      client.UserUpdate
		wantStatus int
		wantField  string
	}{
		{"e-mail taken", u.Id, client.UserUpdate{Email: ptr(client.Email("TAKEN@example.com"))}, 409, ""},
		{"unknown role", u.Id, client.UserUpdate{Role: ptr("emperor")}, 400, "role"},
		{"unknown user", uuid.New(), client.UserUpdate{FirstName: ptr("x")}, 404, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.UpdateUserWithResponse(ctx, tc.id, tc.patch, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, resp.HTTPResponse, resp.Body, tc.wantStatus)
			if tc.wantField != "" {
				wantFieldError(t, p, "body", tc.wantField)
			}
		})
	}
	raw := []struct{ name, body, wantField, unknown string }{
		{"no field", `{}`, "", ""},
		{"bad e-mail", `{"email": "nope"}`, "email", ""},
		{"username is not changeable", `{"username": "renamed"}`, "", "username"},
		{"password is not changeable here", `{"password": "a-new-password"}`, "", "password"},
		{"disabled not a boolean", `{"disabled": "yes"}`, "disabled", ""},
		{"expiry not a time", `{"password_expires_at": "tomorrow"}`, "password_expires_at", ""},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.UpdateUserWithBodyWithResponse(invalid(ctx), u.Id, "application/json", strings.NewReader(tc.body), bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantBodyError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), tc.wantField, tc.unknown)
		})
	}
	t.Run("non-UUID id", func(t *testing.T) {
		resp, err := s.Client.UpdateUserWithResponse(invalid(ctx), u.Id, client.UserUpdate{FirstName: ptr("x")}, bearer(admin), replacePath(u.Id.String(), "42"))
		if err != nil {
			t.Fatal(err)
		}
		wantParamError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "path", "id")
	})
	// Nothing of the failures stuck.
	g, err := s.Client.GetUserWithResponse(ctx, u.Id, bearer(admin))
	if err != nil || g.JSON200 == nil {
		t.Fatalf("get: %v", err)
	}
	if diff := cmp.Diff(want, *g.JSON200, cmpopts.IgnoreFields(client.User{}, "UpdatedAt")); diff != "" {
		t.Errorf("after the failed updates (-want +got):\n%s", diff)
	}
}

func TestPasswordExpiry(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	u := s.createUser(t, admin, client.UserCreate{Username: "expiring", Password: "password-expiring"})
	s.login(t, "expiring", "password-expiring")

	past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	resp, err := s.Client.UpdateUserWithResponse(ctx, u.Id, client.UserUpdate{PasswordExpiresAt: nullable.NewNullableWithValue(past)}, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("expire: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	if got, err := resp.JSON200.PasswordExpiresAt.Get(); err != nil || !got.Equal(past) {
		t.Errorf("password_expires_at %v %v, want %s", got, err, past)
	}
	// The right password now answers "password expired"; a wrong one still
	// answers as any wrong password.
	wantLoginRefused(t, tokenRequest(t, s, "expiring", "password-expiring", ""), "password expired")
	wantLoginRefused(t, tokenRequest(t, s, "expiring", "wrong-password", ""), "invalid username or password")

	resp, err = s.Client.UpdateUserWithResponse(ctx, u.Id, client.UserUpdate{PasswordExpiresAt: neverExpires()}, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("unexpire: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	if !resp.JSON200.PasswordExpiresAt.IsNull() {
		t.Errorf("password_expires_at after null: %s", resp.Body)
	}
	s.login(t, "expiring", "password-expiring")
}

func TestDisableUser(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	u := s.createUser(t, admin, client.UserCreate{Username: "dora", Password: "password-dora"})
	before := s.login(t, "dora", "password-dora")

	patch := func(disabled bool) client.User {
		t.Helper()
		resp, err := s.Client.UpdateUserWithResponse(ctx, u.Id, client.UserUpdate{Disabled: &disabled}, bearer(admin))
		if err != nil || resp.JSON200 == nil {
			t.Fatalf("disabled=%v: %v %d %s", disabled, err, resp.StatusCode(), resp.Body)
		}
		return *resp.JSON200
	}
	if got := patch(true); !got.Disabled {
		t.Fatalf("disabled: %+v", got)
	}
	wantLoginRefused(t, tokenRequest(t, s, "dora", "password-dora", ""), "invalid username or password")
	if r := refresh(t, s, before.RefreshToken); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Fatalf("refresh of a disabled user: %d %s", r.StatusCode(), r.Body)
	}

	if got := patch(false); got.Disabled {
		t.Fatalf("enabled: %+v", got)
	}
	s.login(t, "dora", "password-dora")
	// Enabling does not bring the revoked refresh token back.
	if r := refresh(t, s, before.RefreshToken); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Fatalf("refresh token revoked by disabling, after enabling: %d %s", r.StatusCode(), r.Body)
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	runChecks(t, s, "a deleted user: GET and DELETE are 404, its password, refresh token and access token are refused, its name is free")
	id := uuid.New()
	bad, err := s.Client.DeleteUserWithResponse(invalid(context.Background()), id, bearer(s.adminToken(t)), replacePath(id.String(), "doomed"))
	if err != nil {
		t.Fatal(err)
	}
	wantParamError(t, wantProblem(t, bad.HTTPResponse, bad.Body, 400), "path", "id")
}

func TestSetUserPassword(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	u := s.createUser(t, admin, client.UserCreate{Username: "forgetful", Password: "old-password"})
	old := s.login(t, "forgetful", "old-password")

	resp, err := s.Client.SetUserPasswordWithResponse(ctx, u.Id, client.PasswordSet{NewPassword: "new-password"}, bearer(admin))
	if err != nil || resp.StatusCode() != http.StatusNoContent || len(resp.Body) != 0 {
		t.Fatalf("set password: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	wantLoginRefused(t, tokenRequest(t, s, "forgetful", "old-password", ""), "invalid username or password")
	s.login(t, "forgetful", "new-password")
	if r := refresh(t, s, old.RefreshToken); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Fatalf("refresh token from before the reset: %d %s", r.StatusCode(), r.Body)
	}

	// A reset clears an expiry.
	past := time.Now().Add(-time.Minute)
	if r, err := s.Client.UpdateUserWithResponse(ctx, u.Id, client.UserUpdate{PasswordExpiresAt: nullable.NewNullableWithValue(past)}, bearer(admin)); err != nil || r.JSON200 == nil {
		t.Fatalf("expire: %v", err)
	}
	wantLoginRefused(t, tokenRequest(t, s, "forgetful", "new-password", ""), "password expired")
	if r, err := s.Client.SetUserPasswordWithResponse(ctx, u.Id, client.PasswordSet{NewPassword: "newer-password"}, bearer(admin)); err != nil || r.StatusCode() != 204 {
		t.Fatalf("set password: %v", err)
	}
	s.login(t, "forgetful", "newer-password")

	bad := []struct {
		name       string
		id         uuid.UUID
		password   string
		wantStatus int
		wantField  string
	}{
		{"too short", u.Id, "short", 400, "new_password"},
		{"the username", u.Id, "FORGETFUL", 400, "new_password"},
		{"unknown user", uuid.New(), "a-fine-password", 404, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.SetUserPasswordWithResponse(ctx, tc.id, client.PasswordSet{NewPassword: tc.password}, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, resp.HTTPResponse, resp.Body, tc.wantStatus)
			if tc.wantField != "" {
				wantFieldError(t, p, "body", tc.wantField)
			}
			wantNoPassword(t, resp.Body, tc.password)
		})
	}
	t.Run("unknown property", func(t *testing.T) {
		resp, err := s.Client.SetUserPasswordWithBodyWithResponse(invalid(ctx), u.Id, "application/json",
			strings.NewReader(`{"new_password": "a-fine-password", "expires": true}`), bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantUnknownProperty(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "expires")
	})
	// The failures left the password alone.
	s.login(t, "forgetful", "newer-password")
}

// TestMe: the conformance check of a user's own profile, and what a user
// may not change in it.
func TestMe(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	runChecks(t, s, "a user's own profile: GET /v1/me is the user, PATCH /v1/me changes names and e-mail, an e-mail taken is 409")
	admin := s.adminToken(t)
	ctx := context.Background()
	s.createUser(t, admin, client.UserCreate{Username: "Mae Jemison", Password: "endeavour-1992", Email: ptr(client.Email("mae@nasa.example"))})
	tok := s.login(t, "Mae Jemison", "endeavour-1992").AccessToken
	me, err := s.Client.GetMeWithResponse(ctx, bearer(tok))
	if err != nil || me.JSON200 == nil {
		t.Fatalf("me: %v", err)
	}
	wantNoPassword(t, me.Body, "endeavour-1992")

	// A user changes its profile, not its role, name, state or password.
	raw := []struct{ name, body, wantField, unknown string }{
		{"role", `{"role": "admin"}`, "", "role"},
		{"disabled", `{"disabled": false}`, "", "disabled"},
		{"username", `{"username": "mae"}`, "", "username"},
		{"password expiry", `{"password_expires_at": null}`, "", "password_expires_at"},
		{"bad e-mail", `{"email": "mae at nasa"}`, "email", ""},
		{"no field", `{}`, "", ""},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.UpdateMeWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(tc.body), bearer(tok))
			if err != nil {
				t.Fatal(err)
			}
			wantBodyError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), tc.wantField, tc.unknown)
		})
	}
	me, err = s.Client.GetMeWithResponse(ctx, bearer(tok))
	if err != nil || me.JSON200 == nil || me.JSON200.Role != "user" || *me.JSON200.Email != "mae@nasa.example" {
		t.Fatalf("me after the refused updates: %v %s", err, me.Body)
	}
}

func TestChangeMyPassword(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	s.createUser(t, admin, client.UserCreate{Username: "changer", Password: "first-password"})
	first := s.login(t, "changer", "first-password")

	change := func(current, next string) *client.ChangeMyPasswordResponse {
		t.Helper()
		resp, err := s.Client.ChangeMyPasswordWithResponse(ctx, client.PasswordChange{CurrentPassword: current, NewPassword: next}, bearer(first.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		wantNoPassword(t, resp.Body, current)
		wantNoPassword(t, resp.Body, next)
		return resp
	}
	bad := []struct {
		name, current, next, wantField string
	}{
		{"wrong current password", "not-my-password", "second-password", "current_password"},
		{"new password too short", "first-password", "2short", "new_password"},
		{"new password is the username", "first-password", "Changer", "new_password"},
		{"new password is the current one", "first-password", "first-password", "new_password"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			resp := change(tc.current, tc.next)
			wantFieldError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "body", tc.wantField)
		})
	}
	t.Run("missing current password", func(t *testing.T) {
		resp, err := s.Client.ChangeMyPasswordWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(`{"new_password": "second-password"}`), bearer(first.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		wantFieldError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "body", "current_password")
	})
	other := s.login(t, "changer", "first-password")

	if resp := change("first-password", "second-password"); resp.StatusCode() != http.StatusNoContent || len(resp.Body) != 0 {
		t.Fatalf("change: %d %s", resp.StatusCode(), resp.Body)
	}
	wantLoginRefused(t, tokenRequest(t, s, "changer", "first-password", ""), "invalid username or password")
	s.login(t, "changer", "second-password")
	// The change ended every session but the one that made it.
	if r := refresh(t, s, other.RefreshToken); r.JSON400 == nil {
		t.Fatalf("another session's refresh token from before the change: %d %s", r.StatusCode(), r.Body)
	}
	if r := refresh(t, s, first.RefreshToken); r.JSON200 == nil {
		t.Fatalf("the changing session's refresh token: %d %s", r.StatusCode(), r.Body)
	}
}

func TestChangeExpiredPassword(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	u := s.createUser(t, admin, client.UserCreate{Username: "stale", Password: "stale-password"})
	// An expired password cannot log in: log in first, then expire it.
	tok := s.login(t, "stale", "stale-password").AccessToken
	past := time.Now().Add(-24 * time.Hour)
	if r, err := s.Client.UpdateUserWithResponse(ctx, u.Id, client.UserUpdate{PasswordExpiresAt: nullable.NewNullableWithValue(past)}, bearer(admin)); err != nil || r.JSON200 == nil {
		t.Fatalf("expire: %v %s", err, r.Body)
	}
	wantLoginRefused(t, tokenRequest(t, s, "stale", "stale-password", ""), "password expired")

	me, err := s.Client.GetMeWithResponse(ctx, bearer(tok))
	if err != nil || me.JSON200 == nil {
		t.Fatalf("me: %v", err)
	}
	if exp, err := me.JSON200.PasswordExpiresAt.Get(); err != nil || !exp.Before(time.Now()) {
		t.Errorf("me password_expires_at: %s", me.Body)
	}
	// The expired password is the current password.
	resp, err := s.Client.ChangeMyPasswordWithResponse(ctx, client.PasswordChange{CurrentPassword: "stale-password", NewPassword: "fresh-password"}, bearer(tok))
	if err != nil || resp.StatusCode() != http.StatusNoContent {
		t.Fatalf("change expired password: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	s.login(t, "stale", "fresh-password")
	me, err = s.Client.GetMeWithResponse(ctx, bearer(tok))
	if err != nil || me.JSON200 == nil || !me.JSON200.PasswordExpiresAt.IsNull() {
		t.Fatalf("me after the change: %v %s", err, me.Body)
	}
}
