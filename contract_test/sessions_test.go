package contract_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// userAgent sends the User-Agent ua.
func userAgent(ua string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("User-Agent", ua)
		return nil
	}
}

// loginAs runs the password grant from the user agent ua.
func (s *server) loginAs(t testing.TB, username, password, ua string) client.TokenResponse {
	t.Helper()
	body := tokenForm(client.TokenRequestGrantTypePassword)
	body.Username, body.Password = &username, &password
	r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body, userAgent(ua))
	if err != nil || r.JSON200 == nil {
		t.Fatalf("login %s: %v %d %s", username, err, r.StatusCode(), r.Body)
	}
	return *r.JSON200
}

// refreshAs runs the refresh grant from the user agent ua.
func (s *server) refreshAs(t testing.TB, token, ua string) *client.CreateTokenResponse {
	t.Helper()
	body := tokenForm(client.TokenRequestGrantTypeRefreshToken)
	body.RefreshToken = &token
	r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body, userAgent(ua))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mySessions lists the caller's sessions, failing the test unless 200.
func (s *server) mySessions(t testing.TB, token string) []client.Session {
	t.Helper()
	r, err := s.Client.ListMySessionsWithResponse(context.Background(), bearer(token))
	if err != nil || r.JSON200 == nil {
		t.Fatalf("GET /v1/me/sessions: %v %d %s", err, r.StatusCode(), r.Body)
	}
	return r.JSON200.Items
}

// sid is an access token's sid claim.
func sid(t *testing.T, token string) string {
	t.Helper()
	v, _ := mustClaims(t, token)["sid"].(string)
	if v == "" {
		t.Fatalf("access token without sid: %v", mustClaims(t, token))
	}
	return v
}

// wantTokenRefused checks that token no longer authenticates on s and
// that introspection (by admin) calls it inactive.
func wantTokenRefused(t *testing.T, s *server, token, admin, what string) {
	t.Helper()
	ctx := context.Background()
	if me, err := s.Client.GetMeWithResponse(ctx, bearer(token)); err != nil || me.StatusCode() != http.StatusUnauthorized {
		t.Errorf("GET /v1/me with %s: %v %d, want 401", what, err, me.StatusCode())
	}
	in, err := s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: token}, bearer(admin))
	if err != nil || in.JSON200 == nil || in.JSON200.Active {
		t.Errorf("introspecting %s: %v %d %s, want active false", what, err, in.StatusCode(), in.Body)
	}
}

// wantTokenAccepted checks that token still authenticates on s.
func wantTokenAccepted(t *testing.T, s *server, token, what string) {
	t.Helper()
	if me, err := s.Client.GetMeWithResponse(context.Background(), bearer(token)); err != nil || me.JSON200 == nil {
		t.Errorf("GET /v1/me with %s: %v %d, want 200", what, err, me.StatusCode())
	}
}

// wantRefreshRefused checks that a refresh token is invalid_grant.
func wantRefreshRefused(t *testing.T, s *server, token, what string) {
	t.Helper()
	if r := refresh(t, s, token); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Errorf("refreshing %s: %d %s, want 400 invalid_grant", what, r.StatusCode(), r.Body)
	}
}

func sessionIDs(ss []client.Session) []string {
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.Id.String())
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

