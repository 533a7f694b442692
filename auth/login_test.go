package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestEveryLoginFailureCostsOneHash: an unknown user, a disabled one, a
// locked one and a wrong password each cost exactly one password hash,
// so none can be told from another by timing.
func TestEveryLoginFailureCostsOneHash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openTestStore(t)
	hasher := NewHasher(testHashParams, 1, 0)
	var hashes atomic.Int64
	hasher.OnWait(func(time.Duration) { hashes.Add(1) })
	svc := New(st, hasher, Config{AdminScopes: []string{"profile"}, UserScopes: []string{"profile"}, MaxFailedLogins: 3})
	if err := svc.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "disabled", "locked"} {
		if _, err := svc.CreateUser(ctx, NewUser{Username: name, Password: "right-password"}, "", Origin{}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := st.GetUserByLogin(ctx, "disabled")
	u := before
	u.Disabled = true
	if _, err := svc.UpdateUser(ctx, before, u, "", Origin{}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		svc.Login(ctx, LoginRequest{Login: "locked", Password: "wrong"})
	}
	cases := []struct{ name, login, password string }{
		{"unknown user", "nobody", "right-password"},
		{"wrong password", "alice", "wrong-password"},
		{"disabled", "disabled", "right-password"},
		{"locked", "locked", "right-password"},
		{"success", "alice", "right-password"},
	}
	for _, tc := range cases {
		before := hashes.Load()
		_, err := svc.Login(ctx, LoginRequest{Login: tc.login, Password: tc.password})
		if (tc.name == "success") != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidCredentials)) {
			t.Errorf("%s: err %v", tc.name, err)
		}
		if n := hashes.Load() - before; n != 1 {
			t.Errorf("%s cost %d password hashes, want 1", tc.name, n)
		}
	}
}
