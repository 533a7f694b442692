package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// mailLimits are the limits DESIGN.md sets: one a minute, five an hour.
var mailLimits = []store.MailLimit{{Window: time.Minute, Max: 1}, {Window: time.Hour, Max: 5}}

func emailToken(hash, user, kind string, created time.Time) store.EmailToken {
	return store.EmailToken{Hash: hash, UserID: user, Kind: kind, Address: "Ada@Example.com",
		CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
}

// openWithAda opens a seeded store holding the user u1, ada@example.com.
func openWithAda(t *testing.T, open func(*testing.T) store.Store) store.Store {
	s := open(t)
	seed(t, s)
	u := newUser("u1", "ada", at(0))
	u.Email = "ada@example.com"
	mustCreateUser(t, s, u)
	return s
}

func testEmailTokens(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := openWithAda(t, open)

	// A new user starts unverified; the flag is set and read back.
	if got, _ := s.GetUser(ctx, "u1"); got.EmailVerified {
		t.Error("a new user is verified")
	}
	wantErr(t, "SetEmailVerified", s.SetEmailVerified(ctx, "u1", true), nil)
	if got, _ := s.GetUser(ctx, "u1"); !got.EmailVerified {
		t.Error("SetEmailVerified(true) did not stick")
	}
	wantErr(t, "SetEmailVerified unknown", s.SetEmailVerified(ctx, "nobody", true), store.ErrNotFound)
	// An update that keeps the e-mail keeps the flag; a new e-mail clears it.
	got, _ := s.GetUser(ctx, "u1")
	got.FirstName = "Augusta"
	wantErr(t, "UpdateUser", s.UpdateUser(ctx, got), nil)
	if got, _ = s.GetUser(ctx, "u1"); !got.EmailVerified {
		t.Error("an update with the same e-mail cleared email_verified")
	}
	got.Email = "ADA@example.com" // the same address, another case
	wantErr(t, "UpdateUser", s.UpdateUser(ctx, got), nil)
	if got, _ = s.GetUser(ctx, "u1"); !got.EmailVerified {
		t.Error("an update with the e-mail in another case cleared email_verified")
	}
	got.Email = "lovelace@example.com"
	wantErr(t, "UpdateUser", s.UpdateUser(ctx, got), nil)
	if got, _ = s.GetUser(ctx, "u1"); got.EmailVerified {
		t.Error("a new e-mail kept email_verified")
	}
	verified := newUser("u2", "bob", at(0))
	verified.Email, verified.EmailVerified = "bob@example.com", true
	mustCreateUser(t, s, verified)
	if got, _ := s.GetUser(ctx, "u2"); !got.EmailVerified {
		t.Error("CreateUser dropped email_verified")
	}

	// Tokens: stored, read back, spent once.
	first := emailToken("h1", "u1", "reset", at(0))
	wantErr(t, "CreateEmailToken", s.CreateEmailToken(ctx, first, mailLimits), nil)
	tok, err := s.GetEmailToken(ctx, "h1")
	wantErr(t, "GetEmailToken", err, nil)
	if tok.UserID != "u1" || tok.Kind != "reset" || tok.Address != "ada@example.com" || tok.UsedAt != nil ||
		!tok.CreatedAt.Equal(at(0)) || !tok.ExpiresAt.Equal(at(3600)) {
		t.Errorf("GetEmailToken: %+v", tok)
	}
	_, err = s.GetEmailToken(ctx, "nope")
	wantErr(t, "GetEmailToken unknown", err, store.ErrNotFound)

	// The limits: within a minute of the first, nothing is stored.
	wantErr(t, "second within a minute", s.CreateEmailToken(ctx, emailToken("h2", "u1", "reset", at(30)), mailLimits), store.ErrMailLimited)
	_, err = s.GetEmailToken(ctx, "h2")
	wantErr(t, "held-back token", err, store.ErrNotFound)
	// A minute on, a newer token of the kind voids the older one; one of
	// another kind does not. The address is counted case-insensitively.
	wantErr(t, "second", s.CreateEmailToken(ctx, emailToken("h3", "u1", "reset", at(61)), mailLimits), nil)
	if tok, _ := s.GetEmailToken(ctx, "h1"); tok.UsedAt == nil || !tok.UsedAt.Equal(at(61)) {
		t.Errorf("the older token was not voided: %+v", tok)
	}
	verify := emailToken("h4", "u1", "verify", at(122))
	verify.Address = "ADA@EXAMPLE.COM"
	wantErr(t, "third", s.CreateEmailToken(ctx, verify, mailLimits), nil)
	if tok, _ := s.GetEmailToken(ctx, "h3"); tok.UsedAt != nil {
		t.Error("a token of another kind voided the reset token")
	}
	// A dummy without a user (an unknown address) counts all the same, and
	// voids nothing.
	wantErr(t, "dummy", s.CreateEmailToken(ctx, store.EmailToken{Hash: "dummy", Kind: "reset", Address: "ada@example.com",
		CreatedAt: at(183), ExpiresAt: at(183 + 3600)}, mailLimits), nil)
	if tok, err := s.GetEmailToken(ctx, "dummy"); err != nil || tok.UserID != "" {
		t.Errorf("the dummy: %+v %v", tok, err)
	}
	if tok, _ := s.GetEmailToken(ctx, "h3"); tok.UsedAt != nil {
		t.Error("a dummy voided a user's token")
	}
	wantErr(t, "fifth", s.CreateEmailToken(ctx, emailToken("h5", "u1", "reset", at(244)), mailLimits), nil)
	// Five in the hour: the sixth is held back until the first is an hour old.
	wantErr(t, "sixth in the hour", s.CreateEmailToken(ctx, emailToken("h6", "u1", "reset", at(3599)), mailLimits), store.ErrMailLimited)
	wantErr(t, "an hour after the first", s.CreateEmailToken(ctx, emailToken("h6", "u1", "reset", at(3601)), mailLimits), nil)
	// Another address has its own count.
	other := emailToken("h7", "u2", "reset", at(3601))
	other.Address = "bob@example.com"
	wantErr(t, "other address", s.CreateEmailToken(ctx, other, mailLimits), nil)
	wantErr(t, "unknown user", s.CreateEmailToken(ctx, emailToken("h8", "nobody", "reset", at(9000)), mailLimits), store.ErrNotFound)

	// Spending: once; then ErrTokenSpent; unknown ErrNotFound.
	wantErr(t, "spend", s.SpendEmailToken(ctx, "h6", at(3700)), nil)
	wantErr(t, "spend again", s.SpendEmailToken(ctx, "h6", at(3701)), store.ErrTokenSpent)
	wantErr(t, "spend voided", s.SpendEmailToken(ctx, "h1", at(3701)), store.ErrTokenSpent)
	wantErr(t, "spend unknown", s.SpendEmailToken(ctx, "nope", at(3701)), store.ErrNotFound)

	// Deleting the user deletes its tokens.
	wantErr(t, "DeleteUser", s.DeleteUser(ctx, "u2"), nil)
	_, err = s.GetEmailToken(ctx, "h7")
	wantErr(t, "token of a deleted user", err, store.ErrNotFound)
}

// testEmailTokenRaces: of concurrent spends of one token exactly one wins;
// of concurrent mails to one address exactly one passes the one-a-minute
// limit.
func testEmailTokenRaces(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := openWithAda(t, open)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateEmailToken(ctx, emailToken("race-"+string(rune('a'+i)), "u1", "reset", at(0)), mailLimits)
		})
	}
	wg.Wait()
	won, winner := 0, ""
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			winner = "race-" + string(rune('a'+i))
		case !errors.Is(err, store.ErrMailLimited):
			t.Errorf("CreateEmailToken: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent mails passed the one-a-minute limit, want 1", won)
	}
	for i := range n {
		wg.Go(func() { errs[i] = s.SpendEmailToken(ctx, winner, at(1)) })
	}
	wg.Wait()
	spent := 0
	for _, err := range errs {
		switch {
		case err == nil:
			spent++
		case !errors.Is(err, store.ErrTokenSpent):
			t.Errorf("SpendEmailToken: %v", err)
		}
	}
	if spent != 1 {
		t.Errorf("%d concurrent spends of one token succeeded, want 1", spent)
	}
}
