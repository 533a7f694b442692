package contract_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// contractScopes are every scope openapi.yaml defines: the admin role's.
func contractScopes(t testing.TB) []string {
	t.Helper()
	scheme := contract.spec.Components.SecuritySchemes["oauth2"]
	if scheme == nil || scheme.Value.Flows == nil || scheme.Value.Flows.Password == nil {
		t.Fatal("no oauth2 password flow in the contract")
	}
	var scopes []string
	for s := range scheme.Value.Flows.Password.Scopes {
		scopes = append(scopes, s)
	}
	slices.Sort(scopes)
	return scopes
}

func (s *server) putRole(t testing.TB, admin, name string, body client.RolePut) *client.PutRoleResponse {
	t.Helper()
	resp, err := s.Client.PutRoleWithResponse(context.Background(), name, body, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestListRoles(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	want := []client.Role{
		{Name: "admin", Code: 1, Scopes: contractScopes(t)},
		{Name: "user", Code: 2, Scopes: auth.DefaultUserScopes},
	}
	list := func() []client.Role {
		t.Helper()
		resp, err := s.Client.ListRolesWithResponse(ctx, bearer(admin))
		if err != nil || resp.JSON200 == nil {
			t.Fatalf("list roles: %v %d %s", err, resp.StatusCode(), resp.Body)
		}
		return resp.JSON200.Items
	}
	if diff := cmp.Diff(want, list()); diff != "" {
		t.Errorf("built-in roles (-want +got):\n%s", diff)
	}
	if r := s.putRole(t, admin, "educator", client.RolePut{Code: 4, Scopes: []string{"sleep:read"}}); r.JSON201 == nil {
		t.Fatalf("put: %d %s", r.StatusCode(), r.Body)
	}
	want = append(want[:1], client.Role{Name: "educator", Code: 4, Scopes: []string{"sleep:read"}}, want[1])
	if diff := cmp.Diff(want, list()); diff != "" {
		t.Errorf("roles, ordered by name (-want +got):\n%s", diff)
	}
	// The admin token carries every scope of the contract.
	if tok := s.login(t, "admin", adminPassword); tok.Scope != strings.Join(contractScopes(t), " ") {
		t.Errorf("admin scope %q", tok.Scope)
	}
}

// The OCARIoT platform's roles: its token's sub_type is the role's name
// and its scope the role's scopes.
func TestRoleScopesInTokens(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	roles := []struct {
		name   string
		code   int
		scopes []string
	}{
		{"child", 3, []string{"children:read", "physicalactivities:read", "sleep:read", "foods:create", "foods:read"}},
		{"educator", 4, []string{"children:read", "physicalactivities:read", "sleep:read", "educators:read", "schools:readAll"}},
		{"healthprofessional", 5, []string{"profile", "children:read", "physicalactivities:read", "sleep:read", "healthprofessionals:read"}},
		{"family", 6, []string{"children:read", "physicalactivities:read", "sleep:read", "families:read"}},
		{"application", 7, []string{"applications:read", "physicalactivities:create", "sleep:create", "environment:create"}},
	}
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) {
			resp := s.putRole(t, admin, r.name, client.RolePut{Code: r.code, Scopes: r.scopes})
			want := client.Role{Name: r.name, Code: r.code, Scopes: r.scopes}
			if resp.JSON201 == nil {
				t.Fatalf("put: %d %s", resp.StatusCode(), resp.Body)
			}
			if diff := cmp.Diff(want, *resp.JSON201); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			get, err := s.Client.GetRoleWithResponse(ctx, r.name, bearer(admin))
			if err != nil || get.JSON200 == nil {
				t.Fatalf("get: %v %d %s", err, get.StatusCode(), get.Body)
			}
			if diff := cmp.Diff(want, *get.JSON200); diff != "" {
				t.Errorf("get (-want +got):\n%s", diff)
			}

			username := "BR-" + r.name
			u := s.createUser(t, admin, client.UserCreate{Username: username, Password: "password-" + r.name, Role: &r.name})
			if u.Role != r.name {
				t.Errorf("user role %q", u.Role)
			}
			tok := s.login(t, username, "password-"+r.name)
			if tok.Scope != strings.Join(r.scopes, " ") {
				t.Errorf("token scope %q, want %q", tok.Scope, strings.Join(r.scopes, " "))
			}
			claims := verifyWithJWKS(t, s, tok.AccessToken)
			if claims["sub_type"] != r.name || claims["scope"] != tok.Scope || claims["sub"] != u.Id.String() {
				t.Errorf("claims: %v", claims)
			}
			// Narrowing works within the role's scopes only.
			resp2, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
				GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: ptr("password-" + r.name),
				Scope: ptr("physicalactivities:read users:read"),
			})
			if err != nil || resp2.JSON400 == nil || resp2.JSON400.Error != client.OAuthErrorErrorInvalidScope {
				t.Errorf("narrowing outside the role: %v %s", err, resp2.Body)
			}
			// The role's scopes decide what the native API allows.
			me, err := s.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(r.scopes, "profile") {
				if me.JSON200 == nil || me.JSON200.Role != r.name {
					t.Errorf("me with profile: %d %s", me.StatusCode(), me.Body)
				}
			} else {
				wantProblem(t, me.HTTPResponse, me.Body, 403)
			}
			apps, err := s.Client.ListApplicationsWithResponse(ctx, nil, bearer(tok.AccessToken))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(r.scopes, "applications:read") != (apps.StatusCode() == http.StatusOK) {
				t.Errorf("list applications as %s: %d %s", r.name, apps.StatusCode(), apps.Body)
			}
		})
	}
}

