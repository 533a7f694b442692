package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/store"
)

// t0 is the base time of the fixtures; it has nanoseconds to check that
// times round-trip exactly.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func ptr[T any](v T) *T { return &v }

// seed stores the roles "admin" and "user", the default application "app-default"
// and the application "app-other".
func seed(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	for _, r := range []store.Role{
		{Name: "admin", Code: 1, Scopes: []string{"users:write", "users:read"}},
		{Name: "user", Code: 2, Scopes: []string{"profile"}},
	} {
		if _, err := s.PutRole(ctx, r); err != nil {
			t.Fatalf("PutRole(%s): %v", r.Name, err)
		}
	}
	for _, a := range []store.Application{
		{ID: "app-default", Name: "Default", Audience: "gatehouse", AccessTokenTTL: 15 * time.Minute,
			RefreshTokenTTL: 24 * time.Hour, IsDefault: true, CreatedAt: at(0), ClientType: store.ClientPublic, FirstParty: true},
		{ID: "app-other", Name: "Other", Audience: "other", AccessTokenTTL: time.Minute,
			RefreshTokenTTL: time.Hour, CreatedAt: at(1), ClientType: store.ClientPublic},
	} {
		if err := s.CreateApplication(ctx, a); err != nil {
			t.Fatalf("CreateApplication(%s): %v", a.ID, err)
		}
	}
}

// newUser returns a valid user with the given id and username.
func newUser(id, username string, created time.Time) store.User {
	return store.User{
		ID:                id,
		Username:          username,
		FirstName:         "First " + id,
		LastName:          "Last " + id,
		Role:              "user",
		PasswordHash:      "hash-" + id,
		PasswordChangedAt: created,
		CreatedAt:         created,
		UpdatedAt:         created,
	}
}

func mustCreateUser(t *testing.T, s store.Store, u store.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.ID, err)
	}
}

func wantErr(t *testing.T, name string, got, want error) {
	t.Helper()
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		t.Errorf("%s: error %v, want %v", name, got, want)
	}
}

func testUsers(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)

	alice := newUser("u-alice", "Alice", at(10))
	alice.Email = "Alice@Example.com"
	alice.Role = "admin"
	alice.PasswordExpiresAt = ptr(at(1000))
	mustCreateUser(t, s, alice)
	mustCreateUser(t, s, newUser("u-noemail1", "noemail1", at(11)))
	mustCreateUser(t, s, newUser("u-noemail2", "noemail2", at(12))) // two users without e-mail
	mustCreateUser(t, s, newUser("u-ae", "ärger", at(13)))

	t.Run("create errors", func(t *testing.T) {
		withEmail := func(u store.User, email string) store.User { u.Email = email; return u }
		withRole := func(u store.User, role string) store.User { u.Role = role; return u }
		tests := []struct {
			name string
			u    store.User
			want error
		}{
			{"duplicate id", newUser("u-alice", "other", at(20)), store.ErrConflict},
			{"duplicate username other case", newUser("u-2", "ALICE", at(20)), store.ErrConflict},
			{"duplicate non-ASCII username other case", newUser("u-3", "ÄRGER", at(20)), store.ErrConflict},
			{"duplicate email other case", withEmail(newUser("u-4", "bob", at(20)), "alice@EXAMPLE.COM"), store.ErrConflict},
			{"unknown role", withRole(newUser("u-5", "carol", at(20)), "nobody"), store.ErrNotFound},
			{"ok", withEmail(newUser("u-6", "dave", at(20)), "dave@example.com"), nil},
		}
		for _, tt := range tests {
			wantErr(t, tt.name, s.CreateUser(ctx, tt.u), tt.want)
		}
	})

	t.Run("get", func(t *testing.T) {
		tests := []struct {
			name string
			get  func() (store.User, error)
			want store.User
			err  error
		}{
			{"by id", func() (store.User, error) { return s.GetUser(ctx, "u-alice") }, alice, nil},
			{"missing id", func() (store.User, error) { return s.GetUser(ctx, "nope") }, store.User{}, store.ErrNotFound},
			{"by username", func() (store.User, error) { return s.GetUserByLogin(ctx, "aLiCe") }, alice, nil},
			{"by email", func() (store.User, error) { return s.GetUserByLogin(ctx, "ALICE@example.COM") }, alice, nil},
			{"by non-ASCII username", func() (store.User, error) { return s.GetUserByLogin(ctx, "ÄRGER") }, newUser("u-ae", "ärger", at(13)), nil},
			{"missing login", func() (store.User, error) { return s.GetUserByLogin(ctx, "nobody") }, store.User{}, store.ErrNotFound},
			{"empty login", func() (store.User, error) { return s.GetUserByLogin(ctx, "") }, store.User{}, store.ErrNotFound},
		}
		for _, tt := range tests {
			got, err := tt.get()
			wantErr(t, tt.name, err, tt.err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: user mismatch (-want +got):\n%s", tt.name, diff)
			}
		}
	})

	t.Run("update", func(t *testing.T) {
		u := alice
		u.Username = "alice2"
		u.Email = ""
		u.FirstName = "Alicia"
		u.Role = "user"
		u.Disabled = true
		u.UpdatedAt = at(30)
		// Fields UpdateUser must not write.
		u.PasswordHash = "ignored"
		u.PasswordChangedAt = at(31)
		u.FailedAttempts = 7
		u.CreatedAt = at(32)
		if err := s.UpdateUser(ctx, u); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		want := alice
		want.Username, want.Email, want.FirstName, want.Role, want.Disabled, want.UpdatedAt =
			"alice2", "", "Alicia", "user", true, at(30)
		got, err := s.GetUser(ctx, "u-alice")
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("updated user mismatch (-want +got):\n%s", diff)
		}
		alice = got

		dup := alice
		dup.Username = "NOEMAIL1"
		missing := alice
		missing.ID = "nope"
		badRole := alice
		badRole.Role = "nobody"
		for _, tt := range []struct {
			name string
			u    store.User
			want error
		}{
			{"duplicate username", dup, store.ErrConflict},
			{"missing user", missing, store.ErrNotFound},
			{"unknown role", badRole, store.ErrNotFound},
		} {
			wantErr(t, tt.name, s.UpdateUser(ctx, tt.u), tt.want)
		}
	})

	t.Run("password", func(t *testing.T) {
		if err := s.SetPassword(ctx, "u-alice", "new-hash", at(40), nil); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		got, err := s.GetUser(ctx, "u-alice")
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		want := alice
		want.PasswordHash, want.PasswordChangedAt, want.PasswordExpiresAt = "new-hash", at(40), nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("user after SetPassword mismatch (-want +got):\n%s", diff)
		}
		alice = got
		wantErr(t, "SetPassword missing", s.SetPassword(ctx, "nope", "h", at(40), nil), store.ErrNotFound)
	})

	t.Run("lockout", func(t *testing.T) {
		lock := at(100)
		var got []bool
		for range 4 {
			locked, err := s.RecordLoginFailure(ctx, "u-alice", store.LoginFailure{At: at(50), WindowStart: at(0), MaxAttempts: 3, LockUntil: lock})
			if err != nil {
				t.Fatalf("RecordLoginFailure: %v", err)
			}
			got = append(got, locked)
		}
		if diff := cmp.Diff([]bool{false, false, true, false}, got); diff != "" {
			t.Errorf("locked mismatch (-want +got):\n%s", diff)
		}
		u, err := s.GetUser(ctx, "u-alice")
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		if u.FailedAttempts != 1 || u.LockedUntil == nil || !u.LockedUntil.Equal(lock) {
			t.Errorf("after 4 failures: FailedAttempts %d, LockedUntil %v; want 1, %v", u.FailedAttempts, u.LockedUntil, lock)
		}
		if err := s.ResetLoginFailures(ctx, "u-alice"); err != nil {
			t.Fatalf("ResetLoginFailures: %v", err)
		}
		u, err = s.GetUser(ctx, "u-alice")
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		if diff := cmp.Diff(alice, u); diff != "" {
			t.Errorf("user after reset mismatch (-want +got):\n%s", diff)
		}
		_, err = s.RecordLoginFailure(ctx, "nope", store.LoginFailure{At: at(50), MaxAttempts: 3, LockUntil: lock})
		wantErr(t, "RecordLoginFailure missing", err, store.ErrNotFound)
		wantErr(t, "ResetLoginFailures missing", s.ResetLoginFailures(ctx, "nope"), store.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		wantErr(t, "DeleteUser", s.DeleteUser(ctx, "u-6"), nil)
		wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "u-6"), store.ErrNotFound)
		_, err := s.GetUser(ctx, "u-6")
		wantErr(t, "GetUser deleted", err, store.ErrNotFound)
		// The e-mail of a deleted user is free again.
		u := newUser("u-7", "dave", at(50))
		u.Email = "DAVE@example.com"
		wantErr(t, "CreateUser reusing e-mail", s.CreateUser(ctx, u), nil)
	})
}

