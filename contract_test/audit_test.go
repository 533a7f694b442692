package contract_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/store"
)

// realClock is the clock of a server that runs on real time.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// allAuditEvents pages through /v1/audit-events.
func allAuditEvents(t *testing.T, s *server, token string, params client.ListAuditEventsParams) ([]client.AuditEvent, []string) {
	t.Helper()
	var events []client.AuditEvent
	var bodies []string
	params.Limit = ptr(7)
	for {
		r, err := s.Client.ListAuditEventsWithResponse(context.Background(), &params, bearer(token))
		if err != nil || r.JSON200 == nil {
			t.Fatalf("list audit events: %v %d %s", err, r.StatusCode(), r.Body)
		}
		events = append(events, r.JSON200.Items...)
		bodies = append(bodies, string(r.Body))
		if r.JSON200.NextCursor == nil {
			return events, bodies
		}
		params.Cursor = r.JSON200.NextCursor
	}
}

// TestAuditAndNoSecrets runs a full session, checks what the audit log
// recorded, then scans every audit row, every list response and the whole
// server log for the secrets used: none may appear.
func TestAuditAndNoSecrets(t *testing.T) {
	t.Parallel()
	mb := startMailbox(t, false)
	s := newServer(t, noReuseInterval, func(c *authConfig) { c.MaxFailedLogins = 2 }, withMail(mb, t))
	ctx := context.Background()
	secrets := map[string]string{"admin password": adminPassword}
	admin := s.adminToken(t)
	start := time.Now().Add(-time.Second)

	// A session: users, logins in every dialect, failures, a lockout,
	// refreshes and a reuse, revocations, API keys, a role, a key rotation.
	dave := s.createUser(t, admin, client.UserCreate{Username: "dave", Password: "dave-secret-password", Email: ptr(client.Email("dave@example.com"))})
	secrets["dave's password"] = "dave-secret-password"
	s.createUser(t, admin, client.UserCreate{Username: "erin", Password: "erin-secret-password"})
	secrets["erin's password"] = "erin-secret-password"
	tok := s.login(t, "dave", "dave-secret-password")
	secrets["refresh token"] = tok.RefreshToken
	r1 := refresh(t, s, tok.RefreshToken)
	secrets["rotated refresh token"] = r1.JSON200.RefreshToken
	refresh(t, s, tok.RefreshToken) // reuse: the family is revoked
	for _, body := range []string{
		`{"username": "dave", "password": "wrong-password-1"}`,
		`{"username": "erin", "password": "wrong-password-2"}`,
		`{"username": "erin", "password": "wrong-password-3"}`, // locks erin
		`{"username": "nobody", "password": "wrong-password-4"}`,
	} {
		call(t, s, "/v1/auth", "application/json", body, false)
	}
	for i := 1; i <= 4; i++ {
		secrets["wrong password"+string(rune('0'+i))] = "wrong-password-" + string(rune('0'+i))
	}
	status, apiUser := call(t, s, "/api/user/authenticate", "application/json", `{"userName": "dave", "password": "dave-secret-password"}`, false)
	if status != 200 {
		t.Fatalf("api-user login: %d", status)
	}
	secrets["api-user refresh token"] = apiUser["refreshToken"].(string)
	call(t, s, "/user/login", "application/json", `{"username": "dave", "password": "dave-secret-password"}`, false)
	daveTok := s.login(t, "dave", "dave-secret-password")
	key := createAPIKey(t, s, bearer(daveTok.AccessToken), "laptop", nil)
	secrets["api key"] = key.Key
	if r, _ := s.Client.GetMeWithResponse(ctx, apiKeyHeader(key.Key)); r.JSON200 == nil {
		t.Fatalf("api key: %d", r.StatusCode())
	}
	if r, _ := s.Client.DeleteApiKeyWithResponse(ctx, key.Id, bearer(daveTok.AccessToken)); r.StatusCode() != 204 {
		t.Fatal("delete api key")
	}
	if r, _ := s.Client.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: daveTok.RefreshToken}); r.StatusCode() != 200 {
		t.Fatal("revoke")
	}
	secrets["revoked refresh token"] = daveTok.RefreshToken
	// Revoking the refresh token ended its session, access token and all.
	daveTok = s.login(t, "dave", "dave-secret-password")
	if r, _ := s.Client.ChangeMyPasswordWithResponse(ctx, client.PasswordChange{CurrentPassword: "dave-secret-password", NewPassword: "dave-new-secret"}, bearer(daveTok.AccessToken)); r.StatusCode() != 204 {
		t.Fatalf("change password: %d", r.StatusCode())
	}
	secrets["dave's new password"] = "dave-new-secret"
	if r, _ := s.Client.PutRoleWithResponse(ctx, "auditor", client.RolePut{Code: 7, Scopes: []string{"audit:read"}}, bearer(admin)); r.JSON201 == nil {
		t.Fatal("put role")
	}
	if r, _ := s.Client.RotateSigningKeyWithResponse(ctx, nil, bearer(admin)); r.JSON200 == nil {
		t.Fatal("rotate")
	}
	patchUser(t, s, admin, dave.Id.String(), client.UserUpdate{FirstName: ptr("David")})

	// A second factor: its secret, recovery codes and mfa_tokens are
	// secrets (the server runs on the real clock here).
	s.createUser(t, admin, client.UserCreate{Username: "fay", Password: "fay-secret-password"})
	secrets["fay's password"] = "fay-secret-password"
	totpSecret, _, codes := enrol(t, s, realClock{}, s.login(t, "fay", "fay-secret-password").AccessToken)
	secrets["totp secret"] = totpSecret
	mt := mfaToken(t, s, "fay", "fay-secret-password")
	secrets["mfa_token"] = mt
	wantInvalidGrant(t, "a wrong recovery code", mfaGrant(t, s, grantMFARecovery, mt, "wrong-recovery-code"))
	secrets["wrong recovery code"] = "wrong-recovery-code"
	rc := mfaGrant(t, s, grantMFARecovery, mt, codes[0])
	if rc.JSON200 == nil {
		t.Fatalf("recovery-code login: %d %s", rc.StatusCode(), rc.Body)
	}
	regen, _ := s.Client.RegenerateRecoveryCodesWithResponse(ctx, bearer(rc.JSON200.AccessToken))
	if regen.JSON200 == nil {
		t.Fatalf("new recovery codes: %d %s", regen.StatusCode(), regen.Body)
	}
	for i, c := range append(codes, regen.JSON200.RecoveryCodes...) {
		secrets["recovery code "+strconv.Itoa(i)] = c
		secrets["recovery code "+strconv.Itoa(i)+" (undashed)"] = strings.ReplaceAll(c, "-", "")
	}
	// Accounts by e-mail: each token, link and mail text is a secret.
	mailed := func(m delivered) {
		secrets["mailed token to "+m.To[0]+" "+m.Subject] = m.Token
		secrets["mailed link to "+m.To[0]+" "+m.Subject] = m.Link
		secrets["mail text to "+m.To[0]+" "+m.Subject] = strings.TrimSpace(m.Text)
	}
	if r, _ := s.Client.SignupWithResponse(ctx, client.SignupRequest{Username: "fred", Password: "fred-secret-password", Email: "fred@example.com"}); r.JSON201 == nil {
		t.Fatalf("sign-up: %d %s", r.StatusCode(), r.Body)
	}
	secrets["fred's password"] = "fred-secret-password"
	m := mb.next(t)
	mailed(m)
	if r := verifyEmail(t, s, m.Token); r.JSON200 == nil {
		t.Fatalf("verify: %d", r.StatusCode())
	}
	verifyEmail(t, s, m.Token) // spent: a failure
	forgot(t, s, "dave@example.com")
	forgot(t, s, "nobody@example.com")
	m = mb.next(t)
	mailed(m)
	resetPassword(t, s, m.Token, "short") // refused by the policy
	if r := resetPassword(t, s, m.Token, "dave-reset-secret"); r.StatusCode() != 204 {
		t.Fatalf("reset: %d %s", r.StatusCode(), r.Body)
	}
	secrets["dave's reset password"] = "dave-reset-secret"
	gina := s.createUser(t, admin, client.UserCreate{Username: "gina", Email: ptr(client.Email("gina@example.com")), Invite: ptr(true)})
	mailed(mb.next(t))
	if r, _ := s.Client.InviteUserWithResponse(ctx, gina.Id, bearer(admin)); r.JSON202 == nil {
		t.Fatalf("invite: %d", r.StatusCode()) // held back: within the minute
	}
	s.settle()

	// The hashes and private keys that now exist are secrets too.
	for _, name := range []string{"admin", "dave", "erin"} {
		u, err := s.Store.GetUserByLogin(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		secrets[name+"'s hash"] = u.PasswordHash
	}
	keys, err := s.Store.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		// Stored sealed; both forms are secrets.
		secrets["sealed private key "+k.KID+" (base64)"] = base64.StdEncoding.EncodeToString(k.PrivateKey)
		if k, err = s.Svc.UnsealSigningKey(k); err != nil {
			t.Fatal(err)
		}
		secrets["private key "+k.KID+" (base64)"] = base64.StdEncoding.EncodeToString(k.PrivateKey)
		secrets["private key "+k.KID+" (hex)"] = hex.EncodeToString(k.PrivateKey)
		secrets["private key "+k.KID+" (raw)"] = string(k.PrivateKey)
	}

	// What the audit log holds.
	events, auditBodies := allAuditEvents(t, s, admin, client.ListAuditEventsParams{})
	count := map[string]int{}
	for _, e := range events {
		count[e.Action+" "+string(e.Outcome)]++
		if e.Time.Before(start) || e.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("event time %v out of range", e.Time)
		}
	}
	for action, atLeast := range map[string]int{
		"login success": 4, "login failure": 4, "lockout success": 1,
		"refresh.reuse failure": 1, "token.revoke success": 1, "api_key.create success": 1,
		"api_key.revoke success": 1, "user.create success": 2, "user.update success": 1,
		"user.password success": 1, "role.put success": 1, "signing_key.rotate success": 1,
		"mfa.enable success": 1, "mfa.verify failure": 1, "mfa.recovery_codes success": 1,
		"signup success": 1, "email.verify success": 1, "email.verify failure": 1,
		"password.forgot success": 2, "password.reset success": 1, "password.reset failure": 1,
		"user.invite success": 1, "mail.send success": 3, "mail.send failure": 1,
	} {
		if count[action] < atLeast {
			t.Errorf("audit: %d %q events, want at least %d (all: %v)", count[action], action, atLeast, count)
		}
	}
	// A dialect login is recorded with its dialect, client IP and agent.
	dialectLogin := false
	for _, e := range events {
		if e.Action == "login" && e.Dialect != nil && *e.Dialect == "api-user" && e.ClientIp != nil && *e.ClientIp == "127.0.0.1" && e.UserAgent != nil {
			dialectLogin = true
		}
	}
	if !dialectLogin {
		t.Error("no api-user login with client IP and user agent in the audit log")
	}

	// Filters: action, actor, subject, time range.
	logins, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{Action: ptr("lockout")})
	if len(logins) != 1 || logins[0].SubjectId == nil || *logins[0].SubjectId != userID(t, s, "erin").String() {
		t.Errorf("action filter: %+v", logins)
	}
	byDave, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{ActorId: ptr(dave.Id.String())})
	for _, e := range byDave {
		if e.ActorId == nil || *e.ActorId != dave.Id.String() {
			t.Errorf("actor filter returned %+v", e)
		}
	}
	aboutDave, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{SubjectId: ptr(dave.Id.String()), Action: ptr("user.update")})
	if len(aboutDave) != 1 || deref(aboutDave[0].Detail) != "first_name" {
		t.Errorf("subject filter: %+v, want dave's one update, of first_name", aboutDave)
	}
	future, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{Since: ptr(time.Now().Add(time.Hour))})
	past, _ := allAuditEvents(t, s, admin, client.ListAuditEventsParams{Until: ptr(start)})
	if len(future) != 0 || len(past) != 0 {
		t.Errorf("time range: %d future, %d past events", len(future), len(past))
	}

	// audit:read is needed; bad parameters are 400. (Dave's password was
	// reset since his last login, which ended that session.)
	daveTok = s.login(t, "dave", "dave-reset-secret")
	if r, _ := s.Client.ListAuditEventsWithResponse(ctx, nil, bearer(daveTok.AccessToken)); r.ApplicationproblemJSON403 == nil {
		t.Errorf("without audit:read: %d", r.StatusCode())
	}
	if r, _ := s.Client.ListAuditEventsWithResponse(ctx, nil); r.StatusCode() != 401 {
		t.Errorf("without credentials: %d", r.StatusCode())
	}
	if r, _ := s.Client.ListAuditEventsWithResponse(invalid(ctx), &client.ListAuditEventsParams{Cursor: ptr("garbage!")}, bearer(admin)); r.StatusCode() != 400 {
		t.Errorf("bad cursor: %d", r.StatusCode())
	}

	// Nothing anywhere holds a secret.
	scan := map[string]string{"server log": s.Log.String()}
	for i, b := range auditBodies {
		scan["audit page "+string(rune('a'+i%26))] = b
	}
	rows, _, err := s.Store.ListAuditEvents(ctx, store.AuditFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(rows)
	scan["audit rows"] = string(raw)
	for name, body := range map[string]func() []byte{
		"users":        func() []byte { r, _ := s.Client.ListUsersWithResponse(ctx, nil, bearer(admin)); return r.Body },
		"applications": func() []byte { r, _ := s.Client.ListApplicationsWithResponse(ctx, nil, bearer(admin)); return r.Body },
		"roles":        func() []byte { r, _ := s.Client.ListRolesWithResponse(ctx, bearer(admin)); return r.Body },
		"signing keys": func() []byte { r, _ := s.Client.ListSigningKeysWithResponse(ctx, bearer(admin)); return r.Body },
		"api keys": func() []byte {
			r, _ := s.Client.ListApiKeysWithResponse(ctx, nil, bearer(s.login(t, "dave", "dave-reset-secret").AccessToken))
			return r.Body
		},
		"jwks": func() []byte { r, _ := s.Client.GetJWKSWithResponse(ctx); return r.Body },
	} {
		scan[name] = string(body())
	}
	for where, text := range scan {
		for what, secret := range secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("%s holds %s", where, what)
			}
		}
	}
}
