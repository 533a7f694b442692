package contract_test

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/auth/seal"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/internal/testserver"
	"github.com/gatehouse-auth/gatehouse/store"
)

const (
	grantMFAOTP      = client.TokenRequestGrantTypeHttpauth0ComoauthgrantTypemfaOtp
	grantMFARecovery = client.TokenRequestGrantTypeHttpauth0ComoauthgrantTypemfaRecoveryCode
)

// totpCode is the authenticator's code for secret at now.
func totpCode(t testing.TB, secret string, now time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, now, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrol enrols and confirms a TOTP factor for the holder of token and
// returns the secret, the code that confirmed it and the recovery codes.
func enrol(t testing.TB, s *server, clk interface{ Now() time.Time }, token string) (secret, used string, codes []string) {
	t.Helper()
	ctx := context.Background()
	e, err := s.Client.EnrollTotpWithResponse(ctx, bearer(token))
	if err != nil || e.JSON200 == nil {
		t.Fatalf("enrol: %v %d %s", err, e.StatusCode(), e.Body)
	}
	used = totpCode(t, e.JSON200.Secret, clk.Now())
	c, err := s.Client.ConfirmTotpWithResponse(ctx, client.TOTPConfirm{Code: used}, bearer(token))
	if err != nil || c.JSON200 == nil {
		t.Fatalf("confirm: %v %d %s", err, c.StatusCode(), c.Body)
	}
	return e.JSON200.Secret, used, c.JSON200.RecoveryCodes
}

// passwordGrant runs the password grant.
func passwordGrant(t testing.TB, s *server, username, password string) *client.CreateTokenResponse {
	t.Helper()
	r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mfaToken runs the password grant of a user with a factor and returns
// the mfa_token of its 403.
func mfaToken(t testing.TB, s *server, username, password string) string {
	t.Helper()
	r := passwordGrant(t, s, username, password)
	if r.JSON403 == nil || r.JSON403.Error != client.MfaRequired || r.JSON403.MfaToken == "" || r.JSON403.ErrorDescription == "" {
		t.Fatalf("password grant of a TOTP user: %d %s", r.StatusCode(), r.Body)
	}
	if cc := r.HTTPResponse.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("mfa_required Cache-Control %q", cc)
	}
	return r.JSON403.MfaToken
}

// mfaGrant runs the mfa-otp (otp) or mfa-recovery-code grant.
func mfaGrant(t testing.TB, s *server, grant client.TokenRequestGrantType, token, code string, edit ...func(*client.CreateTokenFormdataRequestBody)) *client.CreateTokenResponse {
	t.Helper()
	body := client.CreateTokenFormdataRequestBody{GrantType: grant, MfaToken: &token}
	if grant == grantMFAOTP {
		body.Otp = &code
	} else {
		body.RecoveryCode = &code
	}
	for _, e := range edit {
		e(&body)
	}
	r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantInvalidGrant(t testing.TB, what string, r *client.CreateTokenResponse) {
	t.Helper()
	if r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Errorf("%s: %d %s, want 400 invalid_grant", what, r.StatusCode(), r.Body)
	}
}

func amrOf(t *testing.T, token string) []string {
	t.Helper()
	var out []string
	raw, _ := mustClaims(t, token)["amr"].([]any)
	for _, v := range raw {
		out = append(out, v.(string))
	}
	return out
}

// TestTOTPLifecycle walks a user through the second factor: enrolment and
// its Key URI, confirmation (a wrong code, the recovery codes, the other
// sessions ended), the mfa_required answer, the mfa-otp grant (replay,
// skew, spent mfa_token), amr across a refresh, recovery codes (single
// use, regenerated), and removal.
func TestTOTPLifecycle(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk), noReuseInterval)
	ctx := context.Background()
	admin := s.adminToken(t)
	tess := s.createUser(t, admin, client.UserCreate{Username: "tess", Password: "tess-password"})
	if tess.MfaEnabled {
		t.Fatal("a new user has mfa_enabled")
	}
	first := s.login(t, "tess", "tess-password")
	if amr := amrOf(t, first.AccessToken); !slices.Equal(amr, []string{"pwd"}) {
		t.Errorf("password login amr %v, want [pwd]", amr)
	}

	// Enrolment: a secret and a Key URI the library reads back.
	e, err := s.Client.EnrollTotpWithResponse(ctx, bearer(first.AccessToken))
	if err != nil || e.JSON200 == nil {
		t.Fatalf("enrol: %v %d %s", err, e.StatusCode(), e.Body)
	}
	key, err := otp.NewKeyFromURL(e.JSON200.OtpauthUri)
	if err != nil {
		t.Fatal(err)
	}
	if key.Type() != "totp" || key.Issuer() != s.Svc.Issuer() || key.AccountName() != "tess" || key.Secret() != e.JSON200.Secret ||
		key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Errorf("otpauth_uri %s: type %s issuer %q account %q period %d digits %d alg %v", e.JSON200.OtpauthUri,
			key.Type(), key.Issuer(), key.AccountName(), key.Period(), key.Digits(), key.Algorithm())
	}
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.JSON200.Secret); err != nil || len(raw) < 20 {
		t.Errorf("secret %q: %d bytes, %v; want at least 160 bits", e.JSON200.Secret, len(raw), err)
	}
	secret := e.JSON200.Secret
	// Unconfirmed, nothing changes.
	other := passwordGrant(t, s, "tess", "tess-password") // a second session, with the password alone
	if other.JSON200 == nil {
		t.Fatalf("login before confirmation: %d %s", other.StatusCode(), other.Body)
	}
	if me, _ := s.Client.GetMeWithResponse(ctx, bearer(first.AccessToken)); me.JSON200 == nil || me.JSON200.MfaEnabled {
		t.Errorf("mfa_enabled before confirmation: %s", me.Body)
	}

	// A wrong code is a 400 naming code.
	wrong := totpCode(t, secret, clk.Now().Add(-10*time.Minute))
	c, err := s.Client.ConfirmTotpWithResponse(ctx, client.TOTPConfirm{Code: wrong}, bearer(first.AccessToken))
	if err != nil || c.ApplicationproblemJSON400 == nil || len(deref(c.ApplicationproblemJSON400.Errors)) != 1 ||
		deref(deref(c.ApplicationproblemJSON400.Errors)[0].Field) != "code" {
		t.Fatalf("confirm with a wrong code: %v %d %s", err, c.StatusCode(), c.Body)
	}
	// The right one: ten distinct recovery codes; the other sessions end.
	confirmCode := totpCode(t, secret, clk.Now())
	c, err = s.Client.ConfirmTotpWithResponse(ctx, client.TOTPConfirm{Code: confirmCode}, bearer(first.AccessToken))
	if err != nil || c.JSON200 == nil {
		t.Fatalf("confirm: %v %d %s", err, c.StatusCode(), c.Body)
	}
	codes := c.JSON200.RecoveryCodes
	if len(codes) != 10 || len(slices.Compact(slices.Sorted(slices.Values(codes)))) != 10 {
		t.Errorf("recovery codes %v, want ten distinct", codes)
	}
	if r := refresh(t, s, other.JSON200.RefreshToken); r.JSON400 == nil {
		t.Errorf("refresh of another session from before the confirmation: %d, want 400", r.StatusCode())
	}
	if r := refresh(t, s, first.RefreshToken); r.JSON200 == nil {
		t.Errorf("refresh of the confirming session: %d %s, want 200 (only the other sessions end)", r.StatusCode(), r.Body)
	}
	if me, _ := s.Client.GetMeWithResponse(ctx, bearer(first.AccessToken)); me.JSON200 == nil || !me.JSON200.MfaEnabled {
		t.Errorf("mfa_enabled after confirmation: %s", me.Body)
	}
	if u, _ := s.Client.GetUserWithResponse(ctx, tess.Id, bearer(admin)); u.JSON200 == nil || !u.JSON200.MfaEnabled {
		t.Errorf("admin's view of mfa_enabled: %s", u.Body)
	}
	if r, _ := s.Client.EnrollTotpWithResponse(ctx, bearer(first.AccessToken)); r.ApplicationproblemJSON409 == nil {
		t.Errorf("enrol with an active factor: %d, want 409", r.StatusCode())
	}
	if r, _ := s.Client.ConfirmTotpWithResponse(ctx, client.TOTPConfirm{Code: confirmCode}, bearer(first.AccessToken)); r.ApplicationproblemJSON409 == nil {
		t.Errorf("confirm with nothing enrolled: %d, want 409", r.StatusCode())
	}

	// Logging in: 403 mfa_required, then the mfa-otp grant.
	mt := mfaToken(t, s, "tess", "tess-password")
	wantInvalidGrant(t, "the confirming code again (replay)", mfaGrant(t, s, grantMFAOTP, mt, confirmCode))
	wantInvalidGrant(t, "a code two steps old", mfaGrant(t, s, grantMFAOTP, mt, totpCode(t, secret, clk.Now().Add(-60*time.Second))))
	// One step of skew: a minute on, the code of the step before is
	// still good.
	clk.Set(60 * time.Second)
	ok := mfaGrant(t, s, grantMFAOTP, mt, totpCode(t, secret, clk.Now().Add(-30*time.Second)))
	if ok.JSON200 == nil {
		t.Fatalf("mfa-otp with the previous step's code: %d %s", ok.StatusCode(), ok.Body)
	}
	otpTok := ok.JSON200
	if amr := amrOf(t, otpTok.AccessToken); !slices.Equal(amr, []string{"pwd", "otp"}) {
		t.Errorf("mfa-otp amr %v", amr)
	}
	wantInvalidGrant(t, "a spent mfa_token", mfaGrant(t, s, grantMFAOTP, mt, totpCode(t, secret, clk.Now())))
	mt2 := mfaToken(t, s, "tess", "tess-password")
	wantInvalidGrant(t, "an accepted code again, within its window", mfaGrant(t, s, grantMFAOTP, mt2, totpCode(t, secret, clk.Now().Add(-30*time.Second))))
	if r := mfaGrant(t, s, grantMFAOTP, mt2, totpCode(t, secret, clk.Now())); r.JSON200 == nil {
		t.Errorf("the next step's code: %d %s", r.StatusCode(), r.Body)
	}
	// A refresh keeps the family's amr.
	r := refresh(t, s, otpTok.RefreshToken)
	if r.JSON200 == nil {
		t.Fatalf("refresh: %d %s", r.StatusCode(), r.Body)
	}
	if amr := amrOf(t, r.JSON200.AccessToken); !slices.Equal(amr, []string{"pwd", "otp"}) {
		t.Errorf("refreshed amr %v, want the family's [pwd otp]", amr)
	}

	// Recovery codes: each once, case and dashes aside.
	rc := mfaGrant(t, s, grantMFARecovery, mfaToken(t, s, "tess", "tess-password"), strings.ToUpper(strings.ReplaceAll(codes[0], "-", "")))
	if rc.JSON200 == nil {
		t.Fatalf("mfa-recovery-code: %d %s", rc.StatusCode(), rc.Body)
	}
	recTok := rc.JSON200.AccessToken
	if amr := amrOf(t, recTok); !slices.Equal(amr, []string{"pwd", "mfa"}) {
		t.Errorf("recovery-code amr %v", amr)
	}
	wantInvalidGrant(t, "a used recovery code", mfaGrant(t, s, grantMFARecovery, mfaToken(t, s, "tess", "tess-password"), codes[0]))

	// New codes need a second-step token: not an API key.
	k := createAPIKey(t, s, bearer(otpTok.AccessToken), "laptop", nil)
	if r, _ := s.Client.RegenerateRecoveryCodesWithResponse(ctx, bearer(k.Key)); r.ApplicationproblemJSON403 == nil {
		t.Errorf("new recovery codes with an API key: %d, want 403", r.StatusCode())
	}
	regen, err := s.Client.RegenerateRecoveryCodesWithResponse(ctx, bearer(otpTok.AccessToken))
	if err != nil || regen.JSON200 == nil || len(regen.JSON200.RecoveryCodes) != 10 {
		t.Fatalf("new recovery codes: %v %d %s", err, regen.StatusCode(), regen.Body)
	}
	wantInvalidGrant(t, "an old recovery code after regeneration", mfaGrant(t, s, grantMFARecovery, mfaToken(t, s, "tess", "tess-password"), codes[1]))
	if r := mfaGrant(t, s, grantMFARecovery, mfaToken(t, s, "tess", "tess-password"), regen.JSON200.RecoveryCodes[3]); r.JSON200 == nil {
		t.Errorf("a new recovery code: %d %s", r.StatusCode(), r.Body)
	}

	// Removal needs an otp token: a recovery-code one is not enough.
	if r, _ := s.Client.RemoveMyTotpWithResponse(ctx, bearer(recTok)); r.ApplicationproblemJSON403 == nil {
		t.Errorf("remove with amr [pwd mfa]: %d, want 403", r.StatusCode())
	}
	if r, _ := s.Client.RemoveMyTotpWithResponse(ctx, bearer(otpTok.AccessToken)); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.StatusCode(), r.Body)
	}
	if r := passwordGrant(t, s, "tess", "tess-password"); r.JSON200 == nil || !slices.Equal(amrOf(t, r.JSON200.AccessToken), []string{"pwd"}) {
		t.Errorf("password login after removal: %d %s", r.StatusCode(), r.Body)
	}
	if r, _ := s.Client.RegenerateRecoveryCodesWithResponse(ctx, bearer(otpTok.AccessToken)); r.ApplicationproblemJSON409 == nil {
		t.Errorf("new recovery codes without a factor: %d, want 409", r.StatusCode())
	}
	// Audited.
	events, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{SubjectId: ptr(tess.Id.String())})
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.Action+" "+string(e.Outcome)] = true
	}
	for _, want := range []string{"mfa.enroll success", "mfa.enable failure", "mfa.enable success", "mfa.challenge success", "mfa.verify failure",
		"mfa.recovery_codes success", "mfa.remove success", "login success"} {
		if !seen[want] {
			t.Errorf("no %q audit event", want)
		}
	}
}

