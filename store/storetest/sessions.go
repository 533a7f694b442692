package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/store"
)

// testSessions: a family is a session; its last use moves with every
// rotation and touch; only live ones are listed; a user ends only its own.
func testSessions(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	mustCreateUser(t, s, newUser("u-1", "alice", at(0)))
	mustCreateUser(t, s, newUser("u-2", "bob", at(0)))

	login := func(hash, fam, user, ip string, created time.Time) {
		t.Helper()
		tok := newToken(hash, fam, created)
		tok.UserID, tok.ClientIP, tok.UserAgent, tok.AMR = user, ip, "agent "+ip, "pwd"
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatalf("CreateRefreshToken(%s): %v", fam, err)
		}
	}
	login("a1", "fam-a", "u-1", "10.0.0.1", at(10))
	login("b1", "fam-b", "u-1", "10.0.0.2", at(20))
	login("c1", "fam-c", "u-2", "10.0.0.3", at(30))
	// An expired session is not listed.
	login("d1", "fam-d", "u-1", "10.0.0.4", at(-7200))

	next := newToken("a2", "", at(100))
	next.ClientIP, next.UserAgent = "10.0.1.1", "agent refreshed"
	if err := s.RotateRefreshToken(ctx, "a1", next, at(100)); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	if err := s.TouchRefreshFamily(ctx, "fam-b", store.RefreshUse{At: at(200), ClientIP: "10.0.2.2", UserAgent: "agent touched"}); err != nil {
		t.Fatalf("TouchRefreshFamily: %v", err)
	}
	wantErr(t, "TouchRefreshFamily missing", s.TouchRefreshFamily(ctx, "nope", store.RefreshUse{At: at(1)}), store.ErrNotFound)

	got, err := s.ListSessions(ctx, "u-1", at(300))
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	want := []store.Session{
		{ID: "fam-a", AppID: "app-default", CreatedAt: at(10), LastUsedAt: at(100), ExpiresAt: at(100).Add(time.Hour),
			ClientIP: "10.0.1.1", UserAgent: "agent refreshed", AMR: "pwd"},
		{ID: "fam-b", AppID: "app-default", CreatedAt: at(20), LastUsedAt: at(200), ExpiresAt: at(20).Add(time.Hour),
			ClientIP: "10.0.2.2", UserAgent: "agent touched", AMR: "pwd"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ListSessions (-want +got):\n%s", d)
	}

	// u-1 cannot end u-2's session; an unknown one is not found either.
	wantErr(t, "end another user's session", s.RevokeUserRefreshFamily(ctx, "u-1", "fam-c", at(400), at(900)), store.ErrNotFound)
	wantErr(t, "end an unknown session", s.RevokeUserRefreshFamily(ctx, "u-1", "nope", at(400), at(900)), store.ErrNotFound)
	wantErr(t, "end a session", s.RevokeUserRefreshFamily(ctx, "u-1", "fam-a", at(400), at(900)), nil)
	wantErr(t, "end it again", s.RevokeUserRefreshFamily(ctx, "u-1", "fam-a", at(401), at(900)), store.ErrNotFound)
	if tok, err := s.GetRefreshToken(ctx, "a2"); err != nil || !tok.FamilyRevoked {
		t.Errorf("the ended session's refresh token: revoked %v, %v", tok.FamilyRevoked, err)
	}

	// All but one: fam-b stays; fam-d (expired, not revoked) ends too.
	login("e1", "fam-e", "u-1", "10.0.0.5", at(500))
	ids, err := s.RevokeUserRefreshFamilies(ctx, "u-1", "fam-b", at(600), at(900))
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"fam-d", "fam-e"}) {
		t.Errorf("RevokeUserRefreshFamilies but fam-b = %v, %v; want [fam-d fam-e]", ids, err)
	}
	if got, err := s.ListSessions(ctx, "u-1", at(700)); err != nil || len(got) != 1 || got[0].ID != "fam-b" {
		t.Errorf("sessions after ending the others: %+v, %v; want fam-b alone", got, err)
	}
	if got, err := s.ListSessions(ctx, "u-2", at(700)); err != nil || len(got) != 1 || got[0].ID != "fam-c" {
		t.Errorf("u-2's sessions: %+v, %v; want fam-c", got, err)
	}
}

// testRevocationLog: every revocation is in the log, each read returns
// what came after the cursor, and a purge drops expired entries.
func testRevocationLog(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	mustCreateUser(t, s, newUser("u-1", "alice", at(0)))
	all, cursor, err := s.RevocationsSince(ctx, 0)
	if err != nil || len(all) != 0 {
		t.Fatalf("RevocationsSince(0) of an empty log = %v, %v", all, err)
	}
	wantErr(t, "revoke jti", s.RevokeAccessToken(ctx, "j-1", at(100)), nil)
	wantErr(t, "create fam", s.CreateRefreshToken(ctx, newToken("h1", "fam-1", at(0))), nil)
	wantErr(t, "revoke fam", s.RevokeRefreshFamily(ctx, "fam-1", at(1), at(200)), nil)
	wantErr(t, "revoke fam again", s.RevokeRefreshFamily(ctx, "fam-1", at(2), at(300)), nil)

	got, cursor2, err := s.RevocationsSince(ctx, cursor)
	if err != nil {
		t.Fatalf("RevocationsSince: %v", err)
	}
	want := []store.Revocation{
		{Kind: store.RevokedJTI, ID: "j-1", ExpiresAt: at(100)},
		{Kind: store.RevokedSession, ID: "fam-1", ExpiresAt: at(200)}, // once: the second revocation changed nothing
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("RevocationsSince (-want +got):\n%s", d)
	}
	// Nothing new: an entry may come back (PostgreSQL re-reads from the
	// oldest transaction in progress), but none is new.
	again, cursor3, err := s.RevocationsSince(ctx, cursor2)
	if err != nil || len(again) > len(want) {
		t.Errorf("RevocationsSince(cursor) with nothing new = %v, %v", again, err)
	}
	wantErr(t, "revoke jti 2", s.RevokeAccessToken(ctx, "j-2", at(100)), nil)
	if got, _, err := s.RevocationsSince(ctx, cursor3); err != nil || !slices.ContainsFunc(got, func(r store.Revocation) bool { return r.ID == "j-2" }) {
		t.Errorf("RevocationsSince after one more revocation = %v, %v; want j-2 among them", got, err)
	}

	wantErr(t, "purge", s.PurgeExpired(ctx, at(150), nil), nil)
	got, _, err = s.RevocationsSince(ctx, 0)
	if err != nil || len(got) != 1 || got[0].ID != "fam-1" {
		t.Errorf("the log after a purge at 150s = %v, %v; want fam-1 alone", got, err)
	}
}
