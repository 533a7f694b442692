package contract_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// keyReloadInterval is node B's signing-key reload interval in
// TestMultiNode (30 s in production: --key-reload-interval).
const keyReloadInterval = 200 * time.Millisecond

// newNode starts a gatehouse node on the PostgreSQL database dsn. Each node
// is a gatehouse.Open of its own: its own auth service and keyring, its own
// rate limiter, its own HTTP server; what they share is the database.
// (The harness also makes a fresh database for every server; newNode
// replaces it with dsn.)
func newNode(t *testing.T, dsn string, maxFailedLogins int, hcfg impl.Config) *server {
	t.Helper()
	return newServerOptions(t, func(o *gatehouse.Options) {
		o.DB = dsn
		o.Auth.MaxFailedLogins = maxFailedLogins
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
	a := newNode(t, dsn, maxFailed, impl.Config{})
	b := newNode(t, dsn, maxFailed, impl.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// B reloads its keyring the way `gatehouse serve` does, on a short
	// interval; A never reloads on its own.
	go b.Svc.WatchSigningKeys(ctx, keyReloadInterval)

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
		me, err := b.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken))
		if err != nil || me.StatusCode() != http.StatusUnauthorized {
			t.Fatalf("B GET /v1/me with a token revoked on A: %v %d %s, want 401", err, me.StatusCode(), me.Body)
		}
	})

	t.Run("one refresh token sent to A and B at once has one winner and revokes its family", func(t *testing.T) {
		for round := range 5 {
			tok := a.login(t, "alice", "alice-password")
			resps := make([]*client.CreateTokenResponse, 2)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, node := range []*server{a, b} {
				wg.Go(func() {
					<-start
					body := tokenForm(client.TokenRequestGrantTypeRefreshToken)
					body.RefreshToken = &tok.RefreshToken
					r, err := node.Client.CreateTokenWithFormdataBodyWithResponse(ctx, body)
					if err != nil {
						t.Errorf("refresh: %v", err)
						return
					}
					resps[i] = r
				})
			}
			close(start)
			wg.Wait()
			if t.Failed() {
				return
			}
			var winner *client.TokenResponse
			for i, r := range resps {
				switch {
				case r.JSON200 != nil && winner == nil:
					winner = r.JSON200
				case r.StatusCode() == http.StatusBadRequest && r.JSON400 != nil && r.JSON400.Error == client.OAuthErrorErrorInvalidGrant:
				default:
					t.Fatalf("round %d: node %c answered %d %s; want one 200 and one 400 invalid_grant", round, "AB"[i], r.StatusCode(), r.Body)
				}
			}
			if winner == nil {
				t.Fatalf("round %d: neither node rotated the token: %s / %s", round, resps[0].Body, resps[1].Body)
			}
			// The loser saw a spent token: reuse detection revoked the
			// family, so the winner's new refresh token is dead everywhere.
			for _, node := range []*server{a, b} {
				r := refresh(t, node, winner.RefreshToken)
				if r.StatusCode() != http.StatusBadRequest || r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
					t.Fatalf("round %d: the winner's refresh token after the race: %d %s; want 400 invalid_grant (family revoked)", round, r.StatusCode(), r.Body)
				}
			}
		}
	})

	t.Run("a key rotated on A is in B's JWKS within two reload intervals", func(t *testing.T) {
		rotated := time.Now()
		rot, err := a.Client.RotateSigningKeyWithResponse(ctx, &client.RotateSigningKeyParams{}, bearer(admin))
		if err != nil || rot.JSON200 == nil {
			t.Fatalf("rotate on A: %v %d %s", err, rot.StatusCode(), rot.Body)
		}
		kid := rot.JSON200.Kid
		bound := 2 * keyReloadInterval
		var seen time.Duration
		for {
			jwks, err := b.Client.GetJWKSWithResponse(ctx)
			if err != nil || jwks.JSON200 == nil {
				t.Fatalf("B's JWKS: %v %d", err, jwks.StatusCode())
			}
			if slices.ContainsFunc(jwks.JSON200.Keys, func(k client.JWK) bool { return k.Kid == kid }) {
				seen = time.Since(rotated)
				break
			}
			if time.Since(rotated) > bound {
				t.Fatalf("key %s rotated on A is not in B's JWKS after %v (reload interval %v)", kid, time.Since(rotated), keyReloadInterval)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("B published the key rotated on A after %v (bound %v)", seen.Round(time.Millisecond), bound)
		// A signs with the new key at once; B verifies it.
		tok := a.login(t, "alice", "alice-password")
		if got := tokenKID(t, tok.AccessToken); got != kid {
			t.Errorf("A signs with %s, want the new key %s", got, kid)
		}
		if me, err := b.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken)); err != nil || me.JSON200 == nil {
			t.Errorf("B GET /v1/me with a token of the new key: %v %d %s", err, me.StatusCode(), me.Body)
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
		if err != nil || u.LockedUntil == nil || !u.LockedUntil.After(time.Now()) {
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
		c, d := newNode(t, dsn, maxFailed, hcfg), newNode(t, dsn, maxFailed, hcfg)
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
	if v, err := gatehouse.Migrate(context.Background(), dsn, nil); err != nil || v != 4 {
		t.Fatalf("Migrate = %d, %v; want schema version 4", v, err)
	}
	const nodes = 3
	insts := make([]*gatehouse.Instance, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			insts[i], errs[i] = gatehouse.Open(context.Background(), gatehouse.Options{DB: dsn, Hash: testHashParams})
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