// TestMFATokenLimits: an mfa_token is bound to its application, lives five
// minutes and dies after five wrong codes, which are audited and do not
// count toward the password's lockout.
func TestMFATokenLimits(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk), func(c *authConfig) { c.MaxFailedLogins = 2 })
	ctx := context.Background()
	admin := s.adminToken(t)
	uma := s.createUser(t, admin, client.UserCreate{Username: "uma", Password: "uma-password"})
	secret, _, _ := enrol(t, s, clk, s.login(t, "uma", "uma-password").AccessToken)
	clk.Set(time.Minute)

	mt := mfaToken(t, s, "uma", "uma-password")
	good := totpCode(t, secret, clk.Now())
	bad := totpCode(t, secret, clk.Now().Add(time.Hour))
	if bad == good {
		bad = totpCode(t, secret, clk.Now().Add(2*time.Hour))
	}
	for i := range auth.MaxMFAFailures {
		wantInvalidGrant(t, "wrong code "+string(rune('1'+i)), mfaGrant(t, s, grantMFAOTP, mt, bad))
	}
	wantInvalidGrant(t, "the right code on a token dead of wrong codes", mfaGrant(t, s, grantMFAOTP, mt, good))
	// Not the password's lockout: the password still gets its mfa_token.
	mt = mfaToken(t, s, "uma", "uma-password")

	// Bound to its application.
	other, err := s.Client.CreateApplicationWithResponse(ctx, client.ApplicationCreate{Name: "other"}, bearer(admin))
	if err != nil || other.JSON201 == nil {
		t.Fatalf("create application: %v %s", err, other.Body)
	}
	otherID := other.JSON201.Id.String()
	wantInvalidGrant(t, "another application's client_id", mfaGrant(t, s, grantMFAOTP, mt, good, func(b *client.CreateTokenFormdataRequestBody) { b.ClientId = &otherID }))
	if r := mfaGrant(t, s, grantMFAOTP, mt, good, func(b *client.CreateTokenFormdataRequestBody) { b.ClientId = ptr(uuid.NewString()) }); r.JSON401 == nil {
		t.Errorf("unknown client_id: %d, want 401 invalid_client", r.StatusCode())
	}
	// Missing parameters, an unknown mfa_token.
	if r := mfaGrant(t, s, grantMFAOTP, mt, "", func(b *client.CreateTokenFormdataRequestBody) { b.Otp = nil }); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidRequest {
		t.Errorf("no otp: %d %s", r.StatusCode(), r.Body)
	}
	if r := mfaGrant(t, s, grantMFARecovery, "", "x", func(b *client.CreateTokenFormdataRequestBody) { b.MfaToken = nil }); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidRequest {
		t.Errorf("no mfa_token: %d %s", r.StatusCode(), r.Body)
	}
	wantInvalidGrant(t, "an unknown mfa_token", mfaGrant(t, s, grantMFAOTP, "not-a-token", good))
	// Five minutes.
	clk.Set(time.Minute + auth.MFATokenTTL)
	wantInvalidGrant(t, "an expired mfa_token", mfaGrant(t, s, grantMFAOTP, mt, totpCode(t, secret, clk.Now())))
	if r := mfaGrant(t, s, grantMFAOTP, mfaToken(t, s, "uma", "uma-password"), totpCode(t, secret, clk.Now())); r.JSON200 == nil {
		t.Errorf("a fresh mfa_token: %d %s", r.StatusCode(), r.Body)
	}
	// Wrong codes are audited, none locked the account.
	events, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{SubjectId: ptr(uma.Id.String())})
	wrong := 0
	for _, e := range events {
		if e.Action == "lockout" {
			t.Errorf("a lockout: %+v", e)
		}
		if e.Action == "mfa.verify" && strings.HasPrefix(deref(e.Detail), "wrong totp code") {
			wrong++
		}
	}
	if wrong != auth.MaxMFAFailures {
		t.Errorf("%d wrong codes audited, want %d", wrong, auth.MaxMFAFailures)
	}
}