func testTimeRoundTripUTC(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	local := time.Date(2031, 12, 31, 23, 59, 59, 999999999, zone)
	u := newUser("u-1", "tz", local)
	u.PasswordChangedAt = time.Time{} // the zero time round-trips too
	u.LockedUntil = ptr(local.Add(time.Microsecond))
	mustCreateUser(t, s, u)

	got, err := s.GetUser(ctx, "u-1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	for name, tm := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt, "LockedUntil": *got.LockedUntil} {
		if tm.Location() != time.UTC {
			t.Errorf("%s in %v, want UTC", name, tm.Location())
		}
	}
	if !got.CreatedAt.Equal(local) || got.CreatedAt.Nanosecond() != 999999999 {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, local)
	}
	if !got.PasswordChangedAt.IsZero() {
		t.Errorf("PasswordChangedAt = %v, want zero", got.PasswordChangedAt)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("user mismatch (-want +got):\n%s", diff)
	}
}

func testListUsers(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	// Seven users; u-c and u-d share a creation time, so ids break the tie.
	for i, name := range []string{"alice", "Bob", "carol", "dave", "ALFRED", "erin_x", "frank"} {
		created := at(i)
		if i == 3 {
			created = at(2)
		}
		u := newUser(fmt.Sprintf("u-%c", 'a'+i), name, created)
		if name == "frank" {
			u.Email = "frank@Alps.example"
		}
		mustCreateUser(t, s, u)
	}

	ids := func(us []store.User) []string {
		out := []string{}
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}

	t.Run("paging", func(t *testing.T) {
		var pages [][]string
		after := ""
		for range 10 {
			us, next, err := s.ListUsers(ctx, store.UserFilter{}, store.Page{Limit: 3, After: after})
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			pages = append(pages, ids(us))
			if next == "" {
				break
			}
			after = next
		}
		want := [][]string{{"u-a", "u-b", "u-c"}, {"u-d", "u-e", "u-f"}, {"u-g"}}
		if diff := cmp.Diff(want, pages); diff != "" {
			t.Errorf("pages mismatch (-want +got):\n%s", diff)
		}
		// An exact last page has no next cursor either.
		us, next, err := s.ListUsers(ctx, store.UserFilter{}, store.Page{Limit: 7})
		if err != nil || len(us) != 7 || next != "" {
			t.Errorf("ListUsers(limit 7) = %d users, next %q, %v; want 7, \"\", nil", len(us), next, err)
		}
		us, _, err = s.ListUsers(ctx, store.UserFilter{}, store.Page{})
		if err != nil || len(us) != 7 {
			t.Errorf("ListUsers(default limit) = %d users, %v; want 7", len(us), err)
		}
		_, _, err = s.ListUsers(ctx, store.UserFilter{}, store.Page{After: "!!not a cursor"})
		wantErr(t, "bad cursor", err, store.ErrBadCursor)
	})

	t.Run("filter", func(t *testing.T) {
		tests := []struct {
			query string
			want  []string
		}{
			{"AL", []string{"u-a", "u-e", "u-g"}}, // username or e-mail
			{"bob", []string{"u-b"}},
			{"_", []string{"u-f"}}, // not a LIKE wildcard
			{"%", []string{}},
			{"zzz", []string{}},
			{"", []string{"u-a", "u-b", "u-c", "u-d", "u-e", "u-f", "u-g"}},
		}
		for _, tt := range tests {
			us, next, err := s.ListUsers(ctx, store.UserFilter{Query: tt.query}, store.Page{})
			if err != nil {
				t.Fatalf("ListUsers(%q): %v", tt.query, err)
			}
			if diff := cmp.Diff(tt.want, ids(us)); diff != "" || next != "" {
				t.Errorf("ListUsers(%q) next %q, mismatch (-want +got):\n%s", tt.query, next, diff)
			}
		}
		// Filter and paging combine.
		us, next, err := s.ListUsers(ctx, store.UserFilter{Query: "al"}, store.Page{Limit: 2})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		us2, next2, err := s.ListUsers(ctx, store.UserFilter{Query: "al"}, store.Page{Limit: 2, After: next})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if diff := cmp.Diff([][]string{{"u-a", "u-e"}, {"u-g"}}, [][]string{ids(us), ids(us2)}); diff != "" || next2 != "" {
			t.Errorf("filtered pages, next %q, mismatch (-want +got):\n%s", next2, diff)
		}
	})
}

