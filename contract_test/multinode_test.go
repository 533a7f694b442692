package contract_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// newNode starts a gatehouse node on the PostgreSQL database dsn, telling
// time by clk. Each node is a gatehouse.Open of its own: its own auth
// service and keyring, its own rate limiter, its own HTTP server; what they
// share is the database (and, here, the clock). (The harness also makes a
// fresh database for every server; newNode replaces it with dsn.)
func newNode(t *testing.T, dsn string, clk *fakeClock, maxFailedLogins int, hcfg impl.Config) *server {
	t.Helper()
	return newServerOptions(t, func(o *gatehouse.Options) {
		o.DB = dsn
		o.Auth.MaxFailedLogins = maxFailedLogins
		o.Auth.Now = clk.Now
		o.HTTP = hcfg
	})
}

// TestMultiNode runs two gatehouse nodes, A and B, in this process on one
// PostgreSQL database, as a deployment of N nodes behind a load balancer
// would: whatever one node writes, the other honours. It needs
// GATEHOUSE_TEST_POSTGRES (skipped without it, failed without it in CI).
func TestMultiNode(t *testing.T) {
	t.Parallel()
	dsn := storetest.NewPostgresDatabase(t, storetest.PostgresServer(t))
	const maxFailed = 4
	clk := newFakeClock()
	a := newNode(t, dsn, clk, maxFailed, impl.Config{})
	b := newNode(t, dsn, clk, maxFailed, impl.Config{})
	ctx := context.Background()

	admin := a.adminToken(t)
	a.createUser(t, admin, client.UserCreate{Username: "alice", Password: "alice-password"})

	t.Run("a token issued by A verifies on B", func(t *testing.T) {
		tok := a.login(t, "alice", "alice-password")
		me, err := b.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken))
		if err != nil || me.JSON200 == nil || me.JSON200.Username != "alice" {
			t.Fatalf("B GET /v1/me with A's token: %v %d %s", err, me.StatusCode(), me.Body)
		}
		in, err := b.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx,
			client.IntrospectTokenFormdataRequestBody{Token: tok.AccessToken}, bearer(admin))
		if err != nil || in.JSON200 == nil || !in.JSON200.Active {
			t.Fatalf("B introspecting A's token: %v %d %s", err, in.StatusCode(), in.Body)
		}
		// A user B creates logs in on A.
		b.createUser(t, b.adminToken(t), client.UserCreate{Username: "bob", Password: "bob-password"})
		a.login(t, "bob", "bob-password")
	})

	t.Run("an access token revoked on A is denied on B", func(t *testing.T) {
		tok := a.login(t, "alice", "alice-password")
		rev, err := a.Client.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: tok.AccessToken})
		if err != nil || rev.StatusCode() != http.StatusOK {
			t.Fatalf("revoke on A: %v %d %s", err, rev.StatusCode(), rev.Body)
		}
		// B holds the revocation log in memory and reads what is new at
		// its next sync (every --revocation-sync-interval in serve); the
		// test syncs B instead of waiting for a tick.
		if err := b.Svc.SyncRevocations(ctx); err != nil {
			t.Fatalf("sync B: %v", err)
		}
		me, err := b.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken))
		if err != nil || me.StatusCode() != http.StatusUnauthorized {
			t.Fatalf("B GET /v1/me with a token revoked on A: %v %d %s, want 401", err, me.StatusCode(), me.Body)
		}
	})

	t.Run("a session ended on A is refused on A at once and on B from its next sync", func(t *testing.T) {
		tok := a.login(t, "alice", "alice-password")
		wantTokenAccepted(t, b, tok.AccessToken, "the session's token on B")
		r, err := a.Client.EndMySessionWithResponse(ctx, uuidOf(t, sid(t, tok.AccessToken)), bearer(tok.AccessToken))
		if err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("end the session on A: %v %d %s", err, r.StatusCode(), r.Body)
		}
		wantTokenRefused(t, a, tok.AccessToken, admin, "the ended session's token on A")
		// Both nodes refuse the refresh token at once: the database decides.
		wantRefreshRefused(t, b, tok.RefreshToken, "the ended session's refresh token on B")
		// Until B syncs, B still takes the access token: the documented
		// staleness, at most --revocation-sync-interval and one read.
		wantTokenAccepted(t, b, tok.AccessToken, "the ended session's token on B before B syncs")
		if err := b.Svc.SyncRevocations(ctx); err != nil {
			t.Fatalf("sync B: %v", err)
		}
		wantTokenRefused(t, b, tok.AccessToken, admin, "the ended session's token on B after B synced")
	})

	t.Run("a member removed on A loses the application's sessions on B from its next sync", func(t *testing.T) {
		app := a.createApplication(t, admin, client.ApplicationCreate{Name: "multinode-hub"})
		alice := a.userID(t, admin, "alice")
		a.addMember(t, admin, app.Id, alice)
		tok := a.loginTo(t, app.Id.String(), "alice", "alice-password")
		introspect := func(what string) bool {
			t.Helper()
			in, err := b.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: tok.AccessToken}, bearer(admin))
			if err != nil || in.JSON200 == nil {
				t.Fatalf("introspect %s: %v", what, err)
			}
			return in.JSON200.Active
		}
		if !introspect("before") {
			t.Fatalf("the member's token is not active on B")
		}
		if r, err := a.Client.RemoveApplicationMemberWithResponse(ctx, app.Id, alice, bearer(admin)); err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("remove member on A: %v", err)
		}
		wantRefreshRefused(t, b, tok.RefreshToken, "the removed member's refresh token on B")
		if err := b.Svc.SyncRevocations(ctx); err != nil {
			t.Fatalf("sync B: %v", err)
		}
		if introspect("after B synced") {
			t.Errorf("the removed member's access token is still active on B after B synced")
		}
	})

	t.Run("B's watcher brings a session ended on A within one sync interval", func(t *testing.T) {
		tok := a.login(t, "alice", "alice-password")
		// B has verified the token (and remembers its signature) before
		// the session ends: the revocation must still reach it.
		wantTokenAccepted(t, b, tok.AccessToken, "the session's token on B")
		// B syncs as serve does, every second; the test waits for the
		// sync that reads the revocation, not for a time.
		seen := make(chan struct{}, 1)
		b.Svc.OnRevocationsSynced(func(n int) {
			if n > 0 {
				select {
				case seen <- struct{}{}:
				default:
				}
			}
		})
		t.Cleanup(func() { b.Svc.OnRevocationsSynced(nil) })
		if err := b.Svc.SyncRevocations(ctx); err != nil { // drain what is already there
			t.Fatal(err)
		}
		select {
		case <-seen:
		default:
		}
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); b.Svc.WatchRevocations(wctx, auth.DefaultRevocationSyncInterval) }()
		defer func() { stop(); <-done }()
		start := time.Now()
		if r, err := a.Client.EndUserSessionsWithResponse(ctx, uuidOf(t, mustClaims(t, tok.AccessToken)["sub"].(string)), bearer(admin)); err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("end alice's sessions on A: %v %d", err, r.StatusCode())
		}
		<-seen
		t.Logf("a session ended on A reached B after %v (sync interval %v)", time.Since(start), auth.DefaultRevocationSyncInterval)
		wantTokenRefused(t, b, tok.AccessToken, admin, "the ended session's token on B after its watcher synced")
	})

	t.Run("one refresh token sent to A and B at once gets one successor on both (reuse interval)", func(t *testing.T) {
		for round := range 5 {
			tok := a.login(t, "alice", "alice-password")
			resps := refreshOnNodes(t, tok.RefreshToken, a, b)
			for i, r := range resps {
				if r.JSON200 == nil {
					t.Fatalf("round %d: node %c answered %d %s; want 200 within the reuse interval", round, "AB"[i], r.StatusCode(), r.Body)
				}
			}
			successor := resps[0].JSON200.RefreshToken
			if resps[1].JSON200.RefreshToken != successor {
				t.Fatalf("round %d: A and B answered different successors: the family forked", round)
			}
			// The family is one chain: the successor rotates on either
			// node, and the first token, now two links back, is reuse.
			if r := refresh(t, b, successor); r.JSON200 == nil {
				t.Fatalf("round %d: the successor on B: %d %s", round, r.StatusCode(), r.Body)
			}
			if r := refresh(t, a, tok.RefreshToken); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
				t.Fatalf("round %d: the first token two links back: %d %s; want 400 invalid_grant", round, r.StatusCode(), r.Body)
			}
		}
	})

	t.Run("with the reuse interval off, one refresh token sent to two nodes has one winner and revokes its family", func(t *testing.T) {
		noInterval := func(o *gatehouse.Options) { o.DB, o.Auth.RefreshReuseInterval = dsn, -1 }
		c, d := newServerOptions(t, noInterval), newServerOptions(t, noInterval)
		for round := range 5 {
			tok := c.login(t, "alice", "alice-password")
			resps := refreshOnNodes(t, tok.RefreshToken, c, d)
			var winner *client.TokenResponse
			for i, r := range resps {
				switch {
				case r.JSON200 != nil && winner == nil:
					winner = r.JSON200
				case r.StatusCode() == http.StatusBadRequest && r.JSON400 != nil && r.JSON400.Error == client.OAuthErrorErrorInvalidGrant:
				default:
					t.Fatalf("round %d: node %c answered %d %s; want one 200 and one 400 invalid_grant", round, "CD"[i], r.StatusCode(), r.Body)
				}
			}
			if winner == nil {
				t.Fatalf("round %d: neither node rotated the token: %s / %s", round, resps[0].Body, resps[1].Body)
			}
			// The loser saw a spent token: reuse detection revoked the
			// family, so the winner's new refresh token is dead everywhere.
			for _, node := range []*server{c, d} {
				r := refresh(t, node, winner.RefreshToken)
				if r.StatusCode() != http.StatusBadRequest || r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
					t.Fatalf("round %d: the winner's refresh token after the race: %d %s; want 400 invalid_grant (family revoked)", round, r.StatusCode(), r.Body)
				}
			}
		}
	})

	t.Run("a key rotated on A is published by B once B reloads, and both switch at its active_from", func(t *testing.T) {
		oldKID := tokenKID(t, a.login(t, "alice", "alice-password").AccessToken)
		rot := a.rotate(t, admin, nil)
		if _, ok := b.jwksKIDs(t)[rot.Kid]; ok {
			t.Fatalf("B publishes %s before it reloaded", rot.Kid)
		}
		// B learns of the key at its next reload (`gatehouse serve` reloads
		// every --key-reload-interval, shorter than the activation delay):
		// here the test reloads B instead of waiting for a tick.
		if err := b.Svc.ReloadSigningKeys(ctx); err != nil {
			t.Fatalf("reload B: %v", err)
		}
		for name, node := range map[string]*server{"A": a, "B": b} {
			if node.jwksKIDs(t)[rot.Kid] != client.ES256 {
				t.Fatalf("%s's JWKS lacks the key %s rotated on A", name, rot.Kid)
			}
		}
		// Until active_from both nodes sign with the old key; then both
		// switch by the clock alone, with no reload and no rotation.
		for _, step := range []struct {
			name string
			at   time.Time
			want string
		}{
			{"a second before active_from", rot.ActiveFrom.Add(-time.Second), oldKID},
			{"at active_from", rot.ActiveFrom, rot.Kid},
		} {
			clk.At(step.at)
			for name, node := range map[string]*server{"A": a, "B": b} {
				tok := node.login(t, "alice", "alice-password").AccessToken
				if got := tokenKID(t, tok); got != step.want {
					t.Errorf("%s: %s signs with %s, want %s", step.name, name, got, step.want)
				}
				// The other node verifies it.
				other := map[string]*server{"A": b, "B": a}[name]
				if me, err := other.Client.GetMeWithResponse(ctx, bearer(tok)); err != nil || me.JSON200 == nil {
					t.Errorf("%s: GET /v1/me with %s's token on the other node: %v %d %s", step.name, name, err, me.StatusCode(), me.Body)
				}
			}
		}
	})

	t.Run("failures spread over both nodes lock the user on both", func(t *testing.T) {
		a.createUser(t, admin, client.UserCreate{Username: "carol", Password: "carol-password"})
		wrong := func(node *server) {
			t.Helper()
			body := tokenForm(client.TokenRequestGrantTypePassword)
			body.Username, body.Password = ptr("carol"), ptr("wrong-password")
			r, err := node.Client.CreateTokenWithFormdataBodyWithResponse(ctx, body)
			if err != nil || r.StatusCode() != http.StatusBadRequest {
				t.Fatalf("wrong password: %v %d %s", err, r.StatusCode(), r.Body)
			}
		}
		for i := range maxFailed {
			wrong([]*server{a, b}[i%2]) // A, B, A, B: no node saw more than half
		}
		u, err := a.Store.GetUserByLogin(ctx, "carol")
		if err != nil || u.LockedUntil == nil || !u.LockedUntil.After(clk.Now()) {
			t.Fatalf("after %d failures over two nodes: locked until %v, %v", maxFailed, u.LockedUntil, err)
		}
		for name, node := range map[string]*server{"A": a, "B": b} {
			body := tokenForm(client.TokenRequestGrantTypePassword)
			body.Username, body.Password = ptr("carol"), ptr("carol-password")
			r, err := node.Client.CreateTokenWithFormdataBodyWithResponse(ctx, body)
			if err != nil || r.StatusCode() != http.StatusBadRequest || r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
				t.Errorf("node %s: the right password of a locked user: %v %d %s; want 400 invalid_grant", name, err, r.StatusCode(), r.Body)
			}
		}
	})

	t.Run("rate limits are per node", func(t *testing.T) {
		// Two more nodes on the same database, with a burst of 2 and a
		// sustained rate too low to refill during the test.
		hcfg := impl.Config{RateLimit: 0.001, RateBurst: 2}
		c, d := newNode(t, dsn, clk, maxFailed, hcfg), newNode(t, dsn, clk, maxFailed, hcfg)
		try := func(node *server) int {
			t.Helper()
			body := tokenForm(client.TokenRequestGrantTypePassword)
			body.Username, body.Password = ptr("nobody"), ptr("wrong-password")
			r, err := node.Client.CreateTokenWithFormdataBodyWithResponse(ctx, body)
			if err != nil {
				t.Fatal(err)
			}
			return r.StatusCode()
		}
		got := []int{try(c), try(c), try(c), try(d), try(d), try(d)}
		want := []int{400, 400, 429, 400, 400, 429}
		if !slices.Equal(got, want) {
			t.Errorf("statuses from C, C, C, D, D, D = %v, want %v (each node limits on its own)", got, want)
		}
	})
}