func TestPutRoleReplaces(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	if r := s.putRole(t, admin, "educator", client.RolePut{Code: 4, Scopes: []string{"physicalactivities:read", "sleep:read"}}); r.JSON201 == nil {
		t.Fatalf("create: %d %s", r.StatusCode(), r.Body)
	}
	s.createUser(t, admin, client.UserCreate{Username: "teacher", Password: "teacher-password", Role: ptr("educator")})
	before := s.login(t, "teacher", "teacher-password")
	if before.Scope != "physicalactivities:read sleep:read" {
		t.Fatalf("scope before: %q", before.Scope)
	}

	replaced := client.Role{Name: "educator", Code: 40, Scopes: []string{"sleep:read", "profile"}}
	resp := s.putRole(t, admin, "educator", client.RolePut{Code: 40, Scopes: []string{"sleep:read", "profile"}})
	if resp.JSON200 == nil {
		t.Fatalf("replace: %d %s", resp.StatusCode(), resp.Body)
	}
	if diff := cmp.Diff(replaced, *resp.JSON200); diff != "" {
		t.Errorf("replaced (-want +got):\n%s", diff)
	}
	if get, _ := s.Client.GetRoleWithResponse(ctx, "educator", bearer(admin)); get.JSON200 == nil || cmp.Diff(replaced, *get.JSON200) != "" {
		t.Errorf("get after replace: %s", get.Body)
	}
	// New logins get the new scopes; a refresh keeps only the scopes the
	// role still grants.
	if after := s.login(t, "teacher", "teacher-password"); after.Scope != "sleep:read profile" {
		t.Errorf("scope after: %q", after.Scope)
	}
	if r := refresh(t, s, before.RefreshToken); r.JSON200 == nil || r.JSON200.Scope != "sleep:read" {
		t.Errorf("refresh after the role lost a scope: %d %s", r.StatusCode(), r.Body)
	}

	// No scopes at all is a role too.
	if r := s.putRole(t, admin, "educator", client.RolePut{Code: 40, Scopes: []string{}}); r.JSON200 == nil || len(r.JSON200.Scopes) != 0 {
		t.Errorf("empty scopes: %d %s", r.StatusCode(), r.Body)
	}

	// The admin role keeps every scope whatever the body says.
	all := contractScopes(t)
	r := s.putRole(t, admin, "admin", client.RolePut{Code: 1, Scopes: []string{"profile"}})
	if r.JSON200 == nil || cmp.Diff(all, r.JSON200.Scopes) != "" {
		t.Errorf("narrowing admin: %d %s", r.StatusCode(), r.Body)
	}
	if tok := s.login(t, "admin", adminPassword); tok.Scope != strings.Join(all, " ") {
		t.Errorf("admin scope after the put: %q", tok.Scope)
	}
}