// TestMFADialects: the dialects cannot carry a second step, so a TOTP
// user's dialect login fails as a wrong password does, bodies unchanged,
// audited with the cause mfa_required.
func TestMFADialects(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	admin := s.adminToken(t)
	vic := s.createUser(t, admin, client.UserCreate{Username: "vic", Password: "vic-password", Email: ptr(client.Email("vic@example.com"))})
	enrol(t, s, clk, s.login(t, "vic", "vic-password").AccessToken)
	app := s.defaultApplication(t, admin).Id.String()
	for _, tc := range []struct{ route, right, wrong string }{
		{"/v1/auth", `{"username": "vic", "password": "vic-password"}`, `{"username": "vic", "password": "wrong-password"}`},
		{"/user/login", `{"username": "vic", "password": "vic-password"}`, `{"username": "vic", "password": "wrong-password"}`},
		{"/api/user/authenticate", `{"userName": "vic", "password": "vic-password"}`, `{"userName": "vic", "password": "wrong-password"}`},
		{"/v1/authenticate", `{"email": "vic@example.com", "password": "vic-password", "resource": "` + app + `"}`,
			`{"email": "vic@example.com", "password": "wrong-password", "resource": "` + app + `"}`},
	} {
		gotStatus, got := call(t, s, tc.route, "application/json", tc.right, false)
		wantStatus, want := call(t, s, tc.route, "application/json", tc.wrong, false)
		if gotStatus != wantStatus || gotStatus < 400 {
			t.Errorf("%s: TOTP user %d, wrong password %d", tc.route, gotStatus, wantStatus)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%s: TOTP user's body %s, wrong password's %s", tc.route, gj, wj)
		}
	}
	// Nor does the password alone change the password over HTTP Basic
	// (the expired password's way out): refused as a wrong one is, and
	// the password stays.
	change := func(password string) *client.ChangeMyPasswordResponse {
		r, err := s.Client.ChangeMyPasswordWithResponse(context.Background(),
			client.PasswordChange{CurrentPassword: password, NewPassword: "taken-over-password"}, basic("vic", password))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	right, wrong := change("vic-password"), change("wrong-password")
	if right.ApplicationproblemJSON401 == nil || string(right.Body) != string(wrong.Body) {
		t.Errorf("TOTP user's password change over Basic: %d %s; a wrong password's: %d %s", right.StatusCode(), right.Body, wrong.StatusCode(), wrong.Body)
	}
	mfaToken(t, s, "vic", "vic-password") // the old password still opens the first step
	events, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{SubjectId: ptr(vic.Id.String())})
	causes := map[string]int{} // by dialect
	for _, e := range events {
		if e.Action == "login" && e.Outcome == client.Failure && deref(e.Detail) == "mfa_required" {
			causes[deref(e.Dialect)]++
		}
	}
	// One for each dialect's login, and one for the change over Basic.
	if len(causes) != 5 || slices.ContainsFunc(slices.Collect(maps.Values(causes)), func(n int) bool { return n != 1 }) {
		t.Errorf("logins audited with cause mfa_required, by dialect: %v; want one of each of the four dialects and of the native API", causes)
	}
}