func testApplications(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)

	_, err := s.DefaultApplication(ctx)
	wantErr(t, "DefaultApplication on empty store", err, store.ErrNotFound)

	seed(t, s)
	def := store.Application{ID: "app-default", Name: "Default", Audience: "gatehouse",
		AccessTokenTTL: 15 * time.Minute, RefreshTokenTTL: 24 * time.Hour, IsDefault: true, CreatedAt: at(0),
		ClientType: store.ClientPublic, FirstParty: true}
	other := store.Application{ID: "app-other", Name: "Other", Audience: "other",
		AccessTokenTTL: time.Minute, RefreshTokenTTL: time.Hour, CreatedAt: at(1), ClientType: store.ClientPublic}

	t.Run("create and get", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			a    store.Application
			want error
		}{
			{"duplicate id", store.Application{ID: "app-other", Name: "New", CreatedAt: at(2)}, store.ErrConflict},
			{"duplicate name", store.Application{ID: "app-new", Name: "Other", CreatedAt: at(2)}, store.ErrConflict},
		} {
			wantErr(t, tt.name, s.CreateApplication(ctx, tt.a), tt.want)
		}
		got, err := s.GetApplication(ctx, "app-other")
		if err != nil {
			t.Fatalf("GetApplication: %v", err)
		}
		if diff := cmp.Diff(other, got); diff != "" {
			t.Errorf("GetApplication mismatch (-want +got):\n%s", diff)
		}
		_, err = s.GetApplication(ctx, "nope")
		wantErr(t, "GetApplication missing", err, store.ErrNotFound)
		got, err = s.DefaultApplication(ctx)
		if err != nil {
			t.Fatalf("DefaultApplication: %v", err)
		}
		if diff := cmp.Diff(def, got); diff != "" {
			t.Errorf("DefaultApplication mismatch (-want +got):\n%s", diff)
		}
		apps, next, err := s.ListApplications(ctx, store.Page{Limit: 1})
		if err != nil {
			t.Fatalf("ListApplications: %v", err)
		}
		apps2, next2, err := s.ListApplications(ctx, store.Page{Limit: 1, After: next})
		if err != nil {
			t.Fatalf("ListApplications: %v", err)
		}
		if diff := cmp.Diff([]store.Application{def, other}, append(apps, apps2...)); diff != "" || next2 != "" {
			t.Errorf("ListApplications next %q, mismatch (-want +got):\n%s", next2, diff)
		}
	})

	t.Run("update and delete", func(t *testing.T) {
		up := other
		up.Name, up.Audience, up.AccessTokenTTL = "Other 2", "aud2", 2*time.Minute
		up.RedirectURIs = []string{"https://other.example/cb", "http://127.0.0.1:8000/cb"}
		up.PostLogoutRedirectURIs = []string{"https://other.example/bye"}
		up.ClientType, up.FirstParty = store.ClientConfidential, true
		up.CreatedAt = at(99) // not written
		if err := s.UpdateApplication(ctx, up); err != nil {
			t.Fatalf("UpdateApplication: %v", err)
		}
		got, err := s.GetApplication(ctx, "app-other")
		if err != nil {
			t.Fatalf("GetApplication: %v", err)
		}
		up.CreatedAt = other.CreatedAt
		if diff := cmp.Diff(up, got); diff != "" {
			t.Errorf("updated application mismatch (-want +got):\n%s", diff)
		}
		missing := up
		missing.ID = "nope"
		wantErr(t, "UpdateApplication missing", s.UpdateApplication(ctx, missing), store.ErrNotFound)
		dup := up
		dup.Name = "Default"
		wantErr(t, "UpdateApplication duplicate name", s.UpdateApplication(ctx, dup), store.ErrConflict)

		_, err = s.DeleteApplication(ctx, "app-default", at(50), at(60))
		wantErr(t, "DeleteApplication default", err, store.ErrInUse)
		_, err = s.DeleteApplication(ctx, "nope", at(50), at(60))
		wantErr(t, "DeleteApplication missing", err, store.ErrNotFound)

		// Making app-other the default takes the flag from app-default.
		up.IsDefault = true
		if err := s.UpdateApplication(ctx, up); err != nil {
			t.Fatalf("UpdateApplication(default): %v", err)
		}
		got, err = s.DefaultApplication(ctx)
		if err != nil || got.ID != "app-other" {
			t.Errorf("DefaultApplication = %q, %v; want app-other", got.ID, err)
		}
		_, err = s.DeleteApplication(ctx, "app-default", at(50), at(60))
		wantErr(t, "DeleteApplication former default", err, nil)
		_, err = s.GetApplication(ctx, "app-default")
		wantErr(t, "GetApplication deleted", err, store.ErrNotFound)
	})
}

