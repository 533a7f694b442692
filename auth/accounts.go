package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/mail"
	"github.com/gatehouse-auth/gatehouse/store"
)

// Errors of the accounts-by-e-mail flows (DESIGN.md, "Accounts by e-mail").
var (
	// ErrSignupDisabled is returned by Signup unless Config.Signup is set.
	ErrSignupDisabled = errors.New("sign-up is disabled")
	// ErrInvalidEmailToken is returned for a mailed token that is unknown,
	// used, voided, expired, of another kind, or mailed to an address the
	// user no longer has.
	ErrInvalidEmailToken = errors.New("the token is not valid")
	// ErrNoEmail is returned when a mail is asked for a user without an
	// e-mail address.
	ErrNoEmail = errors.New("the user has no e-mail address")
	// ErrAlreadyVerified is returned when a verification mail is asked for
	// an address already verified.
	ErrAlreadyVerified = errors.New("the e-mail address is already verified")
	// ErrMailDisabled is returned for an invitation when no mail can be
	// sent at all (Config.Mailer is mail.Disabled): the invitation would
	// never arrive.
	ErrMailDisabled = errors.New("no mail can be sent: no mail server is configured")
)

// Defaults of the accounts-by-e-mail settings.
const (
	DefaultVerifyTokenTTL = 24 * time.Hour
	DefaultResetTokenTTL  = time.Hour
	DefaultInviteTokenTTL = 7 * 24 * time.Hour
)

// DefaultMailLimits are the per-address limits: one mail a minute, five an
// hour, counted from each send whatever the flow.
var DefaultMailLimits = []store.MailLimit{{Window: time.Minute, Max: 1}, {Window: time.Hour, Max: 5}}

// linkPaths are the paths, on the public URL, of the mailed links.
var linkPaths = map[mail.Kind]string{
	mail.KindVerify: "/verify-email",
	mail.KindReset:  "/reset-password",
	mail.KindInvite: "/accept-invitation",
}

func (c Config) withAccountDefaults() Config {
	if c.Mailer == nil {
		c.Mailer = mail.Disabled{}
	}
	if c.PublicURL == "" {
		c.PublicURL = c.Issuer
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.VerifyTokenTTL == 0 {
		c.VerifyTokenTTL = DefaultVerifyTokenTTL
	}
	if c.ResetTokenTTL == 0 {
		c.ResetTokenTTL = DefaultResetTokenTTL
	}
	if c.InviteTokenTTL == 0 {
		c.InviteTokenTTL = DefaultInviteTokenTTL
	}
	if c.MailLimits == nil {
		c.MailLimits = DefaultMailLimits
	}
	return c
}

func (s *Service) tokenTTL(kind mail.Kind) time.Duration {
	switch kind {
	case mail.KindReset:
		return s.cfg.ResetTokenTTL
	case mail.KindInvite:
		return s.cfg.InviteTokenTTL
	}
	return s.cfg.VerifyTokenTTL
}

// WaitMail waits for the mails being sent to be done (each is bounded by
// the sender's timeout). Call it before closing the store.
func (s *Service) WaitMail() { s.mails.Wait() }

// Signup creates a user with the role user, unverified, and mails it a
// verification link.
func (s *Service) Signup(ctx context.Context, n NewUser, cl Origin) (store.User, error) {
	if !s.cfg.Signup {
		s.Audit(ctx, cl.event("signup", "failure", "", "", "sign-up is disabled"))
		return store.User{}, ErrSignupDisabled
	}
	n.Role, n.EmailVerified, n.Invite, n.PasswordHash = RoleUser, false, false, ""
	u, err := s.insertUser(ctx, n)
	if err != nil {
		return store.User{}, err
	}
	s.Audit(ctx, cl.event("signup", "success", u.ID, u.ID, ""))
	return u, s.mailToken(ctx, u, mail.KindVerify, cl)
}

// SendVerification mails the user a new verification link (the older one
// voided).
func (s *Service) SendVerification(ctx context.Context, userID string, cl Origin) error {
	u, err := s.st.GetUser(ctx, userID)
	switch {
	case err != nil:
		return err
	case u.Email == "":
		return ErrNoEmail
	case u.EmailVerified:
		return ErrAlreadyVerified
	}
	return s.mailToken(ctx, u, mail.KindVerify, cl)
}

// InviteUser mails the user a new invitation (the older one voided).
func (s *Service) InviteUser(ctx context.Context, userID, actor string, cl Origin) error {
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	return s.invite(ctx, u, actor, cl)
}

func (s *Service) invite(ctx context.Context, u store.User, actor string, cl Origin) error {
	if u.Email == "" {
		return ErrNoEmail
	}
	if err := s.canInvite(ctx, actor, u.ID, cl); err != nil {
		return err
	}
	if err := s.mailToken(ctx, u, mail.KindInvite, cl); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("user.invite", "success", actor, u.ID, ""))
	return nil
}

