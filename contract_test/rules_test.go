package contract_test

// The rules that once had several copies, each tried where a copy had
// drifted: a refresh continues a login (the login rule), a token is used,
// refreshed and revoked only by the client it was issued to (the client
// rule), and every administrator change to an application is audited.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// refreshAs runs the refresh grant naming the client clientID ("" none)
// with any request editors (HTTP Basic).
func refreshAs(t *testing.T, s *server, token, clientID string, edits ...client.RequestEditorFn) *client.CreateTokenResponse {
	t.Helper()
	b := tokenForm(client.TokenRequestGrantTypeRefreshToken)
	b.RefreshToken = &token
	if clientID != "" {
		b.ClientId = &clientID
	}
	resp, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), b, edits...)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// revokeAs revokes token at /oauth/revoke with body's client fields and
// any request editors.
func revokeAs(t *testing.T, s *server, token string, body client.RevokeTokenFormdataRequestBody, edits ...client.RequestEditorFn) *client.RevokeTokenResponse {
	t.Helper()
	body.Token = token
	resp, err := s.Client.RevokeTokenWithFormdataBodyWithResponse(context.Background(), body, edits...)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// introspectActive tells whether the administrator's introspection finds
// token active.
func introspectActive(t *testing.T, s *server, admin, token string) bool {
	t.Helper()
	resp, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(context.Background(),
		client.IntrospectTokenFormdataRequestBody{Token: token}, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("introspect: %v %s", err, resp.Body)
	}
	return resp.JSON200.Active
}

// auditEvents lists the audit events of action, newest first.
func auditEvents(t *testing.T, s *server, admin, action string) []client.AuditEvent {
	t.Helper()
	resp, err := s.Client.ListAuditEventsWithResponse(context.Background(), &client.ListAuditEventsParams{Action: &action}, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("audit events %s: %v %s", action, err, resp.Body)
	}
	return resp.JSON200.Items
}

// addMember adds the user to the application and fails the test unless
// it answers 204.
func (s *server) addMember(t testing.TB, admin string, app, user uuid.UUID) {
	t.Helper()
	r, err := s.Client.AddApplicationMemberWithResponse(context.Background(), app, user, bearer(admin))
	if err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("add member: %v %d %s", err, r.StatusCode(), r.Body)
	}
}

// userID is the id of the user username, found through the user list.
func (s *server) userID(t testing.TB, admin, username string) uuid.UUID {
	t.Helper()
	resp, err := s.Client.ListUsersWithResponse(context.Background(), &client.ListUsersParams{}, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("list users: %v", err)
	}
	for _, u := range resp.JSON200.Items {
		if u.Username == username {
			return u.Id
		}
	}
	t.Fatalf("no user %s", username)
	return uuid.UUID{}
}

// TestRemovedMemberStopsRefreshing: removing a member ends the user's
// sessions of the application at once — refresh token and access tokens —
// and leaves its other sessions alone.
func TestRemovedMemberStopsRefreshing(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	app := s.createApplication(t, admin, client.ApplicationCreate{Name: "hub"})
	alice := s.createUser(t, admin, client.UserCreate{Username: "alice", Password: "alice-password"})
	s.addMember(t, admin, app.Id, alice.Id)
	hub := s.loginTo(t, app.Id.String(), "alice", "alice-password")
	own := s.login(t, "alice", "alice-password") // the default application's
	if r := refreshAs(t, s, hub.RefreshToken, app.Id.String()); r.JSON200 == nil {
		t.Fatalf("refresh of a member: %d %s", r.StatusCode(), r.Body)
	} else {
		hub = *r.JSON200
	}

	r, err := s.Client.RemoveApplicationMemberWithResponse(ctx, app.Id, alice.Id, bearer(admin))
	if err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("remove member: %v %d", err, r.StatusCode())
	}
	if r := refreshAs(t, s, hub.RefreshToken, app.Id.String()); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Errorf("refresh after the member was removed: %d %s, want 400 invalid_grant", r.StatusCode(), r.Body)
	}
	if introspectActive(t, s, admin, hub.AccessToken) {
		t.Errorf("the removed member's access token of the application is still active")
	}
	if !introspectActive(t, s, admin, own.AccessToken) {
		t.Errorf("the removed member's session of another application ended too")
	}
	if r := refresh(t, s, own.RefreshToken); r.JSON200 == nil {
		t.Errorf("refresh of the default application's session: %d %s", r.StatusCode(), r.Body)
	}
	sessions, err := s.Client.ListUserSessionsWithResponse(ctx, alice.Id, bearer(admin))
	if err != nil || sessions.JSON200 == nil {
		t.Fatalf("sessions: %v", err)
	}
	for _, sess := range sessions.JSON200.Items {
		if sess.ApplicationId == app.Id {
			t.Errorf("a session of the application is still listed: %+v", sess)
		}
	}
}