func testMembers(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	for i, id := range []string{"u-1", "u-2", "u-3"} {
		mustCreateUser(t, s, newUser(id, "user"+id, at(i)))
	}

	for _, tt := range []struct {
		name       string
		app, user  string
		wantAddErr error
	}{
		{"add", "app-other", "u-1", nil},
		{"add second", "app-other", "u-3", nil},
		{"add again", "app-other", "u-1", store.ErrConflict},
		{"unknown user", "app-other", "nope", store.ErrNotFound},
		{"unknown app", "nope", "u-1", store.ErrNotFound},
	} {
		wantErr(t, tt.name, s.AddMember(ctx, tt.app, tt.user), tt.wantAddErr)
	}

	for _, tt := range []struct {
		app, user string
		want      bool
	}{
		{"app-other", "u-1", true},
		{"app-other", "u-2", false},
		{"app-default", "u-2", true}, // everyone is a member of the default application
		{"app-default", "nope", false},
		{"nope", "u-1", false},
	} {
		got, err := s.IsMember(ctx, tt.app, tt.user)
		if err != nil || got != tt.want {
			t.Errorf("IsMember(%s, %s) = %v, %v; want %v", tt.app, tt.user, got, err, tt.want)
		}
	}

	listIDs := func(app string, limit int) ([]string, error) {
		var out []string
		after := ""
		for {
			us, next, err := s.ListMembers(ctx, app, store.Page{Limit: limit, After: after})
			if err != nil {
				return nil, err
			}
			for _, u := range us {
				out = append(out, u.ID)
			}
			if next == "" {
				return out, nil
			}
			after = next
		}
	}
	for _, tt := range []struct {
		app  string
		want []string
		err  error
	}{
		{"app-other", []string{"u-1", "u-3"}, nil},
		{"app-default", []string{"u-1", "u-2", "u-3"}, nil},
		{"nope", nil, store.ErrNotFound},
	} {
		got, err := listIDs(tt.app, 1)
		wantErr(t, "ListMembers "+tt.app, err, tt.err)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ListMembers(%s) mismatch (-want +got):\n%s", tt.app, diff)
		}
	}

	// u-1 has a session of app-other and one of app-default; u-3 one of
	// app-other. Removing u-1 from app-other ends its app-other session
	// only, and the grant of a token of it says the user is no member.
	for _, tok := range []store.RefreshToken{
		{Hash: "h-u1-other", FamilyID: "fam-u1-other", UserID: "u-1", AppID: "app-other"},
		{Hash: "h-u1-default", FamilyID: "fam-u1-default", UserID: "u-1", AppID: "app-default"},
		{Hash: "h-u3-other", FamilyID: "fam-u3-other", UserID: "u-3", AppID: "app-other"},
	} {
		tok.CreatedAt, tok.ExpiresAt, tok.AMR = at(0), at(3600), "pwd"
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatalf("CreateRefreshToken %s: %v", tok.Hash, err)
		}
	}
	member := func(hash string) bool {
		t.Helper()
		g, err := s.GetRefreshGrant(ctx, hash)
		if err != nil {
			t.Fatalf("GetRefreshGrant %s: %v", hash, err)
		}
		return g.Member
	}
	if !member("h-u1-other") || !member("h-u1-default") {
		t.Errorf("GetRefreshGrant: a member's grants say it is no member")
	}
	cursor := revocationCursor(t, s)
	ended, err := s.RemoveMember(ctx, "app-other", "u-1", at(10), at(20))
	wantErr(t, "RemoveMember", err, nil)
	if diff := cmp.Diff([]string{"fam-u1-other"}, ended); diff != "" {
		t.Errorf("RemoveMember ended sessions (-want +got):\n%s", diff)
	}
	for hash, revoked := range map[string]bool{"h-u1-other": true, "h-u1-default": false, "h-u3-other": false} {
		tok, err := s.GetRefreshToken(ctx, hash)
		if err != nil || tok.FamilyRevoked != revoked {
			t.Errorf("after RemoveMember, %s revoked = %v, %v; want %v", hash, tok.FamilyRevoked, err, revoked)
		}
	}
	if member("h-u1-other") || !member("h-u1-default") || !member("h-u3-other") {
		t.Errorf("GetRefreshGrant after RemoveMember: membership not as the members are")
	}
	if logged := revokedSessionsSince(t, s, cursor); !logged["fam-u1-other"] || logged["fam-u1-default"] || logged["fam-u3-other"] {
		t.Errorf("revocation log after RemoveMember = %v; want the session fam-u1-other, no other of these", logged)
	}
	ended, err = s.RemoveMember(ctx, "app-other", "u-1", at(10), at(20))
	wantErr(t, "RemoveMember again", err, store.ErrNotFound)
	if len(ended) != 0 {
		t.Errorf("RemoveMember again ended %v", ended)
	}
	// Deleting a user drops its memberships.
	wantErr(t, "DeleteUser", s.DeleteUser(ctx, "u-3"), nil)
	got, err := listIDs("app-other", 10)
	if err != nil || len(got) != 0 {
		t.Errorf("ListMembers after removals = %v, %v; want none", got, err)
	}

	// Deleting an application ends its live sessions, logged as the
	// revocations other nodes read.
	wantErr(t, "AddMember u-2", s.AddMember(ctx, "app-other", "u-2"), nil)
	tok := store.RefreshToken{Hash: "h-u2-other", FamilyID: "fam-u2-other", UserID: "u-2", AppID: "app-other",
		CreatedAt: at(0), ExpiresAt: at(3600), AMR: "pwd"}
	if err := s.CreateRefreshToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// The default application cannot be deleted, and the refused delete
	// ends none of its sessions.
	_, err = s.DeleteApplication(ctx, "app-default", at(30), at(40))
	wantErr(t, "DeleteApplication default", err, store.ErrInUse)
	if tok, err := s.GetRefreshToken(ctx, "h-u1-default"); err != nil || tok.FamilyRevoked {
		t.Errorf("after a refused delete of the default application, its session revoked = %v, %v", tok.FamilyRevoked, err)
	}
	cursor = revocationCursor(t, s)
	ended, err = s.DeleteApplication(ctx, "app-other", at(30), at(40))
	wantErr(t, "DeleteApplication", err, nil)
	if diff := cmp.Diff([]string{"fam-u2-other"}, ended); diff != "" {
		t.Errorf("DeleteApplication ended sessions (-want +got):\n%s", diff)
	}
	if logged := revokedSessionsSince(t, s, cursor); !logged["fam-u2-other"] {
		t.Errorf("revocation log after DeleteApplication = %v; want the session fam-u2-other", logged)
	}
}