// TestRoleRequiresMFA: a role with mfa_required lets its users without a
// factor log in with the scope cut to profile and amr [pwd], until they
// confirm one.
func TestRoleRequiresMFA(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	ctx := context.Background()
	admin := s.adminToken(t)
	r, err := s.Client.PutRoleWithResponse(ctx, "staff", client.RolePut{Code: 9, Scopes: []string{"profile", "users:read"}, MfaRequired: ptr(true)}, bearer(admin))
	if err != nil || r.JSON201 == nil || !r.JSON201.MfaRequired {
		t.Fatalf("put role: %v %d %s", err, r.StatusCode(), r.Body)
	}
	if g, _ := s.Client.GetRoleWithResponse(ctx, "staff", bearer(admin)); g.JSON200 == nil || !g.JSON200.MfaRequired {
		t.Errorf("get role: %s", g.Body)
	}
	s.createUser(t, admin, client.UserCreate{Username: "walt", Password: "walt-password", Role: ptr("staff")})
	tok := s.login(t, "walt", "walt-password")
	if tok.Scope != "profile" || !slices.Equal(amrOf(t, tok.AccessToken), []string{"pwd"}) {
		t.Errorf("login without the required factor: scope %q amr %v, want profile and [pwd]", tok.Scope, amrOf(t, tok.AccessToken))
	}
	if l, _ := s.Client.ListUsersWithResponse(ctx, &client.ListUsersParams{}, bearer(tok.AccessToken)); l.StatusCode() != http.StatusForbidden {
		t.Errorf("users:read before enrolling: %d, want 403", l.StatusCode())
	}
	secret, _, _ := enrol(t, s, clk, tok.AccessToken)
	clk.Set(30 * time.Second)
	done := mfaGrant(t, s, grantMFAOTP, mfaToken(t, s, "walt", "walt-password"), totpCode(t, secret, clk.Now()))
	if done.JSON200 == nil || done.JSON200.Scope != "profile users:read" {
		t.Fatalf("login with the factor: %d %s", done.StatusCode(), done.Body)
	}
	if l, _ := s.Client.ListUsersWithResponse(ctx, &client.ListUsersParams{}, bearer(done.JSON200.AccessToken)); l.JSON200 == nil {
		t.Errorf("users:read after the second step: %d", l.StatusCode())
	}
}