// TestSessions: a user sees its sessions (one per login, whatever the
// refreshes and the reuse interval), ends one or all the others, and an
// administrator sees and ends a user's; an ended session's tokens stop at
// once.
func TestSessions(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	ctx := context.Background()
	admin := s.adminToken(t)
	alice := s.createUser(t, admin, client.UserCreate{Username: "alice", Password: "alice-password"})
	s.createUser(t, admin, client.UserCreate{Username: "bob", Password: "bob-password"})
	bob := s.login(t, "bob", "bob-password")

	t0 := clk.Now()
	one := s.loginAs(t, "alice", "alice-password", "tab-1")
	clk.Set(time.Minute)
	two := s.loginAs(t, "alice", "alice-password", "tab-2")
	sidOne, sidTwo := sid(t, one.AccessToken), sid(t, two.AccessToken)
	if sidOne == sidTwo {
		t.Fatal("two logins share a session")
	}
	app := s.defaultApplication(t, admin)

	t.Run("list", func(t *testing.T) {
		got := s.mySessions(t, one.AccessToken)
		if len(got) != 2 {
			t.Fatalf("sessions: %+v, want 2", got)
		}
		for i, want := range []struct {
			id, ua  string
			created time.Time
			current bool
		}{{sidOne, "tab-1", t0, true}, {sidTwo, "tab-2", t0.Add(time.Minute), false}} {
			g := got[i]
			if g.Id.String() != want.id || g.UserAgent != want.ua || g.ClientIp != "127.0.0.1" || !slices.Equal(g.Amr, []string{"pwd"}) ||
				g.Current != want.current || g.ApplicationId != app.Id || !g.CreatedAt.Equal(want.created) || !g.LastUsedAt.Equal(want.created) ||
				!g.ExpiresAt.Equal(want.created.Add(30*24*time.Hour)) {
				t.Errorf("session %d: %+v, want id %s, user agent %s, created and last used %v, current %v", i, g, want.id, want.ua, want.created, want.current)
			}
		}
	})

	t.Run("a refresh is a use of the same session, also within the reuse interval", func(t *testing.T) {
		clk.Set(10 * time.Minute)
		r := s.refreshAs(t, one.RefreshToken, "tab-1 refreshed")
		if r.JSON200 == nil {
			t.Fatalf("refresh: %d %s", r.StatusCode(), r.Body)
		}
		if got := sid(t, r.JSON200.AccessToken); got != sidOne {
			t.Errorf("the refreshed token's sid %s, want the session's %s", got, sidOne)
		}
		clk.Set(10*time.Minute + 2*time.Second)
		again := s.refreshAs(t, one.RefreshToken, "tab-1 again")
		if again.JSON200 == nil || again.JSON200.RefreshToken != r.JSON200.RefreshToken || sid(t, again.JSON200.AccessToken) != sidOne {
			t.Fatalf("the same token within the reuse interval: %d %s", again.StatusCode(), again.Body)
		}
		got := s.mySessions(t, r.JSON200.AccessToken)
		if !slices.Equal(sessionIDs(got), sorted(sidOne, sidTwo)) {
			t.Fatalf("sessions after refreshes: %v, want still [%s %s]", sessionIDs(got), sidOne, sidTwo)
		}
		g := got[0]
		if !g.Current || !g.LastUsedAt.Equal(t0.Add(10*time.Minute+2*time.Second)) || g.UserAgent != "tab-1 again" ||
			!g.ExpiresAt.Equal(t0.Add(10*time.Minute+30*24*time.Hour)) || !g.CreatedAt.Equal(t0) {
			t.Errorf("session after a refresh and a reuse-interval answer: %+v", g)
		}
		one = *r.JSON200
	})

	t.Run("end one", func(t *testing.T) {
		r, err := s.Client.EndMySessionWithResponse(ctx, uuidOf(t, sidTwo), bearer(one.AccessToken))
		if err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("DELETE /v1/me/sessions/%s: %v %d %s", sidTwo, err, r.StatusCode(), r.Body)
		}
		wantTokenRefused(t, s, two.AccessToken, admin, "the ended session's access token")
		wantRefreshRefused(t, s, two.RefreshToken, "the ended session's refresh token")
		wantTokenAccepted(t, s, one.AccessToken, "the other session's token")
		if got := sessionIDs(s.mySessions(t, one.AccessToken)); !slices.Equal(got, []string{sidOne}) {
			t.Errorf("sessions: %v, want [%s]", got, sidOne)
		}
		events, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{Action: ptr("session.revoke")})
		if len(events) != 1 || deref(events[0].ActorId) != alice.Id.String() || !strings.Contains(deref(events[0].Detail), sidTwo) {
			t.Errorf("session.revoke events: %+v, want one by alice naming %s", events, sidTwo)
		}
	})

	t.Run("not found", func(t *testing.T) {
		bobs := s.mySessions(t, bob.AccessToken)[0].Id
		for name, id := range map[string]uuid.UUID{"ended": uuidOf(t, sidTwo), "unknown": uuid.New(), "another user's": bobs} {
			r, err := s.Client.EndMySessionWithResponse(ctx, id, bearer(one.AccessToken))
			if err != nil {
				t.Fatal(err)
			}
			if r.StatusCode() != http.StatusNotFound {
				t.Errorf("ending an %s session: %d %s, want 404", name, r.StatusCode(), r.Body)
			}
			wantProblem(t, r.HTTPResponse, r.Body, http.StatusNotFound)
		}
		wantTokenAccepted(t, s, bob.AccessToken, "bob's token")
		bad, err := s.Client.EndMySessionWithResponse(invalid(ctx), uuidOf(t, sidOne), bearer(one.AccessToken), replacePath(sidOne, "not-a-uuid"))
		if err != nil {
			t.Fatal(err)
		}
		wantParamError(t, wantProblem(t, bad.HTTPResponse, bad.Body, http.StatusBadRequest), "path", "id")
	})

	t.Run("end the others", func(t *testing.T) {
		three := s.loginAs(t, "alice", "alice-password", "tab-3")
		four := s.loginAs(t, "alice", "alice-password", "tab-4")
		r, err := s.Client.EndMyOtherSessionsWithResponse(ctx, bearer(one.AccessToken))
		if err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("DELETE /v1/me/sessions: %v %d %s", err, r.StatusCode(), r.Body)
		}
		for _, tok := range []client.TokenResponse{three, four} {
			wantTokenRefused(t, s, tok.AccessToken, admin, "another session's access token")
			wantRefreshRefused(t, s, tok.RefreshToken, "another session's refresh token")
		}
		got := s.mySessions(t, one.AccessToken)
		if len(got) != 1 || got[0].Id.String() != sidOne || !got[0].Current {
			t.Errorf("sessions: %+v, want the caller's own alone", got)
		}
	})

	t.Run("administrators", func(t *testing.T) {
		r, err := s.Client.ListUserSessionsWithResponse(ctx, alice.Id, bearer(admin))
		if err != nil || r.JSON200 == nil || len(r.JSON200.Items) != 1 || r.JSON200.Items[0].Id.String() != sidOne || r.JSON200.Items[0].Current {
			t.Fatalf("GET /v1/users/{alice}/sessions: %v %d %s", err, r.StatusCode(), r.Body)
		}
		for _, call := range []func(context.Context, uuid.UUID, ...client.RequestEditorFn) (*http.Response, []byte, error){
			func(ctx context.Context, id uuid.UUID, eds ...client.RequestEditorFn) (*http.Response, []byte, error) {
				r, err := s.Client.ListUserSessionsWithResponse(ctx, id, eds...)
				if err != nil {
					return nil, nil, err
				}
				return r.HTTPResponse, r.Body, nil
			},
			func(ctx context.Context, id uuid.UUID, eds ...client.RequestEditorFn) (*http.Response, []byte, error) {
				r, err := s.Client.EndUserSessionsWithResponse(ctx, id, eds...)
				if err != nil {
					return nil, nil, err
				}
				return r.HTTPResponse, r.Body, nil
			},
		} {
			hr, body, err := call(ctx, uuid.New(), bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, hr, body, http.StatusNotFound)
			hr, body, err = call(invalid(ctx), alice.Id, bearer(admin), replacePath(alice.Id.String(), "not-a-uuid"))
			if err != nil {
				t.Fatal(err)
			}
			wantParamError(t, wantProblem(t, hr, body, http.StatusBadRequest), "path", "id")
		}
		// One session of a user: another user's and an unknown id are 404.
		three := s.loginAs(t, "alice", "alice-password", "tab-3")
		for _, id := range []uuid.UUID{uuid.New(), uuidOf(t, sid(t, bob.AccessToken))} {
			r, err := s.Client.EndUserSessionWithResponse(ctx, alice.Id, id, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, r.HTTPResponse, r.Body, http.StatusNotFound)
		}
		sidThree := sid(t, three.AccessToken)
		bad, err := s.Client.EndUserSessionWithResponse(invalid(ctx), alice.Id, uuidOf(t, sidThree), bearer(admin), replacePath(sidThree, "not-a-uuid"))
		if err != nil {
			t.Fatal(err)
		}
		wantParamError(t, wantProblem(t, bad.HTTPResponse, bad.Body, http.StatusBadRequest), "path", "session_id")
		one3, err := s.Client.EndUserSessionWithResponse(ctx, alice.Id, uuidOf(t, sidThree), bearer(admin))
		if err != nil || one3.StatusCode() != http.StatusNoContent {
			t.Fatalf("DELETE /v1/users/{alice}/sessions/{sid}: %v %d %s", err, one3.StatusCode(), one3.Body)
		}
		wantRefreshRefused(t, s, three.RefreshToken, "the session the admin ended")
		wantTokenAccepted(t, s, one.AccessToken, "alice's other session's token")
		wantTokenAccepted(t, s, bob.AccessToken, "bob's token")
		e, err := s.Client.EndUserSessionsWithResponse(ctx, alice.Id, bearer(admin))
		if err != nil || e.StatusCode() != http.StatusNoContent {
			t.Fatalf("DELETE /v1/users/{alice}/sessions: %v %d %s", err, e.StatusCode(), e.Body)
		}
		wantTokenRefused(t, s, one.AccessToken, admin, "alice's last session's token")
		wantRefreshRefused(t, s, one.RefreshToken, "alice's last session's refresh token")
		if r, _ := s.Client.ListUserSessionsWithResponse(ctx, alice.Id, bearer(admin)); r.JSON200 == nil || len(r.JSON200.Items) != 0 {
			t.Errorf("alice's sessions after the admin ended them: %s", r.Body)
		}
		wantTokenAccepted(t, s, bob.AccessToken, "bob's token")
	})
}