// revokedSessionsSince is the set of session ids the revocation log holds
// from cursor on: on PostgreSQL a read from a cursor may give entries
// again (RevocationsSince), so callers test membership, not the count.
func revokedSessionsSince(t *testing.T, s store.Store, cursor int64) map[string]bool {
	t.Helper()
	entries, _, err := s.RevocationsSince(t.Context(), cursor)
	if err != nil {
		t.Fatalf("RevocationsSince: %v", err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		if e.Kind == store.RevokedSession {
			out[e.ID] = true
		}
	}
	return out
}

// revocationCursor is the revocation log's cursor after every entry now in it.
func revocationCursor(t *testing.T, s store.Store) int64 {
	t.Helper()
	_, cursor, err := s.RevocationsSince(t.Context(), 0)
	if err != nil {
		t.Fatalf("RevocationsSince: %v", err)
	}
	return cursor
}

func testRoles(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)

	created, err := s.PutRole(ctx, store.Role{Name: "guest", Code: 9})
	if err != nil || !created {
		t.Errorf("PutRole(new) = %v, %v; want true, nil", created, err)
	}
	created, err = s.PutRole(ctx, store.Role{Name: "user", Code: 3, Scopes: []string{"b", "a"}})
	if err != nil || created {
		t.Errorf("PutRole(existing) = %v, %v; want false, nil", created, err)
	}
	got, err := s.GetRole(ctx, "user")
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	if diff := cmp.Diff(store.Role{Name: "user", Code: 3, Scopes: []string{"b", "a"}}, got); diff != "" {
		t.Errorf("GetRole mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetRole(ctx, "nope")
	wantErr(t, "GetRole missing", err, store.ErrNotFound)

	roles, err := s.ListRoles(ctx)
	if err != nil {
		t.Fatalf("ListRoles: %v", err)
	}
	want := []store.Role{
		{Name: "admin", Code: 1, Scopes: []string{"users:write", "users:read"}},
		{Name: "guest", Code: 9, Scopes: []string{}},
		{Name: "user", Code: 3, Scopes: []string{"b", "a"}},
	}
	if diff := cmp.Diff(want, roles); diff != "" {
		t.Errorf("ListRoles mismatch (-want +got):\n%s", diff)
	}
	if roles[1].Scopes == nil {
		t.Error("empty Scopes is nil, want empty slice")
	}

	mustCreateUser(t, s, newUser("u-1", "one", at(0)))
	wantErr(t, "DeleteRole held", s.DeleteRole(ctx, "user"), store.ErrInUse)
	wantErr(t, "DeleteRole unused", s.DeleteRole(ctx, "guest"), nil)
	wantErr(t, "DeleteRole missing", s.DeleteRole(ctx, "guest"), store.ErrNotFound)
	// Replacing a held role keeps its users.
	if _, err := s.PutRole(ctx, store.Role{Name: "user", Code: 4}); err != nil {
		t.Errorf("PutRole(held): %v", err)
	}
}

func testSigningKeys(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	keys := []store.SigningKey{
		{KID: "k1", Alg: "EdDSA", PrivateKey: []byte{1, 2, 3}, CreatedAt: at(1), ActiveFrom: at(1)},
		{KID: "k2", Alg: "ES256", PrivateKey: []byte{4}, CreatedAt: at(2), ActiveFrom: at(2)},
		{KID: "k3", Alg: "RS256", PrivateKey: []byte{5, 6}, CreatedAt: at(3), ActiveFrom: at(1203)}, // staged
	}
	for _, k := range keys {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatalf("CreateSigningKey(%s): %v", k.KID, err)
		}
	}
	wantErr(t, "CreateSigningKey duplicate", s.CreateSigningKey(ctx, keys[0]), store.ErrConflict)

	list := func() []store.SigningKey {
		t.Helper()
		got, err := s.ListSigningKeys(ctx)
		if err != nil {
			t.Fatalf("ListSigningKeys: %v", err)
		}
		return got
	}
	if diff := cmp.Diff([]store.SigningKey{keys[2], keys[1], keys[0]}, list()); diff != "" {
		t.Errorf("ListSigningKeys mismatch (-want +got):\n%s", diff)
	}

	wantErr(t, "RetireSigningKey k1", s.RetireSigningKey(ctx, "k1", at(10)), nil)
	wantErr(t, "RetireSigningKey k1 again", s.RetireSigningKey(ctx, "k1", at(50)), nil)   // keeps at(10)
	wantErr(t, "RetireSigningKey k2 ahead", s.RetireSigningKey(ctx, "k2", at(1200)), nil) // a staged rotation
	wantErr(t, "RetireSigningKey k2 now", s.RetireSigningKey(ctx, "k2", at(20)), nil)     // made immediate: at(20)
	wantErr(t, "RetireSigningKey k2 later", s.RetireSigningKey(ctx, "k2", at(900)), nil)  // keeps at(20)
	wantErr(t, "RetireSigningKey missing", s.RetireSigningKey(ctx, "nope", at(20)), store.ErrNotFound)
	wantErr(t, "DeleteSigningKeysRetiredBefore", s.DeleteSigningKeysRetiredBefore(ctx, at(15)), nil)
	k2 := keys[1]
	k2.RetiredAt = ptr(at(20))
	if diff := cmp.Diff([]store.SigningKey{keys[2], k2}, list()); diff != "" {
		t.Errorf("ListSigningKeys after purge mismatch (-want +got):\n%s", diff)
	}
}

// newToken returns a refresh token of family fam for u-1 and app-default.
func newToken(hash, fam string, created time.Time) store.RefreshToken {
	return store.RefreshToken{Hash: hash, FamilyID: fam, UserID: "u-1", AppID: "app-default",
		Scope: "profile", CreatedAt: created, ExpiresAt: created.Add(time.Hour),
		FamilyKey: []byte("key of " + fam), AMR: "pwd"}
}

func testRefreshTokens(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	mustCreateUser(t, s, newUser("u-1", "one", at(0)))
	mustCreateUser(t, s, newUser("u-2", "two", at(0)))

	t1 := newToken("h1", "fam1", at(0))
	badUser := newToken("hx", "famx", at(0))
	badUser.UserID = "nope"
	for _, tt := range []struct {
		name string
		tok  store.RefreshToken
		want error
	}{
		{"create", t1, nil},
		{"duplicate family", newToken("h9", "fam1", at(0)), store.ErrConflict},
		{"duplicate hash", newToken("h1", "fam9", at(0)), store.ErrConflict},
		{"unknown user", badUser, store.ErrNotFound},
	} {
		wantErr(t, tt.name, s.CreateRefreshToken(ctx, tt.tok), tt.want)
	}
	got, err := s.GetRefreshToken(ctx, "h1")
	if err != nil {
		t.Fatalf("GetRefreshToken: %v", err)
	}
	if diff := cmp.Diff(t1, got); diff != "" {
		t.Errorf("GetRefreshToken mismatch (-want +got):\n%s", diff)
	}
	_, err = s.GetRefreshToken(ctx, "nope")
	wantErr(t, "GetRefreshToken missing", err, store.ErrNotFound)

	// The next token's family, user and app come from the old token.
	next := newToken("h2", "ignored", at(5))
	next.UserID, next.AppID, next.Scope = "u-2", "app-other", "narrow"
	if err := s.RotateRefreshToken(ctx, "h1", next, at(5)); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	old, err := s.GetRefreshToken(ctx, "h1")
	if err != nil {
		t.Fatalf("GetRefreshToken: %v", err)
	}
	wantOld := t1
	wantOld.UsedAt = ptr(at(5))
	if diff := cmp.Diff(wantOld, old); diff != "" {
		t.Errorf("rotated token mismatch (-want +got):\n%s", diff)
	}
	got, err = s.GetRefreshToken(ctx, "h2")
	if err != nil {
		t.Fatalf("GetRefreshToken: %v", err)
	}
	wantNext := newToken("h2", "fam1", at(5))
	wantNext.Scope = "narrow"
	if diff := cmp.Diff(wantNext, got); diff != "" {
		t.Errorf("next token mismatch (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		name string
		old  string
		next string
		want error
	}{
		{"second rotation of the same token", "h1", "h3", store.ErrTokenSpent},
		{"unknown token", "nope", "h4", store.ErrNotFound},
		{"duplicate next hash", "h2", "h1", store.ErrConflict},
	} {
		wantErr(t, tt.name, s.RotateRefreshToken(ctx, tt.old, newToken(tt.next, "", at(6)), at(6)), tt.want)
	}
	// The failed rotation into a duplicate hash rolled back: h2 is unused.
	if got, err := s.GetRefreshToken(ctx, "h2"); err != nil || got.UsedAt != nil {
		t.Errorf("h2 after failed rotation: UsedAt %v, %v; want nil", got.UsedAt, err)
	}

	wantErr(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "fam1", at(7), at(100)), nil)
	wantErr(t, "RevokeRefreshFamily again", s.RevokeRefreshFamily(ctx, "fam1", at(8), at(100)), nil)
	wantErr(t, "RevokeRefreshFamily missing", s.RevokeRefreshFamily(ctx, "nope", at(8), at(100)), store.ErrNotFound)
	wantErr(t, "rotate in revoked family", s.RotateRefreshToken(ctx, "h2", newToken("h5", "", at(9)), at(9)), store.ErrTokenSpent)
	if got, err := s.GetRefreshToken(ctx, "h2"); err != nil || !got.FamilyRevoked || got.UsedAt != nil {
		t.Errorf("h2 after revocation: FamilyRevoked %v, UsedAt %v, %v; want true, nil", got.FamilyRevoked, got.UsedAt, err)
	}

	// RevokeUserRefreshFamilies revokes u-1's families only.
	wantErr(t, "create fam2", s.CreateRefreshToken(ctx, newToken("h6", "fam2", at(10))), nil)
	t7 := newToken("h7", "fam3", at(10))
	t7.UserID = "u-2"
	wantErr(t, "create fam3", s.CreateRefreshToken(ctx, t7), nil)
	ids, err := s.RevokeUserRefreshFamilies(ctx, "u-1", "", at(11), at(100))
	wantErr(t, "RevokeUserRefreshFamilies", err, nil)
	if !slices.Equal(ids, []string{"fam2"}) {
		t.Errorf("RevokeUserRefreshFamilies revoked %v, want [fam2] (fam1 was revoked already)", ids)
	}
	ids, err = s.RevokeUserRefreshFamilies(ctx, "nope", "", at(11), at(100))
	wantErr(t, "RevokeUserRefreshFamilies no families", err, nil)
	if len(ids) != 0 {
		t.Errorf("RevokeUserRefreshFamilies of a user without families revoked %v", ids)
	}
	for hash, want := range map[string]bool{"h6": true, "h7": false} {
		if got, err := s.GetRefreshToken(ctx, hash); err != nil || got.FamilyRevoked != want {
			t.Errorf("%s FamilyRevoked = %v, %v; want %v", hash, got.FamilyRevoked, err, want)
		}
	}

	// Deleting a user drops its families and their tokens.
	wantErr(t, "DeleteUser", s.DeleteUser(ctx, "u-2"), nil)
	_, err = s.GetRefreshToken(ctx, "h7")
	wantErr(t, "GetRefreshToken of deleted user", err, store.ErrNotFound)
}

func testRotateRefreshTokenRace(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	mustCreateUser(t, s, newUser("u-1", "one", at(0)))
	if err := s.CreateRefreshToken(ctx, newToken("h0", "fam", at(0))); err != nil {
		t.Fatalf("CreateRefreshToken: %v", err)
	}

	const n = 32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.RotateRefreshToken(ctx, "h0", newToken(fmt.Sprintf("h%d", i+1), "", at(1)), at(1))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrTokenSpent):
			t.Errorf("rotation %d: %v, want nil or ErrTokenSpent", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d rotations succeeded, want exactly 1", won)
	}
}