// TestRefreshBoundToClient: a refresh token is refreshed only by the
// client it was issued to (RFC 6749 §6), and a confidential client's only
// with its credentials; a refused request spends nothing.
func TestRefreshBoundToClient(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	a := s.createApplication(t, admin, client.ApplicationCreate{Name: "a"})
	b := s.createApplication(t, admin, client.ApplicationCreate{Name: "b"})
	for _, app := range []client.Application{a, b} {
		s.addMember(t, admin, app.Id, s.adminID(t, admin))
	}
	tok := s.loginTo(t, a.Id.String(), "admin", adminPassword)

	if r := refreshAs(t, s, tok.RefreshToken, b.Id.String()); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Errorf("A's token with B's client_id: %d %s, want 400 invalid_grant", r.StatusCode(), r.Body)
	}
	def := s.defaultApplication(t, admin)
	if r := refreshAs(t, s, tok.RefreshToken, def.Id.String()); r.JSON400 == nil {
		t.Errorf("A's token with the default application's client_id: %d %s, want 400", r.StatusCode(), r.Body)
	}
	if r := refreshAs(t, s, tok.RefreshToken, uuid.NewString()); r.JSON401 == nil || r.JSON401.Error != client.OAuthErrorErrorInvalidClient {
		t.Errorf("A's token with an unknown client_id: %d %s, want 401 invalid_client", r.StatusCode(), r.Body)
	}
	if r := refreshAs(t, s, "not-a-token", uuid.NewString()); r.JSON401 == nil {
		t.Errorf("an unknown token with an unknown client_id: %d %s, want 401 invalid_client", r.StatusCode(), r.Body)
	}
	// None of the refused requests spent the token or ended its family.
	if r := refreshAs(t, s, tok.RefreshToken, a.Id.String()); r.JSON200 == nil {
		t.Fatalf("A's token with A's client_id after the refusals: %d %s", r.StatusCode(), r.Body)
	}

	// A confidential application's token needs its credentials.
	conf := s.newConfidentialApp(t, admin, "conf", "read")
	s.addMember(t, admin, uuidOf(t, conf.ID), s.adminID(t, admin))
	login := client.CreateTokenFormdataRequestBody{GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr(adminPassword)}
	if r, _ := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), login, basicAuth(conf.ID, "wrong-secret")); r.JSON401 == nil {
		t.Errorf("password grant with a wrong client secret: %d %s, want 401", r.StatusCode(), r.Body)
	}
	login.ClientId = &conf.ID
	if r, _ := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), login); r.JSON401 == nil {
		t.Errorf("password grant naming a confidential client without its secret: %d %s, want 401", r.StatusCode(), r.Body)
	}
	login.ClientId = nil
	resp, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), login, basicAuth(conf.ID, conf.Secret))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("password grant of the confidential client: %v %s", err, resp.Body)
	}
	confTok := *resp.JSON200
	for name, r := range map[string]*client.CreateTokenResponse{
		"no client":     refreshAs(t, s, confTok.RefreshToken, ""),
		"client_id":     refreshAs(t, s, confTok.RefreshToken, conf.ID),
		"wrong secret":  refreshAs(t, s, confTok.RefreshToken, "", basicAuth(conf.ID, "wrong-secret")),
		"other's login": refreshAs(t, s, confTok.RefreshToken, a.Id.String()),
	} {
		if r.StatusCode() == http.StatusOK {
			t.Errorf("the confidential client's token refreshed with %s: %s", name, r.Body)
		}
	}
	if r := refreshAs(t, s, confTok.RefreshToken, "", basicAuth(conf.ID, conf.Secret)); r.JSON200 == nil {
		t.Errorf("the confidential client's token with its credentials: %d %s", r.StatusCode(), r.Body)
	}
}

