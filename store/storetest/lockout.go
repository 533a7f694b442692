package storetest

import (
	"context"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store"
)

// TestLoginFailureWindow: failures older than the window stop counting.
func testLoginFailureWindow(t *testing.T, open func(*testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	seed(t, s)
	u := newUser("00000000-0000-4000-8000-0000000000c1", "slowbrute", at(1))
	mustCreateUser(t, s, u)
	const window = 10 // seconds
	fail := func(when int) bool {
		t.Helper()
		locked, err := s.RecordLoginFailure(ctx, u.ID, store.LoginFailure{
			At: at(when), WindowStart: at(when - window), MaxAttempts: 3, LockUntil: at(when + 100),
		})
		if err != nil {
			t.Fatal(err)
		}
		return locked
	}
	// Two failures, then a pause longer than the window: the count restarts.
	for _, when := range []int{100, 105, 200, 205} {
		if fail(when) {
			t.Fatalf("locked at %d with no 3 failures inside %d s", when, window)
		}
	}
	if !fail(209) {
		t.Fatal("3 failures within the window did not lock")
	}
	got, err := s.GetUser(ctx, u.ID)
	if err != nil || got.LockedUntil == nil || !got.LockedUntil.Equal(at(309)) {
		t.Fatalf("locked until %v, %v", got.LockedUntil, err)
	}
}
