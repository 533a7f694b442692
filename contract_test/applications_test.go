package contract_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// createApplication creates an application and fails the test unless it
// answers 201.
func (s *server) createApplication(t testing.TB, admin string, body client.ApplicationCreate) client.Application {
	t.Helper()
	resp, err := s.Client.CreateApplicationWithResponse(context.Background(), body, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON201 == nil {
		t.Fatalf("create application %s: %d %s", body.Name, resp.StatusCode(), resp.Body)
	}
	return *resp.JSON201
}

// adminID is the id of the user whose token admin is.
func (s *server) adminID(t testing.TB, admin string) uuid.UUID {
	t.Helper()
	resp, err := s.Client.GetMeWithResponse(context.Background(), bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("me: %v", err)
	}
	return resp.JSON200.Id
}

// defaultApplication finds the default application through the list.
func (s *server) defaultApplication(t testing.TB, admin string) client.Application {
	t.Helper()
	resp, err := s.Client.ListApplicationsWithResponse(context.Background(), nil, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("list applications: %v", err)
	}
	var found []client.Application
	for _, a := range resp.JSON200.Items {
		if a.IsDefault {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d default applications: %s", len(found), resp.Body)
	}
	return found[0]
}

func TestCreateApplication(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	ignore := cmpopts.IgnoreFields(client.Application{}, "Id", "CreatedAt")
	cases := []struct {
		name string
		body client.ApplicationCreate
		want client.Application
	}{
		{"defaults", client.ApplicationCreate{Name: "hub"},
			client.Application{Name: "hub", AccessTokenTtl: 3600, RefreshTokenTtl: 30 * 24 * 3600, Scopes: []string{},
				RedirectUris: []string{}, PostLogoutRedirectUris: []string{}, ClientType: client.Public}},
		{"every field", client.ApplicationCreate{Name: "ocariot", Audience: ptr("https://api.ocariot.example"), AccessTokenTtl: ptr(86400), RefreshTokenTtl: ptr(60)},
			client.Application{Name: "ocariot", Audience: "https://api.ocariot.example", AccessTokenTtl: 86400, RefreshTokenTtl: 60, Scopes: []string{},
				RedirectUris: []string{}, PostLogoutRedirectUris: []string{}, ClientType: client.Public}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			got := s.createApplication(t, admin, tc.body)
			want := tc.want
			if tc.body.Audience == nil {
				// The audience defaults to the application's id.
				want.Audience = got.Id.String()
			}
			if diff := cmp.Diff(want, got, ignore); diff != "" {
				t.Errorf("created (-want +got):\n%s", diff)
			}
			if got.Id == uuid.Nil || got.CreatedAt.Before(before) || got.IsDefault {
				t.Errorf("server fields: %+v", got)
			}
			g, err := s.Client.GetApplicationWithResponse(ctx, got.Id, bearer(admin))
			if err != nil || g.JSON200 == nil {
				t.Fatalf("get: %v %d %s", err, g.StatusCode(), g.Body)
			}
			if diff := cmp.Diff(got, *g.JSON200); diff != "" {
				t.Errorf("get after create (-create +get):\n%s", diff)
			}
		})
	}

	bad := []struct {
		name, body string
		wantStatus int
		wantField  string
		unknown    string
	}{
		{"name taken", `{"name": "hub"}`, 409, "", ""},
		{"name of the default application", `{"name": "default"}`, 409, "", ""},
		{"no name", `{"audience": "x"}`, 400, "name", ""},
		{"empty name", `{"name": ""}`, 400, "name", ""},
		{"access TTL under a minute", `{"name": "fast", "access_token_ttl": 59}`, 400, "access_token_ttl", ""},
		{"access TTL over a day", `{"name": "slow", "access_token_ttl": 86401}`, 400, "access_token_ttl", ""},
		{"refresh TTL over a year", `{"name": "slow", "refresh_token_ttl": 31536001}`, 400, "refresh_token_ttl", ""},
		{"unknown property", `{"name": "x", "is_default": true}`, 400, "", "is_default"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := ctx
			if tc.wantStatus == 400 {
				c = invalid(ctx)
			}
			resp, err := s.Client.CreateApplicationWithBodyWithResponse(c, "application/json", strings.NewReader(tc.body), bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, resp.HTTPResponse, resp.Body, tc.wantStatus)
			if tc.wantStatus == 400 {
				wantBodyError(t, p, tc.wantField, tc.unknown)
			}
		})
	}
}