// TestRefreshStopsWhenLoginWould: a refresh is refused whenever a login
// would be — the user disabled or deleted, the application deleted.
func TestRefreshStopsWhenLoginWould(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	app := s.createApplication(t, admin, client.ApplicationCreate{Name: "doomed"})
	for _, name := range []string{"dora", "dan"} {
		u := s.createUser(t, admin, client.UserCreate{Username: name, Password: name + "-password"})
		s.addMember(t, admin, app.Id, u.Id)
	}
	dora := s.loginTo(t, app.Id.String(), "dora", "dora-password")
	dan := s.login(t, "dan", "dan-password")

	del, err := s.Client.DeleteApplicationWithResponse(ctx, app.Id, bearer(admin))
	if err != nil || del.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete application: %v %d", err, del.StatusCode())
	}
	if r := refreshAs(t, s, dora.RefreshToken, ""); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Errorf("refresh of a deleted application's token: %d %s, want 400 invalid_grant", r.StatusCode(), r.Body)
	}
	if r := refreshAs(t, s, dora.RefreshToken, app.Id.String()); r.JSON401 == nil {
		t.Errorf("refresh naming the deleted application: %d %s, want 401 invalid_client", r.StatusCode(), r.Body)
	}
	if introspectActive(t, s, admin, dora.AccessToken) {
		t.Errorf("an access token of the deleted application is still active")
	}

	if r, _ := s.Client.DeleteUserWithResponse(ctx, s.userID(t, admin, "dan"), bearer(admin)); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete user: %d", r.StatusCode())
	}
	if r := refresh(t, s, dan.RefreshToken); r.JSON400 == nil {
		t.Errorf("refresh of a deleted user: %d %s, want 400", r.StatusCode(), r.Body)
	}
}

