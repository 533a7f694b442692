// Package mail sends gatehouse's account mails: e-mail verification,
// password reset and invitation (DESIGN.md, "Accounts by e-mail").
//
// The server consumes the Sender interface. NewSMTP returns the SMTP
// implementation, configured from --smtp-url, --mail-from and
// --mail-templates; Disabled stands in when no --smtp-url is set and
// returns ErrNotConfigured from every Send.
//
// # Transport
//
// smtp://[user:pass@]host[:port] (port 587 by default) upgrades with
// STARTTLS whenever the server offers it. Credentials never cross the
// network in clear text: with credentials and a host other than localhost
// or a loopback IP, STARTTLS is mandatory and a server that does not offer
// it fails the send before AUTH. Without credentials, or to a loopback host,
// a server without STARTTLS is used in plain text. A STARTTLS or TLS
// handshake that fails fails the send; there is no fallback to plain text.
// smtps://... (port 465 by default) is TLS from the first byte. AUTH uses
// PLAIN, else LOGIN. Each Send opens its own connection and is bounded by
// WithTimeout (DefaultTimeout): when the deadline or the caller's context
// ends, the connection is closed and the error wraps the context's error.
//
// # Templates
//
// Every message has a text and an HTML part. Each kind K has K.txt, which
// defines the blocks "subject", "content" and "note" for layout.txt, and
// K.html, which defines "content", "action" (the button label) and "note"
// for layout.html. The files are embedded (templates/); a file of the same
// name in the WithTemplatesDir directory replaces its embedded one, file by
// file, and a file there with an unknown name is an error. Every template
// gets these fields:
//
//	.Product    the product name, "gatehouse" unless WithProduct says otherwise
//	.Username   the recipient's username (may be empty)
//	.Link       the full link, PUBLIC_URL/...?token=TOKEN
//	.Token      the token alone, for apps that ask the user to paste it
//	.ExpiresIn  the token's lifetime in words: "24 hours", "1 hour", "7 days"
//	.Subject    the rendered subject (not in "subject" itself)
//
// The text parts go through text/template, the HTML parts through
// html/template, which escapes each field for its context. All templates are
// parsed and tried at construction, so a broken override fails at start-up.
//
// Nothing in this package logs. Errors name the operation and never hold a
// message body, a link, a token or the SMTP password; the caller logs and
// audits them.
//
// # Modules
//
// SMTP is github.com/wneessen/go-mail (v0.8.1; v0.8.2 needs a newer Go): it
// is maintained and widely used, has explicit STARTTLS policies (mandatory,
// opportunistic, none) and implicit TLS, sends with a context, and builds
// MIME multipart/alternative messages with quoted-printable parts. The
// tests talk real SMTP over loopback to an in-process
// github.com/emersion/go-smtp server (test only), the server library of the
// go-smtp/go-imap family, which lets a test backend see AUTH, TLS state,
// envelope and DATA of every session.
package mail