// TestMultiNodeStartTogether: nodes started at the same moment on one
// PostgreSQL database bootstrap it once between them: one default
// application, one active key per algorithm. The schema is migrated first,
// as a deployment does with `gatehouse migrate` (nodes migrating together
// take turns on goose's lock, which already staggers their bootstrap).
func TestMultiNodeStartTogether(t *testing.T) {
	t.Parallel()
	dsn := storetest.NewPostgresDatabase(t, storetest.PostgresServer(t))
	// The latest version is the last file's number (numbers may have
	// gaps while branches that take them are unmerged).
	files, _ := filepath.Glob("../store/migrations/postgres/*.sql")
	var latest int64
	if len(files) > 0 {
		prefix, _, _ := strings.Cut(filepath.Base(files[len(files)-1]), "_")
		latest, _ = strconv.ParseInt(prefix, 10, 64)
	}
	if v, err := gatehouse.Migrate(context.Background(), dsn, nil); err != nil || v != latest {
		t.Fatalf("Migrate = %d, %v; want schema version %d (the last migration file's)", v, err, latest)
	}
	const nodes = 3
	insts := make([]*gatehouse.Instance, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			insts[i], errs[i] = gatehouse.Open(context.Background(), gatehouse.Options{DB: dsn, Hash: testHashParams, MasterKey: testMasterKey})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		t.Cleanup(func() { insts[i].Close() })
	}
	ctx := context.Background()
	apps, _, err := insts[0].Store.ListApplications(ctx, storePage(10))
	if err != nil || len(apps) != 1 || !apps[0].IsDefault {
		t.Errorf("applications after %d nodes started together: %+v, %v; want the one default", nodes, apps, err)
	}
	keys, err := insts[1].Store.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var active []string
	for _, k := range keys {
		if k.RetiredAt == nil {
			active = append(active, k.Alg)
		}
	}
	slices.Sort(active)
	if strings.Join(active, " ") != "ES256 RS256" {
		t.Errorf("active signing keys by algorithm: %v, want [ES256 RS256] (one each)", active)
	}
}

// refreshOnNodes sends one refresh token to every node at once (a node
// may be named more than once) and returns their answers, in node order.
func refreshOnNodes(t *testing.T, token string, nodes ...*server) []*client.CreateTokenResponse {
	t.Helper()
	resps := make([]*client.CreateTokenResponse, len(nodes))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			<-start
			body := tokenForm(client.TokenRequestGrantTypeRefreshToken)
			body.RefreshToken = &token
			r, err := node.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body)
			if err != nil {
				t.Errorf("refresh: %v", err)
			}
			resps[i] = r
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return resps
}
