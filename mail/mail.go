package mail

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind names one of the messages gatehouse sends. Its value is also the stem
// of the kind's template files (verify.txt, verify.html).
type Kind string

// The kinds of message, one per account flow in DESIGN.md.
const (
	// KindVerify asks a user to confirm their e-mail address.
	KindVerify Kind = "verify"
	// KindReset carries a password-reset link.
	KindReset Kind = "reset"
	// KindInvite invites a new user to set a password.
	KindInvite Kind = "invite"
)

// kinds lists every kind, in a fixed order.
var kinds = []Kind{KindVerify, KindReset, KindInvite}

// Message is what the caller knows about one mail. Link is the full link
// (PUBLIC_URL/...?token=TOKEN), built by the caller; Token is the same token
// alone, shown in the text part for apps that ask the user to paste it.
type Message struct {
	To        string        // recipient address, "addr" or "Name <addr>"
	Username  string        // the recipient's gatehouse username, may be empty
	Link      string        // absolute http or https URL that carries the token
	Token     string        // the token alone
	ExpiresIn time.Duration // how long the token stays valid, > 0
}

// Sender sends one message of a kind. Implementations never log the message,
// its link or its token; errors name the operation and the caller logs them.
type Sender interface {
	Send(ctx context.Context, kind Kind, m Message) error
}

// ErrNotConfigured is returned by Disabled.Send: no SMTP server was
// configured, so nothing was sent.
var ErrNotConfigured = errors.New("mail is not configured")

// Disabled is the Sender to use when no --smtp-url is set. Its zero value is
// ready; Send sends nothing and returns ErrNotConfigured, so the caller can
// answer as DESIGN.md says for a server without mail.
type Disabled struct{}

var (
	_ Sender = Disabled{}
	_ Sender = (*SMTP)(nil)
)

// Send returns ErrNotConfigured.
func (Disabled) Send(context.Context, Kind, Message) error {
	return ErrNotConfigured
}

// humanDuration renders d the way a mail reads it: "7 days", "24 hours",
// "1 hour", "30 minutes". Whole days are used from two days up, so a day
// reads "24 hours"; what is not a whole unit is shown in the next smaller
// unit, rounded down so that a mail never promises more time than there is.
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= 2*day && d%day == 0:
		return plural(int64(d/day), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64(d/time.Minute), "minute")
	default:
		return plural(int64(d/time.Second), "second")
	}
}

func plural(n int64, unit string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