func TestListApplications(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	def := s.defaultApplication(t, admin)
	if def.Name != "default" || def.Audience != def.Id.String() || def.AccessTokenTtl != 3600 {
		t.Errorf("default application: %+v", def)
	}
	want := []client.Application{def}
	for _, name := range []string{"a", "b", "c", "d"} {
		want = append(want, s.createApplication(t, admin, client.ApplicationCreate{Name: name}))
	}
	for _, limit := range []int{1, 2, 5, 500} {
		var got []client.Application
		var cursor *string
		for pages := 1; ; pages++ {
			resp, err := s.Client.ListApplicationsWithResponse(ctx, &client.ListApplicationsParams{Limit: ptr(limit), Cursor: cursor}, bearer(admin))
			if err != nil || resp.JSON200 == nil {
				t.Fatalf("list: %v %d %s", err, resp.StatusCode(), resp.Body)
			}
			if len(resp.JSON200.Items) > limit {
				t.Fatalf("%d items, limit %d", len(resp.JSON200.Items), limit)
			}
			got = append(got, resp.JSON200.Items...)
			if cursor = resp.JSON200.NextCursor; cursor == nil {
				break
			}
			if pages > len(want) {
				t.Fatal("paging does not end")
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("limit %d (-want +got):\n%s", limit, diff)
		}
	}
	bad := []struct {
		name   string
		params client.ListApplicationsParams
		field  string
	}{
		{"garbage cursor", client.ListApplicationsParams{Cursor: ptr("%%%")}, "cursor"},
		{"limit 0", client.ListApplicationsParams{Limit: ptr(0)}, "limit"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Client.ListApplicationsWithResponse(invalid(ctx), &tc.params, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantParamError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "query", tc.field)
		})
	}
}

func TestGetApplication(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	def := s.defaultApplication(t, admin)
	resp, err := s.Client.GetApplicationWithResponse(ctx, def.Id, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("get: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	if diff := cmp.Diff(def, *resp.JSON200); diff != "" {
		t.Errorf("get default (-list +get):\n%s", diff)
	}
	missing, err := s.Client.GetApplicationWithResponse(ctx, uuid.New(), bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, missing.HTTPResponse, missing.Body, 404)
	bad, err := s.Client.GetApplicationWithResponse(invalid(ctx), def.Id, bearer(admin), replacePath(def.Id.String(), "default"))
	if err != nil {
		t.Fatal(err)
	}
	wantParamError(t, wantProblem(t, bad.HTTPResponse, bad.Body, 400), "path", "id")
}

func TestUpdateApplication(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	s.createApplication(t, admin, client.ApplicationCreate{Name: "taken"})
	a := s.createApplication(t, admin, client.ApplicationCreate{Name: "hub"})

	want := a
	steps := []struct {
		name  string
		patch client.ApplicationUpdate
		apply func(*client.Application)
	}{
		{"rename", client.ApplicationUpdate{Name: ptr("hub2")}, func(w *client.Application) { w.Name = "hub2" }},
		{"audience", client.ApplicationUpdate{Audience: ptr("urn:hub")}, func(w *client.Application) { w.Audience = "urn:hub" }},
		{"TTLs", client.ApplicationUpdate{AccessTokenTtl: ptr(60), RefreshTokenTtl: ptr(31536000)}, func(w *client.Application) {
			w.AccessTokenTtl, w.RefreshTokenTtl = 60, 31536000
		}},
		{"same name", client.ApplicationUpdate{Name: ptr("hub2")}, func(*client.Application) {}},
	}
	for _, st := range steps {
		resp, err := s.Client.UpdateApplicationWithResponse(ctx, a.Id, st.patch, bearer(admin))
		if err != nil || resp.JSON200 == nil {
			t.Fatalf("%s: %v %d %s", st.name, err, resp.StatusCode(), resp.Body)
		}
		st.apply(&want)
		if diff := cmp.Diff(want, *resp.JSON200); diff != "" {
			t.Errorf("%s (-want +got):\n%s", st.name, diff)
		}
	}
	g, err := s.Client.GetApplicationWithResponse(ctx, a.Id, bearer(admin))
	if err != nil || g.JSON200 == nil {
		t.Fatalf("get: %v", err)
	}
	if diff := cmp.Diff(want, *g.JSON200); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	// The new TTL is the one tokens get.
	if r, err := s.Client.AddApplicationMemberWithResponse(ctx, a.Id, s.adminID(t, admin), bearer(admin)); err != nil || r.StatusCode() != 204 {
		t.Fatalf("add member: %v", err)
	}
	resp := tokenRequest(t, s, "admin", adminPassword, a.Id.String())
	if resp.JSON200 == nil || resp.JSON200.ExpiresIn != 60 {
		t.Errorf("token for the updated application: %d %s", resp.StatusCode(), resp.Body)
	}

	bad := []struct {
		name       string
		id         uuid.UUID
		body       string
		wantStatus int
		wantField  string
		unknown    string
	}{
		{"name taken", a.Id, `{"name": "taken"}`, 409, "", ""},
		{"unknown application", uuid.New(), `{"name": "x"}`, 404, "", ""},
		{"no field", a.Id, `{}`, 400, "", ""},
		{"empty audience", a.Id, `{"audience": ""}`, 400, "audience", ""},
		{"TTL not an integer", a.Id, `{"access_token_ttl": "1h"}`, 400, "access_token_ttl", ""},
		{"made default", a.Id, `{"is_default": true}`, 400, "", "is_default"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := ctx
			if tc.wantStatus == 400 {
				c = invalid(ctx)
			}
			resp, err := s.Client.UpdateApplicationWithBodyWithResponse(c, tc.id, "application/json", strings.NewReader(tc.body), bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			p := wantProblem(t, resp.HTTPResponse, resp.Body, tc.wantStatus)
			if tc.wantStatus == 400 {
				wantBodyError(t, p, tc.wantField, tc.unknown)
			}
		})
	}
	t.Run("non-UUID id", func(t *testing.T) {
		resp, err := s.Client.UpdateApplicationWithResponse(invalid(ctx), a.Id, client.ApplicationUpdate{Name: ptr("x")}, bearer(admin), replacePath(a.Id.String(), "hub2"))
		if err != nil {
			t.Fatal(err)
		}
		wantParamError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "path", "id")
	})
	if g, _ := s.Client.GetApplicationWithResponse(ctx, a.Id, bearer(admin)); g.JSON200 == nil || cmp.Diff(want, *g.JSON200) != "" {
		t.Errorf("after the failed updates: %s", g.Body)
	}
}

