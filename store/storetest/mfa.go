package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store"
)

// testSecondFactor: TOTP factors (pending, confirmed, the once-only time
// step), recovery codes, mfa tokens, a role's mfa_required, a family's amr
// and the conditional replacement of a signing key's private part.
func testSecondFactor(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	u := newUser("u-mfa", "mfa", at(1))
	mustCreateUser(t, s, u)

	wantErr(t, "pending for an unknown user", s.PutPendingTOTP(ctx, store.TOTPFactor{UserID: "nobody", Secret: []byte("s"), CreatedAt: at(2)}), store.ErrNotFound)
	if err := s.PutPendingTOTP(ctx, store.TOTPFactor{UserID: u.ID, Secret: []byte("first"), CreatedAt: at(2)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPendingTOTP(ctx, store.TOTPFactor{UserID: u.ID, Secret: []byte("second"), CreatedAt: at(3)}); err != nil {
		t.Fatalf("replace a pending factor: %v", err)
	}
	f, err := s.GetTOTPFactor(ctx, u.ID)
	if err != nil || string(f.Secret) != "second" || f.ConfirmedAt != nil || !f.CreatedAt.Equal(at(3)) {
		t.Fatalf("pending factor: %+v %v", f, err)
	}
	if got, _ := s.GetUser(ctx, u.ID); got.MFAEnabled {
		t.Error("mfa enabled before confirmation")
	}
	wantErr(t, "use a step of a pending factor", s.UseTOTPStep(ctx, u.ID, 10), store.ErrTokenSpent)
	if err := s.ConfirmTOTP(ctx, u.ID, 100, at(4), []string{"c1", "c2"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "confirm twice", s.ConfirmTOTP(ctx, u.ID, 101, at(5), nil), store.ErrNotFound)
	wantErr(t, "pending over a confirmed factor", s.PutPendingTOTP(ctx, store.TOTPFactor{UserID: u.ID, Secret: []byte("x"), CreatedAt: at(5)}), store.ErrConflict)
	for _, get := range []func() (store.User, error){
		func() (store.User, error) { return s.GetUser(ctx, u.ID) },
		func() (store.User, error) { return s.GetUserByLogin(ctx, "MFA") },
	} {
		if got, err := get(); err != nil || !got.MFAEnabled {
			t.Errorf("mfa enabled after confirmation: %v %v", got.MFAEnabled, err)
		}
	}
	if users, _, _ := s.ListUsers(ctx, store.UserFilter{Query: "mfa"}, store.Page{}); len(users) != 1 || !users[0].MFAEnabled {
		t.Errorf("list: %+v", users)
	}

	// The step: later ones only; of two concurrent uses of one, one wins.
	wantErr(t, "the confirming step again", s.UseTOTPStep(ctx, u.ID, 100), store.ErrTokenSpent)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = s.UseTOTPStep(ctx, u.ID, 101) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else if !errors.Is(err, store.ErrTokenSpent) {
			t.Errorf("concurrent use: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent uses of one step won, want 1", won)
	}
	wantErr(t, "an earlier step", s.UseTOTPStep(ctx, u.ID, 99), store.ErrTokenSpent)

	// Recovery codes: each once; replacing voids the old ones.
	if err := s.UseRecoveryCode(ctx, u.ID, "c1", at(6)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "a used code", s.UseRecoveryCode(ctx, u.ID, "c1", at(7)), store.ErrNotFound)
	wantErr(t, "another user's code", s.UseRecoveryCode(ctx, "nobody", "c2", at(7)), store.ErrNotFound)
	if err := s.ReplaceRecoveryCodes(ctx, u.ID, []string{"d1"}, at(8)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "a voided code", s.UseRecoveryCode(ctx, u.ID, "c2", at(9)), store.ErrNotFound)
	wantErr(t, "a new code", s.UseRecoveryCode(ctx, u.ID, "d1", at(9)), nil)

	if secrets, err := s.ListTOTPSecrets(ctx); err != nil || string(secrets[u.ID]) != "second" || len(secrets) != 1 {
		t.Errorf("ListTOTPSecrets: %v %v", secrets, err)
	}
	if err := s.DeleteTOTPFactor(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete twice", s.DeleteTOTPFactor(ctx, u.ID), store.ErrNotFound)
	if got, _ := s.GetUser(ctx, u.ID); got.MFAEnabled {
		t.Error("mfa enabled after delete")
	}
	if err := s.ReplaceRecoveryCodes(ctx, u.ID, []string{"e1"}, at(10)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTOTPFactor(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete without a factor: %v", err)
	}

	// mfa tokens: failures counted, spent once, not after too many.
	tok := store.MFAToken{Hash: "m1", UserID: u.ID, AppID: "app-default", Scope: "profile", CreatedAt: at(20), ExpiresAt: at(320)}
	if err := s.CreateMFAToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "duplicate mfa token", s.CreateMFAToken(ctx, tok), store.ErrConflict)
	if got, err := s.GetMFAToken(ctx, "m1"); err != nil || got.UserID != u.ID || got.AppID != "app-default" || got.Scope != "profile" || got.Failures != 0 || got.UsedAt != nil || !got.ExpiresAt.Equal(at(320)) {
		t.Fatalf("GetMFAToken: %+v %v", got, err)
	}
	for want := 1; want <= 2; want++ {
		if n, err := s.FailMFAToken(ctx, "m1"); err != nil || n != want {
			t.Errorf("FailMFAToken = %d, %v; want %d", n, err, want)
		}
	}
	wantErr(t, "spend with too many failures", s.SpendMFAToken(ctx, "m1", 2, at(21)), store.ErrTokenSpent)
	if err := s.SpendMFAToken(ctx, "m1", 3, at(21)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "spend twice", s.SpendMFAToken(ctx, "m1", 3, at(22)), store.ErrTokenSpent)
	_, err = s.FailMFAToken(ctx, "nope")
	wantErr(t, "fail an unknown token", err, store.ErrNotFound)
	// A new token purges the expired ones.
	if err := s.CreateMFAToken(ctx, store.MFAToken{Hash: "m2", UserID: u.ID, AppID: "app-default", CreatedAt: at(400), ExpiresAt: at(700)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetMFAToken(ctx, "m1")
	wantErr(t, "an expired token after a purge", err, store.ErrNotFound)

	// A role's mfa_required and a family's amr round-trip.
	if _, err := s.PutRole(ctx, store.Role{Name: "staff", Code: 5, Scopes: []string{"profile"}, MFARequired: true}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.GetRole(ctx, "staff"); err != nil || !r.MFARequired {
		t.Errorf("role: %+v %v", r, err)
	}
	if _, err := s.PutRole(ctx, store.Role{Name: "staff", Code: 5, Scopes: []string{"profile"}}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.GetRole(ctx, "staff"); err != nil || r.MFARequired {
		t.Errorf("role replaced without mfa_required: %+v %v", r, err)
	}
	rt := store.RefreshToken{Hash: "rt-mfa", FamilyID: "fam-mfa", UserID: u.ID, AppID: "app-default", CreatedAt: at(30), ExpiresAt: at(90), AMR: "pwd otp"}
	if err := s.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	next := store.RefreshToken{Hash: "rt-mfa-2", CreatedAt: at(31), ExpiresAt: at(91)}
	if err := s.RotateRefreshToken(ctx, "rt-mfa", next, at(31)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRefreshToken(ctx, "rt-mfa-2"); err != nil || got.AMR != "pwd otp" {
		t.Errorf("the family's amr on its next token: %q %v", got.AMR, err)
	}

	// A signing key's private part is replaced only while it is the old.
	if err := s.CreateSigningKey(ctx, store.SigningKey{KID: "k-seal", Alg: "ES256", PrivateKey: []byte("plain"), CreatedAt: at(1), ActiveFrom: at(1)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ReplaceSigningKeyPrivate(ctx, "k-seal", []byte("other"), []byte("sealed")); err != nil || ok {
		t.Errorf("replace of a changed key: %v %v", ok, err)
	}
	if ok, err := s.ReplaceSigningKeyPrivate(ctx, "k-seal", []byte("plain"), []byte("sealed")); err != nil || !ok {
		t.Errorf("replace: %v %v", ok, err)
	}
	keys, _ := s.ListSigningKeys(ctx)
	for _, k := range keys {
		if k.KID == "k-seal" && string(k.PrivateKey) != "sealed" {
			t.Errorf("key after replace: %q", k.PrivateKey)
		}
	}
}
