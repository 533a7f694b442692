package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/store"
)

// testAuthorizationCodes: a code is stored with what it is bound to and
// spent once, by exactly one of concurrent spends; the others, and later
// ones, get it with the first spend's session and ErrTokenSpent; expired
// codes go at the next insert.
func testAuthorizationCodes(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	seed(t, s)
	ctx := t.Context()
	mustCreateUser(t, s, newUser("u-code", "coder", at(1)))
	c := store.AuthorizationCode{Hash: "h-1", AppID: "app-other", UserID: "u-code", RedirectURI: "https://other.example/cb",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Nonce: "n", Scope: "openid profile",
		AuthTime: at(2), AMR: "pwd", CreatedAt: at(2), ExpiresAt: at(3)}
	if err := s.CreateAuthorizationCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "a code of an unknown user", s.CreateAuthorizationCode(ctx, store.AuthorizationCode{Hash: "h-2", AppID: "app-other", UserID: "nobody", CreatedAt: at(2), ExpiresAt: at(3)}), store.ErrNotFound)
	wantErr(t, "a duplicate hash", s.CreateAuthorizationCode(ctx, c), store.ErrConflict)

	var wg sync.WaitGroup
	results := make([]error, 8)
	got := make([]store.AuthorizationCode, 8)
	for i := range results {
		wg.Go(func() { got[i], results[i] = s.SpendAuthorizationCode(ctx, "h-1", "fam-"+string(rune('a'+i)), at(2)) })
	}
	wg.Wait()
	first := ""
	for i, err := range results {
		if err == nil {
			if first != "" {
				t.Errorf("two spends of one code succeeded")
			}
			first = got[i].FamilyID
		} else if !errors.Is(err, store.ErrTokenSpent) {
			t.Errorf("SpendAuthorizationCode: %v", err)
		}
	}
	if first == "" {
		t.Fatal("no spend succeeded")
	}
	again, err := s.SpendAuthorizationCode(ctx, "h-1", "fam-later", at(2))
	want := c
	want.UsedAt, want.FamilyID = ptr(at(2)), first
	if !errors.Is(err, store.ErrTokenSpent) || cmp.Diff(want, again) != "" {
		t.Errorf("a spent code: %v, (-want +got):\n%s", err, cmp.Diff(want, again))
	}
	_, err = s.SpendAuthorizationCode(ctx, "unknown", "fam", at(2))
	wantErr(t, "an unknown code", err, store.ErrNotFound)

	// The expired code goes when the next one is stored.
	if err := s.CreateAuthorizationCode(ctx, store.AuthorizationCode{Hash: "h-3", AppID: "app-other", UserID: "u-code", CreatedAt: at(10), ExpiresAt: at(11), AuthTime: at(10)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.SpendAuthorizationCode(ctx, "h-1", "fam", at(10))
	wantErr(t, "an expired code after the next insert", err, store.ErrNotFound)
}