func TestDeleteApplication(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	def := s.defaultApplication(t, admin)
	a := s.createApplication(t, admin, client.ApplicationCreate{Name: "short-lived"})
	u := s.createUser(t, admin, client.UserCreate{Username: "member", Password: "member-password"})
	if r, err := s.Client.AddApplicationMemberWithResponse(ctx, a.Id, u.Id, bearer(admin)); err != nil || r.StatusCode() != 204 {
		t.Fatalf("add member: %v", err)
	}
	tok := tokenRequest(t, s, "member", "member-password", a.Id.String())
	if tok.JSON200 == nil {
		t.Fatalf("login to the application: %s", tok.Body)
	}

	conflict, err := s.Client.DeleteApplicationWithResponse(ctx, def.Id, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, conflict.HTTPResponse, conflict.Body, 409)
	if g, _ := s.Client.GetApplicationWithResponse(ctx, def.Id, bearer(admin)); g.JSON200 == nil || !g.JSON200.IsDefault {
		t.Fatalf("default application after the refused delete: %s", g.Body)
	}

	del, err := s.Client.DeleteApplicationWithResponse(ctx, a.Id, bearer(admin))
	if err != nil || del.StatusCode() != http.StatusNoContent || len(del.Body) != 0 {
		t.Fatalf("delete: %v %d %s", err, del.StatusCode(), del.Body)
	}
	for name, call := range map[string]func() (*http.Response, []byte){
		"get": func() (*http.Response, []byte) {
			r, _ := s.Client.GetApplicationWithResponse(ctx, a.Id, bearer(admin))
			return r.HTTPResponse, r.Body
		},
		"delete again": func() (*http.Response, []byte) {
			r, _ := s.Client.DeleteApplicationWithResponse(ctx, a.Id, bearer(admin))
			return r.HTTPResponse, r.Body
		},
		"members": func() (*http.Response, []byte) {
			r, _ := s.Client.ListApplicationMembersWithResponse(ctx, a.Id, nil, bearer(admin))
			return r.HTTPResponse, r.Body
		},
	} {
		hr, body := call()
		t.Run(name, func(t *testing.T) { wantProblem(t, hr, body, 404) })
	}
	// Its tokens go with it; the user stays.
	if r := refresh(t, s, tok.JSON200.RefreshToken); r.JSON400 == nil {
		t.Errorf("refresh for a deleted application: %d %s", r.StatusCode(), r.Body)
	}
	if r := tokenRequest(t, s, "member", "member-password", a.Id.String()); r.JSON401 == nil || r.JSON401.Error != client.OAuthErrorErrorInvalidClient {
		t.Errorf("login to a deleted application: %d %s", r.StatusCode(), r.Body)
	}
	s.login(t, "member", "member-password")

	bad, err := s.Client.DeleteApplicationWithResponse(invalid(ctx), a.Id, bearer(admin), replacePath(a.Id.String(), "short-lived"))
	if err != nil {
		t.Fatal(err)
	}
	wantParamError(t, wantProblem(t, bad.HTTPResponse, bad.Body, 400), "path", "id")
}