// TestRevokeOnlyOwnTokens: /oauth/revoke acts only on the tokens issued
// to the client asking (RFC 7009 §2.1); a request that names no client
// revokes what it holds; an unknown client_id is invalid_client as at the
// token endpoint.
func TestRevokeOnlyOwnTokens(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	def := s.defaultApplication(t, admin)
	other := s.newConfidentialApp(t, admin, "unrelated", "read")
	public := s.createApplication(t, admin, client.ApplicationCreate{Name: "public"})
	victim := s.login(t, "admin", adminPassword)

	for _, tc := range []struct {
		name   string
		body   client.RevokeTokenFormdataRequestBody
		edits  []client.RequestEditorFn
		status int
		code   client.OAuthErrorError
	}{
		{"another client with its secret (Basic)", client.RevokeTokenFormdataRequestBody{}, []client.RequestEditorFn{basicAuth(other.ID, other.Secret)}, 400, client.OAuthErrorErrorInvalidGrant},
		{"another client with its secret (body)", client.RevokeTokenFormdataRequestBody{ClientId: &other.ID, ClientSecret: &other.Secret}, nil, 400, client.OAuthErrorErrorInvalidGrant},
		{"a confidential client by client_id alone", client.RevokeTokenFormdataRequestBody{ClientId: &other.ID}, nil, 401, client.OAuthErrorErrorInvalidClient},
		{"a public client by client_id", client.RevokeTokenFormdataRequestBody{ClientId: ptr(public.Id.String())}, nil, 400, client.OAuthErrorErrorInvalidGrant},
		{"an unknown client_id", client.RevokeTokenFormdataRequestBody{ClientId: ptr(uuid.NewString())}, nil, 401, client.OAuthErrorErrorInvalidClient},
		{"a client_id that is not an id", client.RevokeTokenFormdataRequestBody{ClientId: ptr("my-app")}, nil, 401, client.OAuthErrorErrorInvalidClient},
	} {
		for _, token := range []string{victim.RefreshToken, victim.AccessToken} {
			r := revokeAs(t, s, token, tc.body, tc.edits...)
			var got *client.OAuthError
			if tc.status == 400 {
				got = r.JSON400
			} else {
				got = r.JSON401
			}
			if r.StatusCode() != tc.status || got == nil || got.Error != tc.code {
				t.Errorf("%s: %d %s, want %d %s", tc.name, r.StatusCode(), r.Body, tc.status, tc.code)
			}
		}
	}
	// Nothing was revoked.
	if !introspectActive(t, s, admin, victim.AccessToken) {
		t.Fatalf("another client's request revoked the access token")
	}
	if r := refresh(t, s, victim.RefreshToken); r.JSON200 == nil {
		t.Fatalf("another client's request revoked the refresh token: %d %s", r.StatusCode(), r.Body)
	} else {
		victim = *r.JSON200
	}
	// The client it was issued to revokes it, and so does its holder.
	if r := revokeAs(t, s, victim.RefreshToken, client.RevokeTokenFormdataRequestBody{ClientId: ptr(def.Id.String())}); r.StatusCode() != http.StatusOK {
		t.Fatalf("revoke by its own client: %d %s", r.StatusCode(), r.Body)
	}
	if r := refresh(t, s, victim.RefreshToken); r.JSON400 == nil {
		t.Errorf("refresh after its own client revoked it: %d %s", r.StatusCode(), r.Body)
	}
	held := s.login(t, "admin", adminPassword)
	if r := revokeAs(t, s, held.AccessToken, client.RevokeTokenFormdataRequestBody{}); r.StatusCode() != http.StatusOK {
		t.Fatalf("revoke by its holder: %d %s", r.StatusCode(), r.Body)
	}
	if introspectActive(t, s, admin, held.AccessToken) {
		t.Errorf("the holder's revocation did not take")
	}
	refused := auditEvents(t, s, admin, "token.revoke")
	n := 0
	for _, e := range refused {
		if e.Outcome == client.Failure && strings.Contains(deref(e.Detail), "another client") {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d refused revocations audited, want 6 (3 cases by a client that authenticated or is public, 2 tokens each)", n)
	}
}

// TestApplicationChangesAudited: every administrator change to an
// application or its members is audited with who made it, what it was
// made to, and what changed.
func TestApplicationChangesAudited(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	adminID := s.adminID(t, admin).String()
	app := s.createApplication(t, admin, client.ApplicationCreate{Name: "audited"})
	u := s.createUser(t, admin, client.UserCreate{Username: "member", Password: "member-password"})
	s.addMember(t, admin, app.Id, u.Id)
	if r, _ := s.Client.UpdateApplicationWithResponse(ctx, app.Id, client.ApplicationUpdate{Name: ptr("renamed"), Scopes: &[]string{"read"}}, bearer(admin)); r.JSON200 == nil {
		t.Fatalf("update: %d %s", r.StatusCode(), r.Body)
	}
	if r, _ := s.Client.RemoveApplicationMemberWithResponse(ctx, app.Id, u.Id, bearer(admin)); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("remove member: %d", r.StatusCode())
	}
	if r, _ := s.Client.DeleteApplicationWithResponse(ctx, app.Id, bearer(admin)); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %d", r.StatusCode())
	}
	for _, tc := range []struct {
		action, subject, detail string
	}{
		{"application.create", app.Id.String(), `name "audited"`},
		{"application.update", app.Id.String(), `name "audited" -> "renamed", scopes [] -> [read]`},
		{"application.member.add", u.Id.String(), "application " + app.Id.String()},
		{"application.member.remove", u.Id.String(), "application " + app.Id.String() + ", 0 sessions ended"},
		{"application.delete", app.Id.String(), "0 sessions ended"},
	} {
		events := auditEvents(t, s, admin, tc.action)
		if len(events) != 1 {
			t.Errorf("%s: %d events, want 1", tc.action, len(events))
			continue
		}
		e := events[0]
		if e.Outcome != client.Success || deref(e.ActorId) != adminID || deref(e.SubjectId) != tc.subject || deref(e.Detail) != tc.detail {
			t.Errorf("%s: actor %q subject %q detail %q; want actor %q subject %q detail %q",
				tc.action, deref(e.ActorId), deref(e.SubjectId), deref(e.Detail), adminID, tc.subject, tc.detail)
		}
	}
}
