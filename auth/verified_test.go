package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestVerifiedTokensCheckedOnEveryUse: a token whose signature is
// remembered is still refused once it expires, for another audience,
// when its session ends and when its key leaves the keyring.
func TestVerifiedTokensCheckedOnEveryUse(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	clock := newTestClock()
	svc := newTestService(t, st, Config{AdminScopes: []string{"profile"}, UserScopes: []string{"profile"}, Now: clock.Now}, "alice")
	login := func() Tokens { return mustLogin(t, svc, "alice") }
	verifies := func(what, token string, want bool) {
		t.Helper()
		_, err := svc.VerifyOwnAccessToken(ctx, token)
		if (err == nil) != want || (err != nil && !errors.Is(err, ErrInvalidToken)) {
			t.Errorf("%s: err %v, want accepted %v", what, err, want)
		}
	}

	sess := login()
	token := sess.Access.Token
	verifies("first use", token, true)
	if _, ok := svc.verified.get(svc.Keys(), token); !ok {
		t.Fatal("a verified token is not remembered")
	}
	verifies("second use (remembered)", token, true)
	if _, err := svc.VerifyAccessToken(ctx, token, "https://another.example"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("remembered token for another audience: err %v", err)
	}

	clock.At(sess.Access.ExpiresAt.Add(svc.cfg.Leeway + time.Second))
	verifies("past exp + leeway", token, false)

	sess = login()
	verifies("new token", sess.Access.Token, true)
	if err := svc.EndSession(ctx, sess.User.ID, sess.Access.Claims.SessionID, sess.User.ID, Origin{}); err != nil {
		t.Fatal(err)
	}
	verifies("session ended", sess.Access.Token, false)

	sess = login()
	verifies("token of the old key", sess.Access.Token, true)
	if _, err := svc.RotateSigningKey(ctx, "", true, "", Origin{}); err != nil {
		t.Fatal(err)
	}
	verifies("old key retired, still published", sess.Access.Token, true)
	if err := st.DeleteSigningKeysRetiredBefore(ctx, clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := svc.ReloadSigningKeys(ctx); err != nil {
		t.Fatal(err)
	}
	verifies("old key removed", sess.Access.Token, false)
}

// TestVerifiedTokensBounded: the cache keeps at most two generations, and
// a token in use survives the turnover.
func TestVerifiedTokensBounded(t *testing.T) {
	var v verifiedTokens
	keys := &Keyring{}
	v.put(keys, "in use", Claims{Scope: "kept"})
	for i := range 3 * verifiedTokensPerGeneration {
		v.put(keys, fmt.Sprint("token ", i), Claims{})
		if i%1000 == 0 {
			if _, ok := v.get(keys, "in use"); !ok {
				t.Fatalf("the token in use was dropped after %d others", i)
			}
		}
	}
	if n := len(v.cur) + len(v.old); n > 2*verifiedTokensPerGeneration {
		t.Errorf("%d tokens kept, want at most %d", n, 2*verifiedTokensPerGeneration)
	}
	if _, ok := v.get(keys, "token 0"); ok {
		t.Error("the oldest token is still kept")
	}
	if _, ok := v.get(&Keyring{}, "in use"); ok {
		t.Error("a token is remembered under another keyring")
	}
}

// BenchmarkVerifyAccessToken verifies one ES256 token again and again:
// remembered (as a client's repeated requests are) and, for comparison in
// the same run, with the cache emptied before every verification.
func BenchmarkVerifyAccessToken(b *testing.B) {
	ctx := context.Background()
	svc := newTestService(b, openTestStore(b), Config{AdminScopes: []string{"profile"}, UserScopes: []string{"profile"}}, "bench")
	sess, err := svc.Login(ctx, LoginRequest{Login: "bench", Password: "bench-password"})
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"not-remembered", "remembered"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				if mode == "not-remembered" {
					svc.verified.put(nil, "", Claims{}) // another keyring: empties it
				}
				if _, err := svc.VerifyOwnAccessToken(ctx, sess.Access.Token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