// TestAdminRemovesMFA: users:write removes a user's factor (a lost
// authenticator); the user logs in with the password alone again.
func TestAdminRemovesMFA(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	ctx := context.Background()
	admin := s.adminToken(t)
	xena := s.createUser(t, admin, client.UserCreate{Username: "xena", Password: "xena-password"})
	enrol(t, s, clk, s.login(t, "xena", "xena-password").AccessToken)
	mfaToken(t, s, "xena", "xena-password")
	if r, _ := s.Client.RemoveUserMfaWithResponse(ctx, xena.Id, bearer(admin)); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.StatusCode(), r.Body)
	}
	if r, _ := s.Client.RemoveUserMfaWithResponse(ctx, xena.Id, bearer(admin)); r.StatusCode() != http.StatusNoContent {
		t.Errorf("remove again: %d", r.StatusCode())
	}
	if r, _ := s.Client.RemoveUserMfaWithResponse(ctx, uuid.New(), bearer(admin)); r.ApplicationproblemJSON404 == nil {
		t.Errorf("remove of an unknown user: %d, want 404", r.StatusCode())
	}
	if r, _ := s.Client.RemoveUserMfaWithResponse(invalid(ctx), xena.Id, bearer(admin), replacePath(xena.Id.String(), "not-a-uuid")); r.ApplicationproblemJSON400 == nil {
		t.Errorf("remove with a malformed id: %d, want 400", r.StatusCode())
	}
	if r := passwordGrant(t, s, "xena", "xena-password"); r.JSON200 == nil {
		t.Errorf("login after removal: %d %s", r.StatusCode(), r.Body)
	}
	if u, _ := s.Client.GetUserWithResponse(ctx, xena.Id, bearer(admin)); u.JSON200 == nil || u.JSON200.MfaEnabled {
		t.Errorf("mfa_enabled after removal: %s", u.Body)
	}
	if r, _ := s.Client.RemoveUserMfaWithResponse(ctx, xena.Id, bearer(s.login(t, "xena", "xena-password").AccessToken)); r.StatusCode() != http.StatusForbidden {
		t.Errorf("remove without users:write: %d, want 403", r.StatusCode())
	}
}

