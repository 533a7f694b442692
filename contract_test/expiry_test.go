package contract_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

func basic(login, password string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.SetBasicAuth(login, password)
		return nil
	}
}

// TestExpiredPasswordWayOut: an expired password logs in nowhere, yet it
// is accepted, over HTTP Basic, to change itself.
func TestExpiredPasswordWayOut(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	u := s.createUser(t, admin, client.UserCreate{Username: "grace", Password: "old-password"})
	var upd client.UserUpdate
	upd.PasswordExpiresAt.Set(time.Now().Add(-time.Minute))
	patchUser(t, s, admin, u.Id.String(), upd)

	resp, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: ptr("grace"), Password: ptr("old-password"),
	})
	if err != nil || resp.JSON400 == nil || resp.JSON400.Error != client.OAuthErrorErrorInvalidGrant || *resp.JSON400.ErrorDescription != "password expired" {
		t.Fatalf("expired login: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	change := func(auth client.RequestEditorFn, current, next string) *client.ChangeMyPasswordResponse {
		t.Helper()
		r, err := s.Client.ChangeMyPasswordWithResponse(ctx, client.PasswordChange{CurrentPassword: current, NewPassword: next}, auth)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := change(basic("grace", "wrong-password"), "wrong-password", "new-password"); r.ApplicationproblemJSON401 == nil {
		t.Fatalf("wrong Basic password: %d %s", r.StatusCode(), r.Body)
	}
	if r := change(basic("grace", "old-password"), "old-password", "new-password"); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("change expired password over Basic: %d %s", r.StatusCode(), r.Body)
	}
	tok := s.login(t, "grace", "new-password")
	// The new password does not expire; the old one is gone.
	if me, _ := s.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken)); me.JSON200 == nil || !me.JSON200.PasswordExpiresAt.IsNull() {
		t.Fatalf("me after change: %d %s", me.StatusCode(), me.Body)
	}
	// Basic credentials open this one operation only.
	if r, _ := s.Client.GetMeWithResponse(ctx, basic("grace", "new-password")); r.StatusCode() != http.StatusUnauthorized {
		t.Fatalf("Basic on /v1/me: %d", r.StatusCode())
	}
}
