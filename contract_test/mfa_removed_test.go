package contract_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// TestRemoveMyTOTPWithoutFactor: DELETE /v1/me/mfa/totp by a user who has
// no second factor (never enrolled, or an administrator removed it) is a
// 404, not a 403 asking for a second step the user cannot take.
func TestRemoveMyTOTPWithoutFactor(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	ctx := context.Background()
	admin := s.adminToken(t)
	noFactor := func(what, token string) {
		t.Helper()
		r, err := s.Client.RemoveMyTotpWithResponse(ctx, bearer(token))
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode() != http.StatusNotFound {
			t.Errorf("%s: %d %s, want 404", what, r.StatusCode(), r.Body)
			return
		}
		wantProblem(t, r.HTTPResponse, r.Body, http.StatusNotFound)
	}

	s.createUser(t, admin, client.UserCreate{Username: "yuri", Password: "yuri-password"})
	noFactor("never enrolled", s.login(t, "yuri", "yuri-password").AccessToken)

	zoe := s.createUser(t, admin, client.UserCreate{Username: "zoe", Password: "zoe-password"})
	secret, used, _ := enrol(t, s, clk, s.login(t, "zoe", "zoe-password").AccessToken)
	clk.Advance(30 * time.Second) // the next code: the confirming one counts as used
	otp := mfaGrant(t, s, grantMFAOTP, mfaToken(t, s, "zoe", "zoe-password"), totpCode(t, secret, clk.Now()))
	if otp.JSON200 == nil || totpCode(t, secret, clk.Now()) == used {
		t.Fatalf("TOTP login: %d %s", otp.StatusCode(), otp.Body)
	}
	if r, _ := s.Client.RemoveUserMfaWithResponse(ctx, zoe.Id, bearer(admin)); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("the administrator's removal: %d %s", r.StatusCode(), r.Body)
	}
	noFactor("removed by an administrator, password login", s.login(t, "zoe", "zoe-password").AccessToken)
	noFactor("removed by an administrator, the earlier TOTP login", otp.JSON200.AccessToken)
}
