package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/store"
)

// testRefreshGrant checks that GetRefreshGrant reads what GetRefreshToken,
// GetUser, GetRole and GetApplication read, at once, and follows the
// token's state, the user's role and the user's deletion.
func testRefreshGrant(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	u := newUser("u-1", "one", at(0))
	u.Email, u.EmailVerified = "one@example.com", true
	mustCreateUser(t, s, u)
	tok := newToken("h1", "fam1", at(0))
	tok.AppID = "app-other"
	wantErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, tok), nil)

	// want is the grant of hash as the separate reads see it.
	want := func(hash string) store.RefreshGrant {
		t.Helper()
		tok, err := s.GetRefreshToken(ctx, hash)
		wantErr(t, "GetRefreshToken", err, nil)
		u, err := s.GetUser(ctx, tok.UserID)
		wantErr(t, "GetUser", err, nil)
		role, err := s.GetRole(ctx, u.Role)
		wantErr(t, "GetRole", err, nil)
		app, err := s.GetApplication(ctx, tok.AppID)
		wantErr(t, "GetApplication", err, nil)
		return store.RefreshGrant{Token: tok, User: u, Role: role, App: app}
	}
	check := func(name, hash string) {
		t.Helper()
		w := want(hash)
		got, err := s.GetRefreshGrant(ctx, hash)
		if err != nil {
			t.Fatalf("%s: GetRefreshGrant: %v", name, err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: GetRefreshGrant mismatch (-separate reads +grant):\n%s", name, diff)
		}
	}
	check("fresh", "h1")
	if g, _ := s.GetRefreshGrant(ctx, "h1"); g.App.ID != "app-other" || g.Role.Name != u.Role || g.User.Email != u.Email {
		t.Errorf("grant of h1 = app %q, role %q, e-mail %q", g.App.ID, g.Role.Name, g.User.Email)
	}

	wantErr(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, "h1", newToken("h2", "", at(5)), at(5)), nil)
	check("spent", "h1")
	check("successor", "h2")

	// The user's role is read as it is now.
	u.Role = "admin"
	wantErr(t, "UpdateUser", s.UpdateUser(ctx, u), nil)
	check("new role", "h2")
	if g, _ := s.GetRefreshGrant(ctx, "h2"); g.Role.Name != "admin" || len(g.Role.Scopes) != 2 {
		t.Errorf("grant after the role change: role %+v, want admin's", g.Role)
	}

	wantErr(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "fam1", at(6), at(100)), nil)
	check("revoked", "h2")

	_, err := s.GetRefreshGrant(ctx, "nope")
	wantErr(t, "GetRefreshGrant missing", err, store.ErrNotFound)
	wantErr(t, "DeleteUser", s.DeleteUser(ctx, "u-1"), nil)
	_, err = s.GetRefreshGrant(ctx, "h2")
	wantErr(t, "GetRefreshGrant of deleted user", err, store.ErrNotFound)
}