func testAccessTokenRevocationAndPurge(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	mustCreateUser(t, s, newUser("u-1", "one", at(0)))

	for _, tt := range []struct {
		jti string
		exp time.Time
	}{{"j-old", at(10)}, {"j-new", at(100)}, {"j-new", at(50)}} { // revoking twice keeps the later expiry
		if err := s.RevokeAccessToken(ctx, tt.jti, tt.exp); err != nil {
			t.Fatalf("RevokeAccessToken(%s): %v", tt.jti, err)
		}
	}
	// Family fam-old has only expired tokens; fam-mixed has one expired and
	// one live token.
	wantErr(t, "create fam-old", s.CreateRefreshToken(ctx, newToken("old", "fam-old", at(-7200))), nil)
	wantErr(t, "create fam-mixed", s.CreateRefreshToken(ctx, newToken("mixed1", "fam-mixed", at(-7200))), nil)
	wantErr(t, "rotate fam-mixed", s.RotateRefreshToken(ctx, "mixed1", newToken("mixed2", "", at(0)), at(0)), nil)

	wantErr(t, "PurgeExpired", s.PurgeExpired(ctx, at(20), nil), nil)

	for jti, want := range map[string]bool{"j-old": false, "j-new": true, "j-unknown": false} {
		got, err := s.IsAccessTokenRevoked(ctx, jti)
		if err != nil || got != want {
			t.Errorf("IsAccessTokenRevoked(%s) = %v, %v; want %v", jti, got, err, want)
		}
	}
	for hash, want := range map[string]error{"old": store.ErrNotFound, "mixed1": store.ErrNotFound, "mixed2": nil} {
		_, err := s.GetRefreshToken(ctx, hash)
		wantErr(t, "GetRefreshToken "+hash, err, want)
	}
	// fam-old is gone, fam-mixed is not.
	wantErr(t, "RevokeRefreshFamily fam-old", s.RevokeRefreshFamily(ctx, "fam-old", at(20), at(100)), store.ErrNotFound)
	wantErr(t, "RevokeRefreshFamily fam-mixed", s.RevokeRefreshFamily(ctx, "fam-mixed", at(20), at(100)), nil)
	// j-new expires at(100), not at(50).
	wantErr(t, "PurgeExpired", s.PurgeExpired(ctx, at(60), nil), nil)
	if got, err := s.IsAccessTokenRevoked(ctx, "j-new"); err != nil || !got {
		t.Errorf("IsAccessTokenRevoked(j-new) after purge at 60s = %v, %v; want true", got, err)
	}
}