// rawRows reads a column of every row of a table straight from the
// database, as a dump would.
func rawRows(t *testing.T, s *server, q string) [][]byte {
	t.Helper()
	p, ok := s.Store.(interface{ Pools() map[string]*sql.DB })
	if !ok {
		t.Fatal("store has no pools")
	}
	var db *sql.DB
	for _, d := range p.Pools() {
		db = d
	}
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestSecretsSealedAtRest: what the database holds of signing keys and TOTP
// secrets is sealed: no stored value parses as a private key or holds the
// secret, and the recovery codes are only hashes.
func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	admin := s.adminToken(t)
	if r, _ := s.Client.RotateSigningKeyWithResponse(context.Background(), &client.RotateSigningKeyParams{Alg: ptr(client.EdDSA)}, bearer(admin)); r.JSON200 == nil {
		t.Fatal("rotate")
	}
	s.createUser(t, admin, client.UserCreate{Username: "yuri", Password: "yuri-password"})
	secret, _, codes := enrol(t, s, clk, s.login(t, "yuri", "yuri-password").AccessToken)
	raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)

	keys := rawRows(t, s, `SELECT private_key FROM signing_keys`)
	if len(keys) < 3 {
		t.Fatalf("%d signing keys", len(keys))
	}
	for _, k := range keys {
		if _, err := x509.ParsePKCS8PrivateKey(k); err == nil {
			t.Error("a stored signing key parses as PKCS#8")
		}
		if !seal.IsSealed(k) {
			t.Errorf("stored signing key %.12q is not sealed", k)
		}
	}
	secrets := rawRows(t, s, `SELECT secret FROM totp_factors`)
	if len(secrets) != 1 {
		t.Fatalf("%d TOTP secrets", len(secrets))
	}
	for _, v := range secrets {
		if strings.Contains(string(v), secret) || strings.Contains(string(v), string(raw)) || !seal.IsSealed(v) {
			t.Errorf("stored TOTP secret holds the secret or is not sealed: %q", v)
		}
	}
	hashes := rawRows(t, s, `SELECT hash FROM recovery_codes`)
	if len(hashes) != 10 {
		t.Fatalf("%d recovery codes stored", len(hashes))
	}
	for _, h := range hashes {
		for _, c := range codes {
			if strings.Contains(string(h), c) || strings.Contains(string(h), strings.ReplaceAll(c, "-", "")) {
				t.Errorf("a stored recovery code holds the code %s", c)
			}
		}
	}
}