func TestApplicationMembers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	def := s.defaultApplication(t, admin)
	app := s.createApplication(t, admin, client.ApplicationCreate{Name: "hub", Audience: ptr("https://hub.example")})
	other := s.createApplication(t, admin, client.ApplicationCreate{Name: "other"})
	alice := s.createUser(t, admin, client.UserCreate{Username: "alice", Password: "alice-password"})
	bob := s.createUser(t, admin, client.UserCreate{Username: "bob", Password: "bob-password"})
	carol := s.createUser(t, admin, client.UserCreate{Username: "carol", Password: "carol-password"})

	members := func(id uuid.UUID, params *client.ListApplicationMembersParams) *client.ListApplicationMembersResponse {
		t.Helper()
		resp, err := s.Client.ListApplicationMembersWithResponse(ctx, id, params, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		if resp.JSON200 == nil {
			t.Fatalf("members: %d %s", resp.StatusCode(), resp.Body)
		}
		return resp
	}
	add := func(app, user uuid.UUID) *client.AddApplicationMemberResponse {
		t.Helper()
		resp, err := s.Client.AddApplicationMemberWithResponse(ctx, app, user, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	remove := func(app, user uuid.UUID) *client.RemoveApplicationMemberResponse {
		t.Helper()
		resp, err := s.Client.RemoveApplicationMemberWithResponse(ctx, app, user, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	// A new application has no members, and nobody may log in to it.
	if m := members(app.Id, nil); len(m.JSON200.Items) != 0 || m.JSON200.NextCursor != nil {
		t.Fatalf("members of a new application: %s", m.Body)
	}
	wantLoginRefused(t, tokenRequest(t, s, "alice", "alice-password", app.Id.String()), "invalid username or password")
	// A wrong password for a non-member looks the same.
	wantLoginRefused(t, tokenRequest(t, s, "alice", "wrong-password", app.Id.String()), "invalid username or password")

	for _, u := range []client.User{alice, bob, carol} {
		if r := add(app.Id, u.Id); r.StatusCode() != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("add %s: %d %s", u.Username, r.StatusCode(), r.Body)
		}
	}
	// PUT is idempotent.
	if r := add(app.Id, alice.Id); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("add again: %d %s", r.StatusCode(), r.Body)
	}
	m := members(app.Id, nil)
	if diff := cmp.Diff([]client.User{alice, bob, carol}, m.JSON200.Items); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	wantNoPassword(t, m.Body, "alice-password")
	// Paged.
	first := members(app.Id, &client.ListApplicationMembersParams{Limit: ptr(2)})
	if len(first.JSON200.Items) != 2 || first.JSON200.NextCursor == nil {
		t.Fatalf("first page: %s", first.Body)
	}
	second := members(app.Id, &client.ListApplicationMembersParams{Limit: ptr(2), Cursor: first.JSON200.NextCursor})
	if len(second.JSON200.Items) != 1 || second.JSON200.Items[0].Id != carol.Id || second.JSON200.NextCursor != nil {
		t.Fatalf("second page: %s", second.Body)
	}
	// Membership of one application says nothing of another.
	if m := members(other.Id, nil); len(m.JSON200.Items) != 0 {
		t.Errorf("members of the other application: %s", m.Body)
	}
	wantLoginRefused(t, tokenRequest(t, s, "alice", "alice-password", other.Id.String()), "invalid username or password")
	// Every user is a member of the default application, whose list is
	// empty.
	if m := members(def.Id, nil); len(m.JSON200.Items) != 0 {
		t.Errorf("members of the default application: %s", m.Body)
	}

	// A member gets a token whose audience is the application's, and whose
	// lifetime is the application's.
	tok := tokenRequest(t, s, "alice", "alice-password", app.Id.String())
	if tok.JSON200 == nil {
		t.Fatalf("member login: %d %s", tok.StatusCode(), tok.Body)
	}
	claims := verifyWithJWKS(t, s, tok.JSON200.AccessToken)
	if aud, _ := claims.GetAudience(); len(aud) != 1 || aud[0] != "https://hub.example" || claims["sub"] != alice.Id.String() {
		t.Errorf("claims: %v", claims)
	}
	// Without client_id the token is the default application's.
	defClaims := verifyWithJWKS(t, s, s.login(t, "alice", "alice-password").AccessToken)
	if aud, _ := defClaims.GetAudience(); len(aud) != 1 || aud[0] != def.Audience {
		t.Errorf("default application claims: %v", defClaims)
	}

	if r := remove(app.Id, alice.Id); r.StatusCode() != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("remove: %d %s", r.StatusCode(), r.Body)
	}
	wantLoginRefused(t, tokenRequest(t, s, "alice", "alice-password", app.Id.String()), "invalid username or password")
	if m := members(app.Id, nil); len(m.JSON200.Items) != 2 {
		t.Errorf("members after removal: %s", m.Body)
	}
	// The user itself stays, and logs in to the default application.
	s.login(t, "alice", "alice-password")

	notFound := []struct {
		name      string
		app, user uuid.UUID
	}{
		{"unknown user", app.Id, uuid.New()},
		{"unknown application", uuid.New(), bob.Id},
	}
	for _, tc := range notFound {
		t.Run("add "+tc.name, func(t *testing.T) {
			r := add(tc.app, tc.user)
			wantProblem(t, r.HTTPResponse, r.Body, 404)
		})
		t.Run("remove "+tc.name, func(t *testing.T) {
			r := remove(tc.app, tc.user)
			wantProblem(t, r.HTTPResponse, r.Body, 404)
		})
	}
	t.Run("remove a non-member", func(t *testing.T) {
		r := remove(app.Id, alice.Id)
		wantProblem(t, r.HTTPResponse, r.Body, 404)
	})
	t.Run("members of an unknown application", func(t *testing.T) {
		r, err := s.Client.ListApplicationMembersWithResponse(ctx, uuid.New(), nil, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantProblem(t, r.HTTPResponse, r.Body, 404)
	})

	badIDs := []struct {
		name  string
		call  func() (*http.Response, []byte, error)
		param string
	}{
		{"add: application id", func() (*http.Response, []byte, error) {
			r, err := s.Client.AddApplicationMemberWithResponse(invalid(ctx), app.Id, bob.Id, bearer(admin), replacePath(app.Id.String(), "hub"))
			return r.HTTPResponse, r.Body, err
		}, "id"},
		{"add: user id", func() (*http.Response, []byte, error) {
			r, err := s.Client.AddApplicationMemberWithResponse(invalid(ctx), app.Id, bob.Id, bearer(admin), replacePath(bob.Id.String(), "bob"))
			return r.HTTPResponse, r.Body, err
		}, "user_id"},
		{"remove: user id", func() (*http.Response, []byte, error) {
			r, err := s.Client.RemoveApplicationMemberWithResponse(invalid(ctx), app.Id, bob.Id, bearer(admin), replacePath(bob.Id.String(), "bob"))
			return r.HTTPResponse, r.Body, err
		}, "user_id"},
		{"members: application id", func() (*http.Response, []byte, error) {
			r, err := s.Client.ListApplicationMembersWithResponse(invalid(ctx), app.Id, nil, bearer(admin), replacePath(app.Id.String(), "hub"))
			return r.HTTPResponse, r.Body, err
		}, "id"},
		{"members: limit 0", func() (*http.Response, []byte, error) {
			r, err := s.Client.ListApplicationMembersWithResponse(invalid(ctx), app.Id, &client.ListApplicationMembersParams{Limit: ptr(0)}, bearer(admin))
			return r.HTTPResponse, r.Body, err
		}, "limit"},
		{"members: garbage cursor", func() (*http.Response, []byte, error) {
			r, err := s.Client.ListApplicationMembersWithResponse(ctx, app.Id, &client.ListApplicationMembersParams{Cursor: ptr("garbage")}, bearer(admin))
			return r.HTTPResponse, r.Body, err
		}, "cursor"},
	}
	for _, tc := range badIDs {
		t.Run(tc.name, func(t *testing.T) {
			hr, body, err := tc.call()
			if err != nil {
				t.Fatal(err)
			}
			loc := "path"
			if tc.param == "limit" || tc.param == "cursor" {
				loc = "query"
			}
			wantParamError(t, wantProblem(t, hr, body, 400), loc, tc.param)
		})
	}
}