func TestPutRoleRejected(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	cases := []struct {
		name, role, body string
		location, field  string
		unknown          string
	}{
		{"space in the name", "bad name", `{"code": 3, "scopes": []}`, "path", "name", ""},
		{"slash-free but too long a name", strings.Repeat("r", 65), `{"code": 3, "scopes": []}`, "path", "name", ""},
		{"scope with a space", "educator", `{"code": 3, "scopes": ["sleep:read physicalactivities:read"]}`, "body", "scopes.0", ""},
		{"scope with a quote", "educator", `{"code": 3, "scopes": ["sleep\"read"]}`, "body", "scopes.0", ""},
		{"empty scope", "educator", `{"code": 3, "scopes": ["sleep:read", ""]}`, "body", "scopes.1", ""},
		{"duplicate scopes", "educator", `{"code": 3, "scopes": ["sleep:read", "sleep:read"]}`, "body", "scopes", ""},
		{"scopes not a list", "educator", `{"code": 3, "scopes": "sleep:read"}`, "body", "scopes", ""},
		{"negative code", "educator", `{"code": -1, "scopes": []}`, "body", "code", ""},
		{"no code", "educator", `{"scopes": []}`, "body", "code", ""},
		{"unknown property", "educator", `{"code": 3, "scopes": [], "name": "educator"}`, "body", "", "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.PutRoleWithBodyWithResponse(invalid(ctx), tc.role, "application/json", strings.NewReader(tc.body), bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, resp.HTTPResponse, resp.Body, 400)
			switch {
			case tc.location == "path":
				wantParamError(t, p, "path", tc.field)
			default:
				wantBodyError(t, p, tc.field, tc.unknown)
			}
		})
	}
	// Nothing was created.
	if get, _ := s.Client.GetRoleWithResponse(ctx, "educator", bearer(admin)); get.StatusCode() != http.StatusNotFound {
		t.Errorf("educator after the rejected puts: %d %s", get.StatusCode(), get.Body)
	}
}

func TestGetRole(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	resp, err := s.Client.GetRoleWithResponse(ctx, "user", bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("get: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	if diff := cmp.Diff(client.Role{Name: "user", Code: 2, Scopes: auth.DefaultUserScopes}, *resp.JSON200); diff != "" {
		t.Errorf("user role (-want +got):\n%s", diff)
	}
	missing, err := s.Client.GetRoleWithResponse(ctx, "nobody", bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, missing.HTTPResponse, missing.Body, 404)
	// Names are case-sensitive.
	upper, err := s.Client.GetRoleWithResponse(ctx, "USER", bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, upper.HTTPResponse, upper.Body, 404)
	bad, err := s.Client.GetRoleWithResponse(invalid(ctx), "no such*role", bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	wantParamError(t, wantProblem(t, bad.HTTPResponse, bad.Body, 400), "path", "name")
}

// TestDeleteRole: the conformance check (a held role is refused until
// nobody holds it, a deleted one is 404 and cannot be given), and the
// built-in roles and a malformed name are refused.
func TestDeleteRole(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	runChecks(t, s, "a role held by a user is not deleted (409) until nobody holds it; a deleted role is 404 and cannot be given")
	admin := s.adminToken(t)
	ctx := context.Background()
	cases := []struct {
		name, role string
		wantStatus int
	}{
		{"built-in admin", "admin", 409},
		{"built-in user", "user", 409},
		{"bad name", "no such*role", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ctx
			if tc.wantStatus == 400 {
				c = invalid(ctx)
			}
			r, err := s.Client.DeleteRoleWithResponse(c, tc.role, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, r.HTTPResponse, r.Body, tc.wantStatus)
			if tc.wantStatus == 400 {
				wantParamError(t, p, "path", "name")
			}
		})
	}
	for _, name := range []string{"admin", "user"} {
		if get, _ := s.Client.GetRoleWithResponse(ctx, name, bearer(admin)); get.JSON200 == nil {
			t.Errorf("%s after the refused delete: %d %s", name, get.StatusCode(), get.Body)
		}
	}
}