// canInvite refuses an invitation, audited, when no mail can be sent;
// subject is the invited user's id, "" before it is created.
func (s *Service) canInvite(ctx context.Context, actor, subject string, cl Origin) error {
	if _, disabled := s.cfg.Mailer.(mail.Disabled); !disabled {
		return nil
	}
	s.Audit(ctx, cl.event("user.invite", "failure", actor, subject, "no mail can be sent"))
	return ErrMailDisabled
}

// VerifyEmail spends a verification token and marks the user's address
// verified.
func (s *Service) VerifyEmail(ctx context.Context, token string, cl Origin) (store.User, error) {
	u, t, err := s.checkEmailToken(ctx, token, "email.verify", cl, mail.KindVerify)
	if err != nil {
		return store.User{}, err
	}
	if err := s.spendEmailToken(ctx, t, "email.verify", cl); err != nil {
		return store.User{}, err
	}
	if err := s.st.SetEmailVerified(ctx, u.ID, true); err != nil {
		return store.User{}, fmt.Errorf("set email verified: %w", err)
	}
	u.EmailVerified = true
	s.Audit(ctx, cl.event("email.verify", "success", u.ID, u.ID, ""))
	return u, nil
}

// ForgotPassword mails a reset link to the known, enabled user whose
// e-mail is email. It answers the same, after the same work, whether or
// not there is one: a token is made and hashed, the address counted
// against the mail limits and the request audited either way; only the
// mail itself, sent in the background, tells them apart.
func (s *Service) ForgotPassword(ctx context.Context, email string, cl Origin) error {
	u, err := s.st.GetUserByLogin(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("get user: %w", err)
	}
	known := err == nil && !u.Disabled && strings.EqualFold(u.Email, email)
	if !known {
		u = store.User{Email: email}
	}
	s.Audit(ctx, cl.event("password.forgot", "success", "", u.ID, ""))
	token, t, err := s.newEmailToken(u, mail.KindReset)
	if err != nil {
		return err
	}
	if !known {
		t.UserID = "" // a dummy of no user, never mailed
	}
	return s.storeAndSend(ctx, u, mail.KindReset, token, t, known, cl)
}

// ResetPassword sets a new password with a reset or invitation token. The
// policy is checked before the token is spent, so a refused password
// leaves it valid. It clears the lockout, marks the address verified (the
// token came through it) and revokes every session of the user.
func (s *Service) ResetPassword(ctx context.Context, token, password string, cl Origin) error {
	u, t, err := s.checkEmailToken(ctx, token, "password.reset", cl, mail.KindReset, mail.KindInvite)
	if err != nil {
		return err
	}
	if err := s.checkNewPassword("new_password", password, u.Username); err != nil {
		s.Audit(ctx, cl.event("password.reset", "failure", u.ID, u.ID, "password refused by the policy"))
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.spendEmailToken(ctx, t, "password.reset", cl); err != nil {
		return err
	}
	now := s.now()
	if err := s.st.SetPassword(ctx, u.ID, hash, now, nil); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := s.st.ResetLoginFailures(ctx, u.ID); err != nil {
		return fmt.Errorf("reset login failures: %w", err)
	}
	if !u.EmailVerified {
		if err := s.st.SetEmailVerified(ctx, u.ID, true); err != nil {
			return fmt.Errorf("set email verified: %w", err)
		}
	}
	// Every session ends, access tokens included.
	if err := s.endSessions(ctx, u.ID, "", u.ID, "password reset", cl); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("password.reset", "success", u.ID, u.ID, "with a "+t.Kind+" token; sessions revoked"))
	return nil
}

