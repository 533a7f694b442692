package contract_test

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
	"github.com/gatehouse-auth/gatehouse/store"
)

// publicURL is the base of the mailed links in these tests.
const publicURL = "https://id.example.com"

// withMail sends the server's mail through mb (nil: no mail configured)
// and opens sign-up.
func withMail(mb *mailbox, t testing.TB) option {
	return func(c *authConfig) {
		if mb != nil {
			c.Mailer = mb.sender(t)
		}
		c.Signup, c.PublicURL = true, publicURL
	}
}

// newMailServer starts gatehouse mailing through a fresh mailbox, on clock.
func newMailServer(t *testing.T, clock *fakeClock, opts ...option) (*server, *mailbox) {
	t.Helper()
	mb := startMailbox(t, false)
	return newServer(t, append([]option{withMail(mb, t), withClock(clock)}, opts...)...), mb
}

// settle waits for the mails in flight to be delivered or to fail.
func (s *server) settle() { s.Svc.WaitMail() }

// claimsOf decodes an access token's claims (the signature is checked by
// the JWKS tests; here only what it says matters).
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64URL(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantMail checks one delivered message: the recipient, the link on the
// public URL at path, and the token in both parts and alone in the text.
func wantMail(t *testing.T, m delivered, to, path, subject string) string {
	t.Helper()
	if len(m.To) != 1 || m.To[0] != to || m.From != "noreply@gatehouse.test" {
		t.Errorf("envelope from %q to %v, want to %s", m.From, m.To, to)
	}
	if !strings.HasPrefix(m.Link, publicURL+path+"?token=") {
		t.Errorf("link %q, want %s%s?token=...", m.Link, publicURL, path)
	}
	if raw, err := base64URL(m.Token); err != nil || len(raw) != 32 {
		t.Errorf("token %q is not 256 bits of base64url: %v", m.Token, err)
	}
	if !slices.Contains(strings.Split(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n"), m.Token) {
		t.Errorf("the text part does not show the token alone:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, m.Token) {
		t.Errorf("the HTML part lacks the link:\n%s", m.HTML)
	}
	if !strings.Contains(m.Subject, subject) {
		t.Errorf("subject %q, want it to say %q", m.Subject, subject)
	}
	return m.Token
}

func verifyEmail(t *testing.T, s *server, token string) *client.VerifyEmailResponse {
	t.Helper()
	r, err := s.Client.VerifyEmailWithResponse(context.Background(), client.EmailTokenRequest{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func resetPassword(t *testing.T, s *server, token, password string) *client.ResetPasswordResponse {
	t.Helper()
	r, err := s.Client.ResetPasswordWithResponse(context.Background(), client.PasswordResetRequest{Token: token, NewPassword: password})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func forgot(t *testing.T, s *server, email string) *client.ForgotPasswordResponse {
	t.Helper()
	r, err := s.Client.ForgotPasswordWithResponse(context.Background(), client.PasswordForgotRequest{Email: client.Email(email)})
	if err != nil {
		t.Fatal(err)
	}
	if r.JSON202 == nil {
		t.Fatalf("forgot %s: %d %s", email, r.StatusCode(), r.Body)
	}
	return r
}

// wantBadToken checks a 400 that names the body field token.
func wantBadToken(t *testing.T, hr *http.Response, body []byte) {
	t.Helper()
	wantFieldError(t, wantProblem(t, hr, body, http.StatusBadRequest), "body", "token")
}

// auditCount counts the audit events of action and outcome whose detail
// contains detail.
func auditCount(t *testing.T, s *server, action, outcome, detail string) int {
	t.Helper()
	rows, _, err := s.Store.ListAuditEvents(context.Background(), store.AuditFilter{Action: action}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range rows {
		if e.Outcome == outcome && strings.Contains(e.Detail, detail) {
			n++
		}
	}
	return n
}

// TestSignupAndVerification: sign-up is off by default; open, it creates
// an unverified user and mails a verification link whose token, followed,
// verifies the address once. The claim follows the flag.
func TestSignupAndVerification(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	off := newServer(t)
	r, err := off.Client.SignupWithResponse(ctx, client.SignupRequest{Username: "ada", Password: "analytical-engine", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if p := wantProblem(t, r.HTTPResponse, r.Body, http.StatusForbidden); *p.Detail != "sign-up is disabled" {
		t.Errorf("sign-up off: %s", r.Body)
	}
	if h := r.HTTPResponse.Header.Get("WWW-Authenticate"); h != "" {
		t.Errorf("sign-up off challenges for credentials: %q", h)
	}
	if _, err := off.Store.GetUserByLogin(ctx, "ada"); err == nil {
		t.Error("sign-up off created the user")
	}

	clock := newFakeClock()
	s, mb := newMailServer(t, clock)
	r, err = s.Client.SignupWithResponse(ctx, client.SignupRequest{Username: "ada", Password: "analytical-engine", Email: "Ada@Example.com", FirstName: ptr("Ada")})
	if err != nil || r.JSON201 == nil {
		t.Fatalf("sign-up: %v %d %s", err, r.StatusCode(), r.Body)
	}
	if u := r.JSON201; u.EmailVerified || u.Role != "user" || deref(u.FirstName) != "Ada" {
		t.Errorf("signed-up user: %s", r.Body)
	}
	token := wantMail(t, mb.next(t), "Ada@Example.com", "/verify-email", "Confirm")
	if c := claimsOf(t, s.login(t, "ada", "analytical-engine").AccessToken); c["email_verified"] != false {
		t.Errorf("email_verified claim before verification: %v", c["email_verified"])
	}

	// Taken username or e-mail: 409, and no mail.
	for _, body := range []client.SignupRequest{
		{Username: "ADA", Password: "another-password", Email: "other@example.com"},
		{Username: "other", Password: "another-password", Email: "ada@EXAMPLE.com"},
	} {
		r, err := s.Client.SignupWithResponse(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		wantProblem(t, r.HTTPResponse, r.Body, http.StatusConflict)
	}

	v := verifyEmail(t, s, token)
	if v.JSON200 == nil || !v.JSON200.EmailVerified || v.JSON200.Username != "ada" {
		t.Fatalf("verify: %d %s", v.StatusCode(), v.Body)
	}
	if c := claimsOf(t, s.login(t, "ada", "analytical-engine").AccessToken); c["email_verified"] != true {
		t.Errorf("email_verified claim after verification: %v", c["email_verified"])
	}
	// Single use; an unknown token is the same 400.
	for _, tok := range []string{token, "not-a-token-we-mailed"} {
		v := verifyEmail(t, s, tok)
		wantBadToken(t, v.HTTPResponse, v.Body)
	}
	// Already verified: nothing to send.
	ada := s.login(t, "ada", "analytical-engine").AccessToken
	rr, err := s.Client.SendMyVerificationWithResponse(ctx, bearer(ada))
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, rr.HTTPResponse, rr.Body, http.StatusConflict)
	// A new address is not verified.
	if r, _ := s.Client.UpdateMeWithResponse(ctx, client.ProfileUpdate{Email: ptr(client.Email("lovelace@example.com"))}, bearer(ada)); r.JSON200 == nil || r.JSON200.EmailVerified {
		t.Errorf("after an e-mail change: %s", r.Body)
	}
	if n := auditCount(t, s, "signup", "success", ""); n != 1 {
		t.Errorf("%d signup events", n)
	}
	if n := auditCount(t, s, "email.verify", "failure", ""); n != 2 {
		t.Errorf("%d email.verify failures, want 2", n)
	}
	s.settle()
	if n := auditCount(t, s, "mail.send", "success", "verify"); n != 1 {
		t.Errorf("%d mail.send successes", n)
	}
	mb.empty(t)
}

// TestResendVerificationAndExpiry: POST /v1/me/email/verify mails a new
// token and voids the older one; a token past its 24 hours is refused. An
// administrator's user starts unverified and gets no mail, unless the
// request says verified.
func TestResendVerificationAndExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s, mb := newMailServer(t, clock)
	admin := s.adminToken(t)
	u := s.createUser(t, admin, client.UserCreate{Username: "bob", Password: "bob-password", Email: ptr(client.Email("bob@example.com"))})
	pre := s.createUser(t, admin, client.UserCreate{Username: "eve", Password: "eve-password", Email: ptr(client.Email("eve@example.com")), EmailVerified: ptr(true)})
	if u.EmailVerified || !pre.EmailVerified {
		t.Errorf("created users: bob %v, eve %v", u.EmailVerified, pre.EmailVerified)
	}
	s.settle()
	mb.empty(t) // creating a user mails nothing

	resend := func() {
		t.Helper()
		r, err := s.Client.SendMyVerificationWithResponse(ctx, bearer(s.login(t, "bob", "bob-password").AccessToken))
		if err != nil || r.StatusCode() != http.StatusNoContent {
			t.Fatalf("resend: %v %d %s", err, r.StatusCode(), r.Body)
		}
	}
	resend()
	first := wantMail(t, mb.next(t), "bob@example.com", "/verify-email", "Confirm")
	clock.Set(61 * time.Second)
	resend()
	second := wantMail(t, mb.next(t), "bob@example.com", "/verify-email", "Confirm")
	v := verifyEmail(t, s, first) // voided by the second
	wantBadToken(t, v.HTTPResponse, v.Body)
	clock.Set(122 * time.Second)
	resend()
	third := wantMail(t, mb.next(t), "bob@example.com", "/verify-email", "Confirm")
	clock.Set(122*time.Second + 24*time.Hour) // the third is just expired
	v = verifyEmail(t, s, third)
	wantBadToken(t, v.HTTPResponse, v.Body)
	if n := auditCount(t, s, "email.verify", "failure", "expired"); n != 1 {
		t.Errorf("%d expired-token failures audited", n)
	}
	_ = second
	// No e-mail address: 409.
	s.createUser(t, s.adminToken(t), client.UserCreate{Username: "nomail", Password: "nomail-password"})
	r, err := s.Client.SendMyVerificationWithResponse(ctx, bearer(s.login(t, "nomail", "nomail-password").AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, r.HTTPResponse, r.Body, http.StatusConflict)
}

// TestPasswordReset: forgot answers the same for a known and an unknown
// address and mails only the known one; the mailed token sets a new
// password once, after the policy, clearing the lockout and revoking the
// sessions.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, mb := newMailServer(t, clock, noReuseInterval, func(c *authConfig) { c.MaxFailedLogins = 2 })
	admin := s.adminToken(t)
	s.createUser(t, admin, client.UserCreate{Username: "carol", Password: "carol-password", Email: ptr(client.Email("carol@example.com"))})
	session := s.login(t, "carol", "carol-password")
	for range 2 { // locks carol
		call(t, s, "/v1/auth", "application/json", `{"username": "carol", "password": "wrong-password"}`, false)
	}

	known, unknown := forgot(t, s, "Carol@Example.com"), forgot(t, s, "nobody@example.com")
	if string(known.Body) != string(unknown.Body) || known.HTTPResponse.Header.Get("Content-Type") != unknown.HTTPResponse.Header.Get("Content-Type") {
		t.Errorf("forgot answers differ: %s / %s", known.Body, unknown.Body)
	}
	token := wantMail(t, mb.next(t), "carol@example.com", "/reset-password", "Reset")
	s.settle()
	mb.empty(t) // nothing for the unknown address

	// The policy first: a refused password leaves the token valid.
	r := resetPassword(t, s, token, "short")
	wantFieldError(t, wantProblem(t, r.HTTPResponse, r.Body, http.StatusBadRequest), "body", "new_password")
	if r := resetPassword(t, s, token, "carol-new-password"); r.StatusCode() != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.StatusCode(), r.Body)
	}
	r = resetPassword(t, s, token, "carol-newer-password")
	wantBadToken(t, r.HTTPResponse, r.Body)
	// The lock is cleared, the old password is gone, the session revoked.
	tok := s.login(t, "carol", "carol-new-password")
	if status, _ := call(t, s, "/v1/auth", "application/json", `{"username": "carol", "password": "carol-password"}`, false); status != http.StatusUnauthorized {
		t.Errorf("the old password: %d", status)
	}
	if rr := refresh(t, s, session.RefreshToken); rr.JSON400 == nil || rr.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Errorf("the session from before the reset: %d %s", rr.StatusCode(), rr.Body)
	}
	if c := claimsOf(t, tok.AccessToken); c["email_verified"] != true {
		t.Error("a reset through the mailed link did not verify the address")
	}
	if n := auditCount(t, s, "password.reset", "success", ""); n != 1 {
		t.Errorf("%d password.reset successes", n)
	}
	if n := auditCount(t, s, "password.forgot", "success", ""); n != 2 {
		t.Errorf("%d password.forgot events", n)
	}

	// A reset token lives one hour.
	clock.Set(2 * time.Minute)
	forgot(t, s, "carol@example.com")
	late := wantMail(t, mb.next(t), "carol@example.com", "/reset-password", "Reset")
	clock.Set(2*time.Minute + time.Hour)
	r = resetPassword(t, s, late, "carol-late-password")
	wantBadToken(t, r.HTTPResponse, r.Body)
}

// TestMailLimits: at most one mail a minute and five an hour to one
// address, whatever the route; a request held back answers as usual and
// makes no token, so the one mailed stays valid.
func TestMailLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s, mb := newMailServer(t, clock)
	admin := s.adminToken(t)
	s.createUser(t, admin, client.UserCreate{Username: "dan", Password: "dan-password", Email: ptr(client.Email("dan@example.com"))})

	forgot(t, s, "dan@example.com")
	first := wantMail(t, mb.next(t), "dan@example.com", "/reset-password", "Reset")
	clock.Set(59 * time.Second)
	forgot(t, s, "dan@example.com") // held back: within the minute
	r, err := s.Client.SendMyVerificationWithResponse(ctx, bearer(s.login(t, "dan", "dan-password").AccessToken))
	if err != nil || r.StatusCode() != http.StatusNoContent { // held back too: another route, the same address
		t.Fatalf("resend: %v %d", err, r.StatusCode())
	}
	s.settle()
	mb.empty(t)
	if n := auditCount(t, s, "mail.send", "failure", "held back"); n != 2 {
		t.Errorf("%d held-back mails audited, want 2", n)
	}
	// Four more, a minute apart: five in the hour. The sixth is held back.
	for i := 1; i <= 4; i++ {
		clock.Set(time.Duration(i) * 61 * time.Second)
		forgot(t, s, "dan@example.com")
		mb.next(t)
	}
	clock.Set(59 * time.Minute)
	forgot(t, s, "dan@example.com")
	s.settle()
	mb.empty(t)
	// An hour after the first send, there is room again.
	clock.Set(time.Hour + time.Second)
	forgot(t, s, "dan@example.com")
	last := wantMail(t, mb.next(t), "dan@example.com", "/reset-password", "Reset")
	// The first token was voided by the next one mailed, not by the
	// held-back requests: the last is the valid one.
	if r := resetPassword(t, s, first, "dan-new-password"); r.StatusCode() != http.StatusBadRequest {
		t.Errorf("a voided token: %d", r.StatusCode())
	}
	if r := resetPassword(t, s, last, "dan-new-password"); r.StatusCode() != http.StatusNoContent {
		t.Errorf("the last token: %d %s", r.StatusCode(), r.Body)
	}

	// Held back, the token already mailed stays valid.
	s.createUser(t, admin, client.UserCreate{Username: "fay", Password: "fay-password", Email: ptr(client.Email("fay@example.com"))})
	forgot(t, s, "fay@example.com")
	kept := wantMail(t, mb.next(t), "fay@example.com", "/reset-password", "Reset")
	forgot(t, s, "fay@example.com")
	if r := resetPassword(t, s, kept, "fay-new-password"); r.StatusCode() != http.StatusNoContent {
		t.Errorf("the token mailed before a held-back request: %d %s", r.StatusCode(), r.Body)
	}
}

// TestInvitations: a user created with invite and no password is mailed
// an invitation, cannot log in until it sets a password with it; a new
// invitation voids the older one.
func TestInvitations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s, mb := newMailServer(t, clock)
	admin := s.adminToken(t)

	// Without a password, invite is needed; an invitation needs an e-mail.
	for field, body := range map[string]client.UserCreate{
		"password": {Username: "gus", Email: ptr(client.Email("gus@example.com"))},
		"email":    {Username: "gus", Invite: ptr(true)},
	} {
		r, err := s.Client.CreateUserWithResponse(ctx, body, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantFieldError(t, wantProblem(t, r.HTTPResponse, r.Body, http.StatusBadRequest), "body", field)
	}
	gus := s.createUser(t, admin, client.UserCreate{Username: "gus", Email: ptr(client.Email("gus@example.com")), Invite: ptr(true)})
	first := wantMail(t, mb.next(t), "gus@example.com", "/accept-invitation", "invit")
	// No password yet: every login fails as for a wrong password.
	if r := tokenRequest(t, s, "gus", "some-password", ""); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Errorf("login of an invited user: %d %s", r.StatusCode(), r.Body)
	}
	if n := auditCount(t, s, "login", "failure", "no password set"); n != 1 {
		t.Errorf("%d logins without a password audited", n)
	}

	clock.Set(61 * time.Second)
	r, err := s.Client.InviteUserWithResponse(ctx, gus.Id, bearer(admin))
	if err != nil || r.JSON202 == nil {
		t.Fatalf("invite: %v %d %s", err, r.StatusCode(), r.Body)
	}
	second := wantMail(t, mb.next(t), "gus@example.com", "/accept-invitation", "invit")
	if rr := resetPassword(t, s, first, "gus-password"); rr.StatusCode() != http.StatusBadRequest {
		t.Errorf("the voided invitation: %d", rr.StatusCode())
	}
	if rr := resetPassword(t, s, second, "gus-password"); rr.StatusCode() != http.StatusNoContent {
		t.Fatalf("accept the invitation: %d %s", rr.StatusCode(), rr.Body)
	}
	if c := claimsOf(t, s.login(t, "gus", "gus-password").AccessToken); c["email_verified"] != true {
		t.Error("an accepted invitation did not verify the address")
	}
	// The verification token is not an invitation, nor the other way round.
	clock.Set(122 * time.Second)
	if r, _ := s.Client.InviteUserWithResponse(ctx, gus.Id, bearer(admin)); r.JSON202 == nil {
		t.Fatalf("invite again: %d", r.StatusCode())
	}
	v := verifyEmail(t, s, wantMail(t, mb.next(t), "gus@example.com", "/accept-invitation", "invit"))
	wantBadToken(t, v.HTTPResponse, v.Body)

	// Unknown user 404, no e-mail 409, a malformed id 400.
	nomail := s.createUser(t, admin, client.UserCreate{Username: "nomail", Password: "nomail-password"})
	for id, status := range map[client.ID]int{gus.Id: 0, nomail.Id: http.StatusConflict, uuidOf(t, "0b6f6a1e-3c1d-4a8e-9b8e-2f3c1d4a8e9b"): http.StatusNotFound} {
		if status == 0 {
			continue
		}
		r, err := s.Client.InviteUserWithResponse(ctx, id, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantProblem(t, r.HTTPResponse, r.Body, status)
	}
	req, _ := http.NewRequestWithContext(invalid(ctx), http.MethodPost, s.URL+"/v1/users/not-a-uuid/invite", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := (&validatingDoer{t: t}).Do(req)
	wantFieldError(t, wantProblem(t, resp, readBody(t, resp, err), http.StatusBadRequest), "path", "id")
	if n := auditCount(t, s, "user.invite", "success", ""); n != 3 {
		t.Errorf("%d user.invite events, want 3", n)
	}
}

// TestRequireVerifiedEmail: with --require-verified-email an unverified
// user's login fails exactly as a wrong password does in every dialect,
// with its own cause in the audit log.
func TestRequireVerifiedEmail(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, _ := newMailServer(t, clock, func(c *authConfig) { c.RequireVerifiedEmail = true })
	admin := s.adminToken(t) // the bootstrap admin counts as verified
	s.createUser(t, admin, client.UserCreate{Username: "hal", Password: "hal-password", Email: ptr(client.Email("hal@example.com"))})
	bodies := map[string][2]string{
		"/v1/auth":               {`{"username": "hal", "password": "hal-password"}`, `{"username": "hal", "password": "wrong-password"}`},
		"/user/login":            {`{"username": "hal", "password": "hal-password"}`, `{"username": "hal", "password": "wrong-password"}`},
		"/api/user/authenticate": {`{"userName": "hal", "password": "hal-password"}`, `{"userName": "hal", "password": "wrong-password"}`},
		"/v1/authenticate": {`{"email": "hal@example.com", "password": "hal-password", "resource": "` + defaultAppID(t, s) + `"}`,
			`{"email": "hal@example.com", "password": "wrong-password", "resource": "` + defaultAppID(t, s) + `"}`},
	}
	for route, b := range bodies {
		st1, unverified := call(t, s, route, "application/json", b[0], false)
		st2, wrong := call(t, s, route, "application/json", b[1], false)
		if st1 != st2 || !jsonEqual(unverified, wrong) {
			t.Errorf("%s: unverified %d %v, wrong password %d %v", route, st1, unverified, st2, wrong)
		}
	}
	if r := tokenRequest(t, s, "hal", "hal-password", ""); r.JSON400 == nil || r.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
		t.Errorf("password grant of an unverified user: %d %s", r.StatusCode(), r.Body)
	}
	if n := auditCount(t, s, "login", "failure", "e-mail not verified"); n != len(bodies)+1 {
		t.Errorf("%d logins refused as unverified, want %d", n, len(bodies)+1)
	}
	if err := s.Store.SetEmailVerified(context.Background(), userID(t, s, "hal").String(), true); err != nil {
		t.Fatal(err)
	}
	s.login(t, "hal", "hal-password")
}

// TestMailOverSTARTTLS: the mail goes through STARTTLS on a self-signed
// certificate the sender trusts, and its token works.
func TestMailOverSTARTTLS(t *testing.T) {
	t.Parallel()
	mb := startMailbox(t, true)
	s := newServer(t, withMail(mb, t))
	r, err := s.Client.SignupWithResponse(context.Background(), client.SignupRequest{Username: "ivy", Password: "ivy-password", Email: "ivy@example.com"})
	if err != nil || r.JSON201 == nil {
		t.Fatalf("sign-up: %v %d %s", err, r.StatusCode(), r.Body)
	}
	m := mb.next(t)
	if !m.TLS {
		t.Error("the mail was not sent over STARTTLS")
	}
	if v := verifyEmail(t, s, wantMail(t, m, "ivy@example.com", "/verify-email", "Confirm")); v.JSON200 == nil || !v.JSON200.EmailVerified {
		t.Errorf("verify: %d %s", v.StatusCode(), v.Body)
	}
}

// TestMailFailure: with the SMTP server down, or no mail configured, the
// routes that mail answer as documented; the failure is logged and
// audited, and neither holds the token.
func TestMailFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := &mailbox{addr: ln.Addr().String()}
	ln.Close() // nothing listens there now
	for name, mb := range map[string]*mailbox{"smtp down": down, "no mail configured": nil} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, withMail(mb, t))
			admin := s.adminToken(t)
			r, err := s.Client.SignupWithResponse(ctx, client.SignupRequest{Username: "jo", Password: "jo-password", Email: "jo@example.com"})
			if err != nil || r.JSON201 == nil {
				t.Fatalf("sign-up: %v %d %s", err, r.StatusCode(), r.Body)
			}
			// Without a mail server an invitation is refused outright
			// (TestInvitationWithoutMail); with one down, it fails in the
			// background like any mail.
			want := map[string]bool{r.JSON201.Id.String() + " verify": true}
			if mb != nil {
				u := s.createUser(t, admin, client.UserCreate{Username: "kim", Email: ptr(client.Email("kim@example.com")), Invite: ptr(true)})
				want[u.Id.String()+" invite"] = true
			}
			forgot(t, s, "jo@example.com") // held back: jo's verification was the minute's mail
			forgot(t, s, "nobody@example.com")
			s.settle()
			rows, _, err := s.Store.ListAuditEvents(ctx, store.AuditFilter{Action: "mail.send"}, store.Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			failed := map[string]bool{}
			for _, e := range rows {
				if e.Outcome == "failure" && !strings.Contains(e.Detail, "held back") {
					failed[e.SubjectID+" "+strings.SplitN(e.Detail, ":", 2)[0]] = true
				}
			}
			if !maps.Equal(failed, want) {
				t.Errorf("mail.send failures audited: %v, want %v", failed, want)
			}
			if n := strings.Count(s.Log.String(), `"msg":"mail not sent"`); n != len(want) {
				t.Errorf("%d mail failures logged, want %d", n, len(want))
			}
			tokens, _, _ := s.Store.ListAuditEvents(ctx, store.AuditFilter{}, store.Page{Limit: 500})
			raw, _ := json.Marshal(tokens)
			for _, text := range []string{s.Log.String(), string(raw)} {
				if strings.Contains(text, "token=") {
					t.Errorf("a link in the log or audit: %.300s", text)
				}
			}
		})
	}
}

// TestAccountRoutesBadInput: missing fields, wrong types, unknown fields,
// malformed JSON and huge bodies are 4xx problem+json on every new route,
// never a 500.
func TestAccountRoutesBadInput(t *testing.T) {
	t.Parallel()
	ctx := invalid(context.Background())
	s := newServer(t, withMail(nil, t))
	admin := s.adminToken(t)
	type raw func(body string) (*http.Response, error)
	routes := map[string]raw{
		"signup": func(b string) (*http.Response, error) {
			return s.Client.SignupWithBody(ctx, jsonType, strings.NewReader(b))
		},
		"verifyEmail": func(b string) (*http.Response, error) {
			return s.Client.VerifyEmailWithBody(ctx, jsonType, strings.NewReader(b))
		},
		"forgotPassword": func(b string) (*http.Response, error) {
			return s.Client.ForgotPasswordWithBody(ctx, jsonType, strings.NewReader(b))
		},
		"resetPassword": func(b string) (*http.Response, error) {
			return s.Client.ResetPasswordWithBody(ctx, jsonType, strings.NewReader(b))
		},
		"createUser": func(b string) (*http.Response, error) {
			return s.Client.CreateUserWithBody(ctx, jsonType, strings.NewReader(b), bearer(admin))
		},
	}
	cases := []struct {
		name, body string
		status     int
		field      map[string]string // route → field named
	}{
		{"empty object", `{}`, 400, map[string]string{"signup": "username", "verifyEmail": "token", "forgotPassword": "email", "resetPassword": "token", "createUser": "username"}},
		{"wrong types", `{"token": 1, "email": 2, "username": 3, "password": 4, "new_password": 5, "invite": "yes"}`, 400, nil},
		{"unknown field", `{"token": "t", "email": "a@b.c", "username": "u", "password": "p-password", "new_password": "p-password", "admin": true}`, 400, nil},
		{"malformed JSON", `{"token": `, 400, nil},
		{"not an object", `["token"]`, 400, nil},
		{"empty token", `{"token": "", "new_password": "long-enough"}`, 400, map[string]string{"verifyEmail": "token", "resetPassword": "token"}},
		{"bad e-mail", `{"email": "not an address"}`, 400, map[string]string{"forgotPassword": "email"}},
		{"huge", `{"token": "` + strings.Repeat("x", 1<<20) + `"}`, 413, nil},
	}
	for _, tc := range cases {
		for name, do := range routes {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				resp, err := do(tc.body)
				body := readBody(t, resp, err)
				p := wantProblem(t, resp, body, tc.status)
				if f := tc.field[name]; f != "" {
					wantFieldError(t, p, "body", f)
				}
			})
		}
	}
	// A wrong content type is a 400 too.
	resp, err := s.Client.ForgotPasswordWithBody(ctx, "text/plain", strings.NewReader(`{"email": "a@b.c"}`))
	wantProblem(t, resp, readBody(t, resp, err), http.StatusBadRequest)
}