// TestMasterKey: with SQLite and no key given, a 0600 key file is made
// beside the database and reused; PostgreSQL without a key, or a wrong
// key, fails at start with a clear message; signing keys stored plain
// (before sealing) are sealed at start, once.
func TestMasterKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testserver.FreshDB(t)
	key, _ := seal.GenerateKey()
	o := gatehouse.Options{DB: db, Hash: testHashParams}
	if store.IsPostgresURL(db) {
		if _, err := gatehouse.Open(ctx, o); err == nil || !strings.Contains(err.Error(), "--master-key-file is required with PostgreSQL") {
			t.Errorf("PostgreSQL without a master key: %v", err)
		}
		o.MasterKey = key
	}
	// A database from before sealing: a plain signing key.
	st, err := store.OpenMigrated(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := auth.GenerateSigningKey(auth.AlgES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSigningKey(ctx, plain); err != nil {
		t.Fatal(err)
	}
	st.Close()

	open := func(o gatehouse.Options) (*gatehouse.Instance, error) {
		inst, err := gatehouse.Open(ctx, o)
		if err == nil {
			t.Cleanup(func() { inst.Close() })
		}
		return inst, err
	}
	inst, err := open(o)
	if err != nil {
		t.Fatal(err)
	}
	if !store.IsPostgresURL(db) {
		fi, err := os.Stat(gatehouse.DefaultMasterKeyFile(db))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("master key file beside the database: %v %v", fi, err)
		}
	}
	sealedOnce := map[string][]byte{}
	keys, _ := inst.Store.ListSigningKeys(ctx)
	for _, k := range keys {
		if !seal.IsSealed(k.PrivateKey) {
			t.Errorf("key %s not sealed at start", k.KID)
		}
		sealedOnce[k.KID] = k.PrivateKey
		if k.KID == plain.KID {
			if u, err := inst.Service.UnsealSigningKey(k); err != nil || string(u.PrivateKey) != string(plain.PrivateKey) {
				t.Errorf("the plain key, sealed, does not open to itself: %v", err)
			}
		}
	}
	if _, ok := sealedOnce[plain.KID]; !ok {
		t.Fatal("the plain key is gone")
	}
	inst.Close()
	// Again: the same key opens it, nothing is sealed twice.
	inst, err = open(o)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ = inst.Store.ListSigningKeys(ctx)
	for _, k := range keys {
		if string(k.PrivateKey) != string(sealedOnce[k.KID]) {
			t.Errorf("key %s sealed again at the second start", k.KID)
		}
	}
	inst.Close()
	// A wrong key fails the start.
	wrong, _ := seal.GenerateKey()
	o.MasterKey = wrong
	if _, err := open(o); err == nil || !strings.Contains(err.Error(), "master key does not open") {
		t.Errorf("start with a wrong master key: %v", err)
	}
	// A key file that is not a key.
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte("not base64!"), 0o600)
	o.MasterKey, o.MasterKeyFile = nil, bad
	if _, err := open(o); err == nil || !strings.Contains(err.Error(), "master key file") {
		t.Errorf("start with a malformed key file: %v", err)
	}
}