func testAuditEvents(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	events := []store.AuditEvent{
		{ID: "e1", Time: at(1), Action: "login", Outcome: "success", ActorID: "u-1", SubjectID: "u-1",
			ClientIP: "10.0.0.1", UserAgent: "curl", Dialect: "v1", Detail: "ok"},
		{ID: "e2", Time: at(2), Action: "login", Outcome: "failure", ActorID: "u-2"},
		{ID: "e3", Time: at(2), Action: "user.update", Outcome: "success", ActorID: "u-1", SubjectID: "u-2"},
		{ID: "e4", Time: at(3), Action: "login", Outcome: "success", ActorID: "u-1"},
		{ID: "e5", Time: at(4), Action: "logout", Outcome: "success", ActorID: "u-1"},
	}
	for _, e := range events {
		if err := s.AppendAuditEvent(ctx, e); err != nil {
			t.Fatalf("AppendAuditEvent(%s): %v", e.ID, err)
		}
	}
	wantErr(t, "AppendAuditEvent duplicate", s.AppendAuditEvent(ctx, events[0]), store.ErrConflict)

	ids := func(f store.AuditFilter, limit int) []string {
		t.Helper()
		var out []string
		after := ""
		for {
			es, next, err := s.ListAuditEvents(ctx, f, store.Page{Limit: limit, After: after})
			if err != nil {
				t.Fatalf("ListAuditEvents: %v", err)
			}
			for _, e := range es {
				out = append(out, e.ID)
			}
			if next == "" {
				return out
			}
			after = next
		}
	}
	for _, tt := range []struct {
		name string
		f    store.AuditFilter
		want []string
	}{
		{"all", store.AuditFilter{}, []string{"e5", "e4", "e3", "e2", "e1"}},
		{"actor", store.AuditFilter{ActorID: "u-1"}, []string{"e5", "e4", "e3", "e1"}},
		{"subject", store.AuditFilter{SubjectID: "u-2"}, []string{"e3"}},
		{"action", store.AuditFilter{Action: "login"}, []string{"e4", "e2", "e1"}},
		{"since until", store.AuditFilter{Since: at(2), Until: at(4)}, []string{"e4", "e3", "e2"}},
		{"combined", store.AuditFilter{ActorID: "u-1", Action: "login", Since: at(2)}, []string{"e4"}},
		{"none", store.AuditFilter{ActorID: "nobody"}, nil},
	} {
		if diff := cmp.Diff(tt.want, ids(tt.f, 2)); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	es, _, err := s.ListAuditEvents(ctx, store.AuditFilter{Action: "login", Until: at(2)}, store.Page{})
	if err != nil {
		t.Fatalf("ListAuditEvents: %v", err)
	}
	if diff := cmp.Diff(events[:1], es); diff != "" {
		t.Errorf("event mismatch (-want +got):\n%s", diff)
	}

	// An event without id and time gets both.
	before := time.Now()
	if err := s.AppendAuditEvent(ctx, store.AuditEvent{Action: "generated", Outcome: "success"}); err != nil {
		t.Fatalf("AppendAuditEvent: %v", err)
	}
	es, _, err = s.ListAuditEvents(ctx, store.AuditFilter{Action: "generated"}, store.Page{})
	if err != nil || len(es) != 1 {
		t.Fatalf("ListAuditEvents(generated) = %v, %v; want 1 event", es, err)
	}
	if len(es[0].ID) != 36 || es[0].Time.Before(before.Add(-time.Second)) {
		t.Errorf("generated event has ID %q, Time %v", es[0].ID, es[0].Time)
	}
}

// TestConcurrentLoad runs 64 goroutines of mixed writes and reads, as 64
// clients logging in and refreshing at once would, and requires that none
// fails (in particular with SQLITE_BUSY, "database is locked").
func testConcurrentLoad(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	const workers = 64
	ops := 200 // a multiple of 5, so each worker does every kind of op ops/5 times
	if raceEnabled {
		ops = 25
	}
	for w := range workers {
		u := newUser(fmt.Sprintf("w%d", w), fmt.Sprintf("worker%d", w), at(w))
		u.Email = fmt.Sprintf("worker%d@example.com", w)
		mustCreateUser(t, s, u)
		tok := newToken(fmt.Sprintf("w%d-t0", w), fmt.Sprintf("w%d-fam", w), at(0))
		tok.UserID = u.ID
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatalf("CreateRefreshToken: %v", err)
		}
	}

	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errs <- worker(ctx, s, w, ops)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}

	// Each worker created ops/5 users and rotated its chain ops/5 times.
	us, _, err := s.ListUsers(ctx, store.UserFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if want := min(500, workers+workers*ops/5); len(us) != want {
		t.Errorf("%d users, want %d", len(us), want)
	}
	for w := range workers {
		last := fmt.Sprintf("w%d-t%d", w, ops/5)
		tok, err := s.GetRefreshToken(ctx, last)
		if err != nil || tok.UsedAt != nil || tok.FamilyID != fmt.Sprintf("w%d-fam", w) {
			t.Errorf("last token %s = %+v, %v; want unused in w%d-fam", last, tok, err, w)
		}
	}
}

