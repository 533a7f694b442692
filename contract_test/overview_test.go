package contract_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// failLogin runs the password grant with a wrong password and fails the
// test unless it is refused.
func failLogin(t testing.TB, s *server, username string) {
	t.Helper()
	body := tokenForm(client.TokenRequestGrantTypePassword)
	body.Username, body.Password = &username, ptr("not-the-password")
	r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body)
	if err != nil || r.JSON400 == nil {
		t.Fatalf("wrong password for %s: %v %d %s, want 400", username, err, r.StatusCode(), r.Body)
	}
}

// overview reads GET /v1/overview and fails the test unless it is a 200.
func overview(t testing.TB, s *server, token string) client.Overview {
	t.Helper()
	r, err := s.Client.GetOverviewWithResponse(context.Background(), bearer(token))
	if err != nil || r.JSON200 == nil {
		t.Fatalf("GET /v1/overview: %v %d %s", err, r.StatusCode(), r.Body)
	}
	return *r.JSON200
}

// TestOverview counts accounts (disabled, locked by failed logins) and
// live sessions as they change: sessions ended by an administrator, a lock
// that runs out, sessions that expire; the time is the server's.
func TestOverview(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk), func(c *authConfig) { c.MaxFailedLogins = 2; c.LockoutDuration = time.Hour })
	ctx := context.Background()
	admin := s.adminToken(t)
	ann := s.createUser(t, admin, client.UserCreate{Username: "ann", Password: "ann-password"})
	bob := s.createUser(t, admin, client.UserCreate{Username: "bob", Password: "bob-password"})
	s.createUser(t, admin, client.UserCreate{Username: "cy", Password: "cy-password"})
	s.login(t, "ann", "ann-password")
	s.login(t, "ann", "ann-password")
	if r, err := s.Client.UpdateUserWithResponse(ctx, bob.Id, client.UserUpdate{Disabled: ptr(true)}, bearer(admin)); err != nil || r.JSON200 == nil {
		t.Fatalf("disable bob: %v %d", err, r.StatusCode())
	}
	failLogin(t, s, "cy")
	failLogin(t, s, "cy") // locks cy

	want := func(what string, token string, w client.Overview) {
		t.Helper()
		w.Time = clk.Now()
		got := overview(t, s, token)
		got.Time = got.Time.UTC()
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: overview (-want +got):\n%s", what, diff)
		}
	}
	want("ann's two logins, bob disabled, cy locked", admin, client.Overview{Users: 4, DisabledUsers: 1, LockedUsers: 1, LiveSessions: 3})

	if r, err := s.Client.EndUserSessionsWithResponse(ctx, ann.Id, bearer(admin)); err != nil || r.StatusCode() != http.StatusNoContent {
		t.Fatalf("end ann's sessions: %v %d", err, r.StatusCode())
	}
	want("ann's sessions ended", admin, client.Overview{Users: 4, DisabledUsers: 1, LockedUsers: 1, LiveSessions: 1})

	clk.Set(2 * time.Hour) // past cy's lock and the administrator's access token
	want("cy's lock over", s.adminToken(t), client.Overview{Users: 4, DisabledUsers: 1, LockedUsers: 0, LiveSessions: 2})

	clk.Set(31 * 24 * time.Hour) // past every refresh token so far
	want("the sessions expired", s.adminToken(t), client.Overview{Users: 4, DisabledUsers: 1, LockedUsers: 0, LiveSessions: 1})
}

// TestOverviewRefused: no credentials is a 401, a user without users:read
// a 403 naming it, and a database gone a 500 that tells nothing of it.
func TestOverviewRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	s.createUser(t, admin, client.UserCreate{Username: "plain", Password: "plain-password"})
	plain := s.login(t, "plain", "plain-password").AccessToken

	resp, err := s.Client.GetOverview(ctx, noAuth)
	wantProblem(t, resp, readBody(t, resp, err), http.StatusUnauthorized)
	resp, err = s.Client.GetOverview(ctx, bearer(plain))
	if p := wantProblem(t, resp, readBody(t, resp, err), http.StatusForbidden); *p.Detail == "" || resp.Header.Get("WWW-Authenticate") != `Bearer realm="gatehouse", error="insufficient_scope", scope="users:read"` {
		t.Errorf("403: %s, WWW-Authenticate %q", *p.Detail, resp.Header.Get("WWW-Authenticate"))
	}
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err = s.Client.GetOverview(ctx, bearer(admin))
	if p := wantProblem(t, resp, readBody(t, resp, err), http.StatusInternalServerError); *p.Detail != "internal error" {
		t.Errorf("500: %s", *p.Detail)
	}
}