// TestSessionsEndWith: a password change ends the other sessions, an
// administrator's password reset and disabling the user end all of them
// (re-enabling brings none back), and so does reuse detection, its
// family's.
func TestSessionsEndWith(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	ctx := context.Background()
	admin := s.adminToken(t)
	alice := s.createUser(t, admin, client.UserCreate{Username: "alice", Password: "alice-password"})

	t.Run("password change", func(t *testing.T) {
		a, b := s.login(t, "alice", "alice-password"), s.login(t, "alice", "alice-password")
		r, err := s.Client.ChangeMyPasswordWithResponse(ctx, client.PasswordChange{CurrentPassword: "alice-password", NewPassword: "alice-password-2"}, bearer(a.AccessToken))
		if err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("change password: %v %d %s", err, r.StatusCode(), r.Body)
		}
		wantTokenAccepted(t, s, a.AccessToken, "the changing session's token")
		wantTokenRefused(t, s, b.AccessToken, admin, "the other session's token")
		wantRefreshRefused(t, s, b.RefreshToken, "the other session's refresh token")
		if got := sessionIDs(s.mySessions(t, a.AccessToken)); !slices.Equal(got, []string{sid(t, a.AccessToken)}) {
			t.Errorf("sessions after the change: %v, want the caller's alone", got)
		}
		// The admin's reset ends them all.
		set, err := s.Client.SetUserPasswordWithResponse(ctx, alice.Id, client.PasswordSet{NewPassword: "alice-password-3"}, bearer(admin))
		if err != nil || set.StatusCode() != http.StatusNoContent {
			t.Fatalf("set password: %v %d %s", err, set.StatusCode(), set.Body)
		}
		wantTokenRefused(t, s, a.AccessToken, admin, "a token after the admin's reset")
		wantRefreshRefused(t, s, a.RefreshToken, "a refresh token after the admin's reset")
	})

	t.Run("disable", func(t *testing.T) {
		c := s.login(t, "alice", "alice-password-3")
		patchUser(t, s, admin, alice.Id.String(), client.UserUpdate{Disabled: ptr(true)})
		wantTokenRefused(t, s, c.AccessToken, admin, "a disabled user's token")
		patchUser(t, s, admin, alice.Id.String(), client.UserUpdate{Disabled: ptr(false)})
		wantTokenRefused(t, s, c.AccessToken, admin, "a token of a session ended by disabling, after re-enabling")
		wantRefreshRefused(t, s, c.RefreshToken, "a refresh token of a session ended by disabling, after re-enabling")
		if r, _ := s.Client.ListUserSessionsWithResponse(ctx, alice.Id, bearer(admin)); r.JSON200 == nil || len(r.JSON200.Items) != 0 {
			t.Errorf("sessions after disabling and re-enabling: %s", r.Body)
		}
	})

	t.Run("reuse detection", func(t *testing.T) {
		d := s.login(t, "alice", "alice-password-3")
		r := refresh(t, s, d.RefreshToken)
		if r.JSON200 == nil {
			t.Fatalf("refresh: %d %s", r.StatusCode(), r.Body)
		}
		clk.Set(2 * time.Minute) // past the reuse interval
		wantRefreshRefused(t, s, d.RefreshToken, "a spent refresh token after the reuse interval")
		wantTokenRefused(t, s, r.JSON200.AccessToken, admin, "the access token of a family revoked by reuse detection")
		if r, _ := s.Client.ListUserSessionsWithResponse(ctx, alice.Id, bearer(admin)); r.JSON200 == nil || len(r.JSON200.Items) != 0 {
			t.Errorf("sessions after reuse detection: %s", r.Body)
		}
	})
}