// worker does ops mixed operations as worker w and returns the first error.
func worker(ctx context.Context, s store.Store, w, ops int) error {
	self := fmt.Sprintf("w%d", w)
	rotations := 0
	for i := range ops {
		var err error
		switch i % 5 {
		case 0:
			u := newUser(fmt.Sprintf("w%d-u%d", w, i), fmt.Sprintf("w%d-user%d", w, i), at(1000+i))
			err = s.CreateUser(ctx, u)
		case 1:
			old := fmt.Sprintf("w%d-t%d", w, rotations)
			rotations++
			next := newToken(fmt.Sprintf("w%d-t%d", w, rotations), "", at(i))
			err = s.RotateRefreshToken(ctx, old, next, at(i))
		case 2:
			_, err = s.RecordLoginFailure(ctx, self, store.LoginFailure{At: at(i), MaxAttempts: 3, LockUntil: at(i + 60)})
		case 3:
			var u store.User
			u, err = s.GetUserByLogin(ctx, fmt.Sprintf("Worker%d@EXAMPLE.com", w))
			if err == nil && u.ID != self {
				err = fmt.Errorf("GetUserByLogin returned %s", u.ID)
			}
			if err == nil {
				_, err = s.IsMember(ctx, "app-default", self)
			}
		case 4:
			_, _, err = s.ListUsers(ctx, store.UserFilter{}, store.Page{Limit: 5})
			if err == nil {
				_, err = s.IsAccessTokenRevoked(ctx, self)
			}
			if err == nil {
				err = s.AppendAuditEvent(ctx, store.AuditEvent{Action: "login", Outcome: "failure", ActorID: self})
			}
		}
		if err != nil {
			return fmt.Errorf("worker %d op %d: %w", w, i, err)
		}
	}
	return nil
}

// testLoginWritesOnce: a family and the audit events stored with it land
// together or not at all.
func testLoginWritesOnce(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	mustCreateUser(t, s, newUser("u-1", "one", at(0)))
	login := func(id string) store.AuditEvent {
		return store.AuditEvent{ID: id, Time: at(1), Action: "login", Outcome: "success", ActorID: "u-1", SubjectID: "u-1"}
	}
	wantErr(t, "create with its event", s.CreateRefreshToken(ctx, newToken("h1", "fam1", at(1)), login("ev-1")), nil)
	wantErr(t, "duplicate hash with an event", s.CreateRefreshToken(ctx, newToken("h1", "fam2", at(1)), login("ev-2")), store.ErrConflict)
	wantErr(t, "event id taken", s.CreateRefreshToken(ctx, newToken("h3", "fam3", at(1)), login("ev-1")), store.ErrConflict)
	events, _, err := s.ListAuditEvents(ctx, store.AuditFilter{Action: "login"}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].ID != "ev-1" {
		t.Errorf("audit events %+v, want ev-1 alone", events)
	}
	for _, hash := range []string{"h3"} {
		if _, err := s.GetRefreshToken(ctx, hash); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s stored though its event failed: %v", hash, err)
		}
	}
}