// TestAccountRoutesRateLimited: the credential routes among them answer
// 429 with Retry-After past the client IP's burst.
func TestAccountRoutesRateLimited(t *testing.T) {
	t.Parallel()
	s := newServerOptions(t, func(o *gatehouse.Options) {
		o.HTTP = impl.Config{RateLimit: 0.001, RateBurst: 4}
		withMail(nil, t)(&o.Auth)
	})
	ctx := context.Background()
	calls := map[string]func() (*http.Response, []byte){
		"signup": func() (*http.Response, []byte) {
			r, _ := s.Client.SignupWithResponse(ctx, client.SignupRequest{Username: "lee", Password: "lee-password", Email: "lee@example.com"})
			return r.HTTPResponse, r.Body
		},
		"verifyEmail": func() (*http.Response, []byte) { r := verifyEmail(t, s, "nope"); return r.HTTPResponse, r.Body },
		"forgotPassword": func() (*http.Response, []byte) {
			r, _ := s.Client.ForgotPasswordWithResponse(ctx, client.PasswordForgotRequest{Email: "a@b.c"})
			return r.HTTPResponse, r.Body
		},
		"resetPassword": func() (*http.Response, []byte) {
			r := resetPassword(t, s, "nope", "long-enough")
			return r.HTTPResponse, r.Body
		},
	}
	// The burst of 4 is shared by the client IP: one call each.
	for name, c := range calls {
		if hr, body := c(); hr.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("%s limited within the burst: %s", name, body)
		}
	}
	for name, c := range calls {
		hr, body := c()
		wantProblem(t, hr, body, http.StatusTooManyRequests)
		if hr.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", name)
		}
	}
}

