package contract_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/internal/testserver"
	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/webhook"
)

// auditIDs lists every audit event's id, newest first.
func auditIDs(t *testing.T, s *server, admin string) []string {
	t.Helper()
	var ids []string
	params := &client.ListAuditEventsParams{Limit: ptr(500)}
	for {
		r, err := s.Client.ListAuditEventsWithResponse(context.Background(), params, bearer(admin))
		if err != nil || r.JSON200 == nil {
			t.Fatalf("list audit events: %v %s", err, r.Body)
		}
		for _, e := range r.JSON200.Items {
			ids = append(ids, e.Id.String())
		}
		if r.JSON200.NextCursor == nil {
			return ids
		}
		params.Cursor = r.JSON200.NextCursor
	}
}

// TestDatabaseCopy moves a deployment from SQLite to the test database
// (PostgreSQL when GATEHOUSE_TEST_POSTGRES is set) with store.Copy, serves
// it from there, and moves it back to SQLite: each time every password
// logs in, the refresh token in use refreshes (its family's reuse state
// intact: the token spent last still gets its successor), the sessions are
// listed, the API key, the TOTP factor, a recovery code and the
// application's secret work, tokens signed before the copy verify, and
// the audit log is whole, and a webhook endpoint's sealed secret and
// pending delivery come along. A copy into a database with any row is refused.
func TestDatabaseCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newFakeClock()
	start := func(db string) *server {
		return newServerOptions(t, func(o *gatehouse.Options) { o.DB, o.MasterKey, o.Auth.Now = db, testMasterKey, clk.Now })
	}
	source := filepath.Join(t.TempDir(), "source.db")
	a := start(source)
	admin := a.adminToken(t)
	for _, name := range []string{"ada", "bob"} {
		if r, err := a.Client.CreateUserWithResponse(ctx, client.UserCreate{Username: name, Password: name + "-password"}, bearer(admin)); err != nil || r.JSON201 == nil {
			t.Fatalf("create %s: %v %s", name, err, r.Body)
		}
	}
	first := a.login(t, "ada", "ada-password")
	spent := first.RefreshToken
	live := refresh(t, a, spent).JSON200.RefreshToken
	secret, _, recovery := enrol(t, a, clk, a.login(t, "bob", "bob-password").AccessToken)
	// A webhook endpoint (its secret sealed) with a delivery pending.
	hook := createWebhook(t, a, admin, "https://93.184.215.14/hook", "api_key.create")
	key := createAPIKey(t, a, bearer(admin), "copied", nil)
	app := a.newConfidentialApp(t, admin, "orders", "orders:read")
	sessions := len(a.mySessions(t, first.AccessToken))
	// A session ended on the source stays ended: its access token is in
	// the copied revocation log.
	ended := a.login(t, "ada", "ada-password")
	if r, err := a.Client.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: ended.RefreshToken}); err != nil || r.StatusCode() != 200 {
		t.Fatalf("revoke: %v", err)
	}

	// check serves the copy s: everything works as on the source; it
	// returns ada's refresh token in use after its refresh.
	check := func(name string, s *server, live string) string {
		t.Helper()
		for user, pw := range map[string]string{"admin": adminPassword, "ada": "ada-password"} {
			if r := passwordGrant(t, s, user, pw); r.JSON200 == nil {
				t.Errorf("%s: %s's password: %d %s", name, user, r.StatusCode(), r.Body)
			}
		}
		r := refresh(t, s, live)
		if r.JSON200 == nil {
			t.Fatalf("%s: the refresh token in use: %d %s", name, r.StatusCode(), r.Body)
		}
		if n := len(s.mySessions(t, r.JSON200.AccessToken)); n < sessions {
			t.Errorf("%s: %d sessions listed, want at least %d", name, n, sessions)
		}
		if me, err := s.Client.GetMeWithResponse(ctx, bearer(first.AccessToken)); err != nil || me.JSON200 == nil {
			t.Errorf("%s: an access token signed before the copy: %v %s", name, err, me.Body)
		}
		if me, err := s.Client.GetMeWithResponse(ctx, bearer(ended.AccessToken)); err != nil || me.StatusCode() != 401 {
			t.Errorf("%s: the access token of a session ended before the copy: %v %s", name, err, me.Body)
		}
		if u, err := s.Client.ListUsersWithResponse(ctx, nil, apiKeyHeader(key.Key)); err != nil || u.JSON200 == nil {
			t.Errorf("%s: the API key: %v %s", name, err, u.Body)
		}
		clk.Advance(30 * time.Second) // a TOTP step no code was spent in
		if r := mfaGrant(t, s, grantMFAOTP, mfaToken(t, s, "bob", "bob-password"), totpCode(t, secret, clk.Now())); r.JSON200 == nil {
			t.Errorf("%s: TOTP: %d %s", name, r.StatusCode(), r.Body)
		}
		if r := mfaGrant(t, s, grantMFARecovery, mfaToken(t, s, "bob", "bob-password"), recovery[0]); r.JSON200 == nil {
			t.Errorf("%s: a recovery code: %d %s", name, r.StatusCode(), r.Body)
		}
		recovery = recovery[1:]
		s.clientToken(t, app, "orders:read")
		if ds := deliveries(t, s, admin, hook.Id); len(ds) != 1 || ds[0].Event != "api_key.create" || ds[0].State != client.DeliveryPending {
			t.Errorf("%s: the webhook's deliveries: %+v", name, ds)
		}
		if w, err := s.Store.GetWebhook(ctx, hook.Id.String()); err != nil {
			t.Errorf("%s: the webhook: %v", name, err)
		} else if keys, err := s.Svc.WebhookKeys(w, clk.Now()); err != nil || len(keys) != 1 || webhook.EncodeSecret(keys[0]) != hook.Secret {
			t.Errorf("%s: the webhook's secret does not open as created: %v", name, err)
		}
		return r.JSON200.RefreshToken
	}
	copyTo := func(from *server, fromDB, to string) *server {
		t.Helper()
		want := auditIDs(t, from, admin)
		var counts []store.TableCount
		if err := store.Copy(ctx, fromDB, to, func(c store.TableCount) { counts = append(counts, c) }); err != nil {
			t.Fatalf("copy: %v (%v)", err, counts)
		}
		if i := slices.IndexFunc(counts, func(c store.TableCount) bool { return c.Table == "users" }); i < 0 || counts[i].Target != 3 {
			t.Errorf("copy counts %v: want 3 users", counts)
		}
		s := start(to)
		if got := auditIDs(t, s, admin); !slices.Equal(got, want) {
			t.Errorf("the copy's audit log: %d events, want the source's %d", len(got), len(want))
		}
		return s
	}

	middle := testserver.FreshDB(t)
	b := copyTo(a, source, middle)
	// The token spent last is within its reuse interval on the fake
	// clock: it gets the same successor, from the copied family.
	if r := refresh(t, b, spent); r.JSON200 == nil || r.JSON200.RefreshToken != live {
		t.Errorf("the spent token within its reuse interval: %d %s, want its successor", r.StatusCode(), r.Body)
	}
	live = check("copy", b, live)
	if err := store.Copy(ctx, source, middle, func(store.TableCount) {}); !errors.Is(err, store.ErrTargetNotEmpty) {
		t.Errorf("a copy into a database with rows: %v, want ErrTargetNotEmpty", err)
	}
	back := filepath.Join(t.TempDir(), "back.db")
	c := copyTo(b, middle, back)
	check("copy back", c, live)
}