// checkEmailToken finds the unspent, unexpired token of one of kinds and
// its user, whose address must still be the one it was mailed to.
func (s *Service) checkEmailToken(ctx context.Context, token, action string, cl Origin, kinds ...mail.Kind) (store.User, store.EmailToken, error) {
	reject := func(userID, reason string) (store.User, store.EmailToken, error) {
		s.Audit(ctx, cl.event(action, "failure", userID, userID, reason))
		return store.User{}, store.EmailToken{}, ErrInvalidEmailToken
	}
	t, err := s.st.GetEmailToken(ctx, jose.HashRandomSecret(token))
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && t.UserID == "":
		return reject("", "unknown token")
	case err != nil:
		return store.User{}, store.EmailToken{}, fmt.Errorf("get email token: %w", err)
	}
	kindOK := false
	for _, k := range kinds {
		kindOK = kindOK || t.Kind == string(k)
	}
	switch {
	case !kindOK:
		return reject(t.UserID, "a "+t.Kind+" token")
	case t.UsedAt != nil:
		return reject(t.UserID, "token used or voided")
	case !s.now().Before(t.ExpiresAt):
		return reject(t.UserID, "token expired")
	}
	u, err := s.st.GetUser(ctx, t.UserID)
	if err != nil {
		return store.User{}, store.EmailToken{}, fmt.Errorf("get user: %w", err)
	}
	if !strings.EqualFold(u.Email, t.Address) {
		return reject(u.ID, "the e-mail address changed since the token was mailed")
	}
	if u.Disabled {
		return reject(u.ID, "disabled")
	}
	return u, t, nil
}

// spendEmailToken spends t; losing a race to another use is an invalid
// token.
func (s *Service) spendEmailToken(ctx context.Context, t store.EmailToken, action string, cl Origin) error {
	err := s.st.SpendEmailToken(ctx, t.Hash, s.now())
	if errors.Is(err, store.ErrTokenSpent) || errors.Is(err, store.ErrNotFound) {
		s.Audit(ctx, cl.event(action, "failure", t.UserID, t.UserID, "token used or voided"))
		return ErrInvalidEmailToken
	}
	return err
}

// newEmailToken makes a token of kind for u: 256 random bits, base64url,
// and the row that keeps its SHA-256.
func (s *Service) newEmailToken(u store.User, kind mail.Kind) (string, store.EmailToken, error) {
	token, err := s.randomToken(32)
	if err != nil {
		return "", store.EmailToken{}, err
	}
	now := s.now()
	return token, store.EmailToken{
		Hash: jose.HashRandomSecret(token), UserID: u.ID, Kind: string(kind), Address: u.Email,
		CreatedAt: now, ExpiresAt: now.Add(s.tokenTTL(kind)),
	}, nil
}

// mailToken makes a token of kind for u and mails it.
func (s *Service) mailToken(ctx context.Context, u store.User, kind mail.Kind, cl Origin) error {
	token, t, err := s.newEmailToken(u, kind)
	if err != nil {
		return err
	}
	return s.storeAndSend(ctx, u, kind, token, t, true, cl)
}

// storeAndSend stores t (voiding the older tokens of its kind) unless the
// address is over its mail limits, then, when send is set, mails the token
// in the background: the request neither waits for the SMTP server nor
// fails with it, and no transaction is open while it talks to it. A held
// back or failed send is logged and audited as mail.send failure.
func (s *Service) storeAndSend(ctx context.Context, u store.User, kind mail.Kind, token string, t store.EmailToken, send bool, cl Origin) error {
	err := s.st.CreateEmailToken(ctx, t, s.cfg.MailLimits)
	if errors.Is(err, store.ErrMailLimited) {
		s.cfg.Logger.InfoContext(ctx, "mail held back by the per-address limit", "kind", string(kind), "user_id", u.ID)
		s.Audit(ctx, cl.event("mail.send", "failure", "", u.ID, string(kind)+": held back by the per-address limit"))
		return nil
	}
	if err != nil {
		return fmt.Errorf("store email token: %w", err)
	}
	if !send {
		return nil
	}
	msg := mail.Message{
		To: u.Email, Username: u.Username, Token: token, ExpiresIn: s.tokenTTL(kind),
		Link: s.cfg.PublicURL + linkPaths[kind] + "?token=" + token,
	}
	ctx = context.WithoutCancel(ctx)
	s.mails.Go(func() {
		if err := s.cfg.Mailer.Send(ctx, kind, msg); err != nil {
			s.cfg.Logger.WarnContext(ctx, "mail not sent", "kind", string(kind), "user_id", u.ID, "err", err)
			s.Audit(ctx, cl.event("mail.send", "failure", "", u.ID, string(kind)+": "+err.Error()))
			return
		}
		s.Audit(ctx, cl.event("mail.send", "success", "", u.ID, string(kind)))
	})
	return nil
}