// TestAccountRoutesServerError: with the database gone, the public
// account routes answer a bare 500.
func TestAccountRoutesServerError(t *testing.T) {
	t.Parallel()
	s := newServer(t, withMail(nil, t))
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, do := range map[string]func() (*http.Response, error){
		"signup": func() (*http.Response, error) {
			return s.Client.Signup(ctx, client.SignupRequest{Username: "max", Password: "max-password", Email: "max@example.com"})
		},
		"verifyEmail": func() (*http.Response, error) { return s.Client.VerifyEmail(ctx, client.EmailTokenRequest{Token: "t"}) },
		"forgotPassword": func() (*http.Response, error) {
			return s.Client.ForgotPassword(ctx, client.PasswordForgotRequest{Email: "a@b.c"})
		},
		"resetPassword": func() (*http.Response, error) {
			return s.Client.ResetPassword(ctx, client.PasswordResetRequest{Token: "t", NewPassword: "long-enough"})
		},
	} {
		resp, err := do()
		p := wantProblem(t, resp, readBody(t, resp, err), http.StatusInternalServerError)
		if *p.Detail != "internal error" {
			t.Errorf("%s: %s", name, *p.Detail)
		}
	}
}

// defaultAppID is the default application's id.
func defaultAppID(t *testing.T, s *server) string {
	t.Helper()
	app, err := s.Store.DefaultApplication(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return app.ID
}

func jsonEqual(a, b map[string]any) bool { return reflect.DeepEqual(a, b) }
