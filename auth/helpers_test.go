package auth

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/store"
)

// testHashParams are argon2id parameters cheap enough for tests.
var testHashParams = HashParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// openTestStore returns a migrated SQLite store in tb's temporary
// directory, closed when tb ends.
func openTestStore(tb testing.TB) *store.DB {
	tb.Helper()
	st, err := store.OpenSQLiteMigrated(context.Background(), filepath.Join(tb.TempDir(), "g.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// newTestService returns a bootstrapped Service over st with cheap
// hashing, and a user of each name, whose password is the name and
// "-password".
func newTestService(tb testing.TB, st store.Store, cfg Config, users ...string) *Service {
	tb.Helper()
	ctx := context.Background()
	svc := New(st, NewHasher(testHashParams, 0, 0), cfg)
	if err := svc.Bootstrap(ctx); err != nil {
		tb.Fatal(err)
	}
	for _, name := range users {
		if _, err := svc.CreateUser(ctx, NewUser{Username: name, Password: name + "-password"}, "", Origin{}); err != nil {
			tb.Fatal(err)
		}
	}
	return svc
}

// newTestClock is the tests' fake clock, for Config.Now.
func newTestClock() *testclock.Clock { return testclock.New() }

// mustLogin logs the user name in with the password newTestService gave
// it, asking for a refresh token.
func mustLogin(tb testing.TB, svc *Service, name string) Tokens {
	tb.Helper()
	sess, err := svc.Login(context.Background(), LoginRequest{Login: name, Password: name + "-password", Refresh: true})
	if err != nil {
		tb.Fatal(err)
	}
	return sess
}
