package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// testLoginFailureRace: failures recorded at once are all counted, and
// exactly one in each MaxAttempts locks the account (the lockout counters
// are shared by every node of a PostgreSQL deployment).
func testLoginFailureRace(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	u := newUser("u-race", "racer", at(0))
	mustCreateUser(t, s, u)
	const n, max = 20, 5
	locks := make(chan bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			locked, err := s.RecordLoginFailure(ctx, u.ID, store.LoginFailure{
				At: at(10 + i), WindowStart: at(0), MaxAttempts: max, LockUntil: at(1000),
			})
			if err != nil {
				t.Errorf("RecordLoginFailure: %v", err)
			}
			locks <- locked
		})
	}
	wg.Wait()
	close(locks)
	got := 0
	for l := range locks {
		if l {
			got++
		}
	}
	if got != n/max {
		t.Errorf("%d of %d concurrent failures locked the account, want %d (MaxAttempts %d)", got, n, n/max, max)
	}
	after, err := s.GetUser(ctx, u.ID)
	if err != nil || after.FailedAttempts != 0 || after.LockedUntil == nil || !after.LockedUntil.Equal(at(1000)) {
		t.Errorf("after %d failures: FailedAttempts %d, LockedUntil %v, %v; want 0, %v", n, after.FailedAttempts, after.LockedUntil, err, at(1000))
	}
}

// testTouchAPIKeysConcurrent: flushes of overlapping sets of keys at once
// (two nodes flushing their batches) neither fail nor deadlock, and the
// latest time wins.
func testTouchAPIKeysConcurrent(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	owner := newUser("u-touch", "toucher", at(0))
	mustCreateUser(t, s, owner)
	var ids []string
	for i := range 4 {
		k := store.APIKey{ID: fmt.Sprintf("key-%d", i), UserID: owner.ID, Name: "k", Hash: fmt.Sprintf("hash-%d", i), Hint: "h", CreatedAt: at(0)}
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
		ids = append(ids, k.ID)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for round := range 10 {
				m := map[string]time.Time{}
				for i, id := range ids {
					m[id] = at(100*round + 10*w + i)
				}
				if err := s.TouchAPIKeys(ctx, m); err != nil {
					t.Errorf("TouchAPIKeys: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	m := map[string]time.Time{"missing": at(5)} // an unknown key is ignored
	if err := s.TouchAPIKeys(ctx, m); err != nil {
		t.Errorf("TouchAPIKeys(unknown key): %v", err)
	}
	if err := s.TouchAPIKeys(ctx, nil); err != nil {
		t.Errorf("TouchAPIKeys(nil): %v", err)
	}
	for i, id := range ids {
		k, err := s.GetAPIKey(ctx, id)
		if want := at(100*9 + 10*7 + i); err != nil || k.LastUsedAt == nil || !k.LastUsedAt.Equal(want) {
			t.Errorf("%s last used %v, %v; want %v", id, k.LastUsedAt, err, want)
		}
	}
}

// testUnstorableStrings: keys that no row can hold (a NUL byte, invalid
// UTF-8, which PostgreSQL's text refuses) find nothing rather than fail,
// and audit events carrying them are still recorded.
func testUnstorableStrings(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	mustCreateUser(t, s, newUser("u-1", "one", at(0)))
	for _, key := range []string{"one\x00", "\xff\xfe", "a\x00\xff"} {
		_, err := s.GetUser(ctx, key)
		wantErr(t, fmt.Sprintf("GetUser(%q)", key), err, store.ErrNotFound)
		_, err = s.GetUserByLogin(ctx, key)
		wantErr(t, fmt.Sprintf("GetUserByLogin(%q)", key), err, store.ErrNotFound)
		_, err = s.GetRole(ctx, key)
		wantErr(t, fmt.Sprintf("GetRole(%q)", key), err, store.ErrNotFound)
		_, err = s.GetApplication(ctx, key)
		wantErr(t, fmt.Sprintf("GetApplication(%q)", key), err, store.ErrNotFound)
		_, err = s.GetRefreshToken(ctx, key)
		wantErr(t, fmt.Sprintf("GetRefreshToken(%q)", key), err, store.ErrNotFound)
		_, err = s.GetAPIKeyByHash(ctx, key)
		wantErr(t, fmt.Sprintf("GetAPIKeyByHash(%q)", key), err, store.ErrNotFound)
		_, err = s.GetAPIKey(ctx, key)
		wantErr(t, fmt.Sprintf("GetAPIKey(%q)", key), err, store.ErrNotFound)
		wantErr(t, fmt.Sprintf("DeleteUser(%q)", key), s.DeleteUser(ctx, key), store.ErrNotFound)
		wantErr(t, fmt.Sprintf("RevokeRefreshFamily(%q)", key), s.RevokeRefreshFamily(ctx, key, at(1), at(2)), store.ErrNotFound)
		wantErr(t, fmt.Sprintf("RotateRefreshToken(%q)", key), s.RotateRefreshToken(ctx, key, newToken("h", "", at(1)), at(1)), store.ErrNotFound)
		_, err = s.RecordLoginFailure(ctx, key, store.LoginFailure{At: at(1), MaxAttempts: 3, LockUntil: at(2)})
		wantErr(t, fmt.Sprintf("RecordLoginFailure(%q)", key), err, store.ErrNotFound)
		if ok, err := s.IsMember(ctx, "app-default", key); ok || err != nil {
			t.Errorf("IsMember(%q) = %v, %v; want false, nil", key, ok, err)
		}
		if ok, err := s.IsAccessTokenRevoked(ctx, key); ok || err != nil {
			t.Errorf("IsAccessTokenRevoked(%q) = %v, %v; want false, nil", key, ok, err)
		}
		if us, _, err := s.ListUsers(ctx, store.UserFilter{Query: "\x00"}, store.Page{}); len(us) != 0 || err != nil {
			t.Errorf("ListUsers(query NUL) = %d users, %v; want none", len(us), err)
		}
		if es, _, err := s.ListAuditEvents(ctx, store.AuditFilter{ActorID: key}, store.Page{}); len(es) != 0 || err != nil {
			t.Errorf("ListAuditEvents(actor %q) = %d events, %v; want none", key, len(es), err)
		}
	}
	// A User-Agent header may carry bytes that are not UTF-8.
	e := store.AuditEvent{ID: "e-ua", Time: at(3), Action: "login", Outcome: "failure", UserAgent: "curl/\xff\x00", Detail: "x\xfe"}
	if err := s.AppendAuditEvent(ctx, e); err != nil {
		t.Fatalf("AppendAuditEvent(non-UTF-8 user agent): %v", err)
	}
	es, _, err := s.ListAuditEvents(ctx, store.AuditFilter{Action: "login"}, store.Page{})
	if err != nil || len(es) != 1 || es[0].ID != "e-ua" || !es[0].Time.Equal(at(3)) {
		t.Errorf("ListAuditEvents = %+v, %v; want the one event", es, err)
	}
}
