package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// testPurge: PurgeExpired deletes the expired rows of every table it
// covers and keeps the live ones, through more than one batch.
func testPurge(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := openWithAda(t, open)
	mustCreateUser(t, s, newUser("u-1", "one", at(0)))
	const now = 3650 // the purge's time, in seconds from t0

	// Refresh families: fam-live has an expired first token and a live
	// current one; fam-dead only expired ones; fam-revoked was ended and
	// its token expired, but its log entry lasts until 5000.
	wantErr(t, "create fam-live", s.CreateRefreshToken(ctx, newToken("live1", "fam-live", at(-7200))), nil)
	wantErr(t, "rotate fam-live", s.RotateRefreshToken(ctx, "live1", newToken("live2", "", at(3000)), at(3000)), nil)
	wantErr(t, "create fam-dead", s.CreateRefreshToken(ctx, newToken("dead1", "fam-dead", at(-7200))), nil)
	wantErr(t, "create fam-revoked", s.CreateRefreshToken(ctx, newToken("revoked1", "fam-revoked", at(0))), nil)
	wantErr(t, "revoke fam-revoked", s.RevokeRefreshFamily(ctx, "fam-revoked", at(10), at(5000)), nil)
	// fam-long's expired chain spans more than one batch: the family goes
	// with the batch that deletes its last token.
	wantErr(t, "create fam-long", s.CreateRefreshToken(ctx, newToken("long0", "fam-long", at(-9000))), nil)
	for i := 1; i <= store.PurgeBatch+10; i++ {
		next := newToken(fmt.Sprintf("long%d", i), "", at(-9000+i))
		if err := s.RotateRefreshToken(ctx, fmt.Sprintf("long%d", i-1), next, at(-9000+i)); err != nil {
			t.Fatalf("rotate fam-long %d: %v", i, err)
		}
	}

	// E-mail tokens expire an hour after they are made; sends are counted
	// for an hour at most (mailLimits).
	wantErr(t, "mail e-old", s.CreateEmailToken(ctx, emailToken("e-old", "u1", "verify", at(0)), nil), nil)
	wantErr(t, "mail e-live", s.CreateEmailToken(ctx, emailToken("e-live", "u1", "reset", at(100)), nil), nil)
	// mfa tokens: m-old expired, m-live not (made first: a new token purges
	// the expired ones itself).
	for _, m := range []store.MFAToken{
		{Hash: "m-live", UserID: "u1", AppID: "app-default", CreatedAt: at(0), ExpiresAt: at(now + 300)},
		{Hash: "m-old", UserID: "u1", AppID: "app-default", CreatedAt: at(0), ExpiresAt: at(300)},
	} {
		wantErr(t, "CreateMFAToken "+m.Hash, s.CreateMFAToken(ctx, m), nil)
	}
	wantErr(t, "revoke j-old", s.RevokeAccessToken(ctx, "j-old", at(now-1)), nil)
	wantErr(t, "revoke j-live", s.RevokeAccessToken(ctx, "j-live", at(now+1)), nil)
	wantErr(t, "assertion a-old", s.UseClientAssertion(ctx, "app-other", "a-old", at(now-1)), nil)
	wantErr(t, "assertion a-live", s.UseClientAssertion(ctx, "app-other", "a-live", at(now+1)), nil)

	wantErr(t, "PurgeExpired", s.PurgeExpired(ctx, at(now), mailLimits), nil)

	for hash, want := range map[string]error{
		"live1": store.ErrNotFound, "live2": nil, "dead1": store.ErrNotFound, "revoked1": store.ErrNotFound,
		"long0": store.ErrNotFound, fmt.Sprintf("long%d", store.PurgeBatch+10): store.ErrNotFound,
	} {
		_, err := s.GetRefreshToken(ctx, hash)
		wantErr(t, "GetRefreshToken "+hash, err, want)
	}
	for fam, want := range map[string]error{"fam-live": nil, "fam-dead": store.ErrNotFound, "fam-long": store.ErrNotFound} {
		wantErr(t, "TouchRefreshFamily "+fam, s.TouchRefreshFamily(ctx, fam, store.RefreshUse{At: at(now)}), want)
	}
	if got, err := s.ListSessions(ctx, "u-1", at(now)); err != nil || len(got) != 1 || got[0].ID != "fam-live" {
		t.Errorf("sessions after the purge: %+v, %v; want fam-live", got, err)
	}
	// The ended session is still denied: its log entry has not expired.
	log, _, err := s.RevocationsSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range log {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"fam-revoked", "j-live"}) {
		t.Errorf("the revocation log after the purge: %v; want fam-revoked and j-live", ids)
	}
	// An expired jti may be recorded again, a live one not.
	wantErr(t, "assertion a-old again", s.UseClientAssertion(ctx, "app-other", "a-old", at(now+60)), nil)
	wantErr(t, "assertion a-live again", s.UseClientAssertion(ctx, "app-other", "a-live", at(now+60)), store.ErrConflict)

	for hash, want := range map[string]error{"e-old": store.ErrNotFound, "e-live": nil} {
		_, err := s.GetEmailToken(ctx, hash)
		wantErr(t, "GetEmailToken "+hash, err, want)
	}
	for hash, want := range map[string]error{"m-old": store.ErrNotFound, "m-live": nil} {
		_, err := s.GetMFAToken(ctx, hash)
		wantErr(t, "GetMFAToken "+hash, err, want)
	}
	// The send at 0 is past every window and gone; the one at 100 still
	// counts: a limit of two hours sees only it.
	twoHours := func(max int) []store.MailLimit { return []store.MailLimit{{Window: 2 * time.Hour, Max: max}} }
	err = s.CreateEmailToken(ctx, emailToken("e-3", "u1", "verify", at(now+1)), twoHours(1))
	if !errors.Is(err, store.ErrMailLimited) {
		t.Errorf("a mail with the send at 100 within the limit's window: %v, want ErrMailLimited", err)
	}
	wantErr(t, "a mail with the send at 0 purged", s.CreateEmailToken(ctx, emailToken("e-4", "u1", "verify", at(now+1)), twoHours(2)), nil)
}
