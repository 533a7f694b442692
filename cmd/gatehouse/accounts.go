package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/mail"
)

// accountFlags configure accounts by e-mail: the mail transport, sign-up,
// verification and the mailed tokens' lifetimes (DESIGN.md).
func accountFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "smtp-url", Sources: env("smtp-url"),
			Usage: "the SMTP server mails go through: smtp://[user:pass@]host[:port] (STARTTLS when offered; credentials only over TLS or to loopback) or smtps://... (default: none, nothing is mailed)"},
		&cli.StringFlag{Name: "mail-from", Value: "gatehouse <gatehouse@localhost>", Sources: env("mail-from"),
			Usage: `the mails' From, "Name <addr>" or "addr"`},
		&cli.StringFlag{Name: "mail-templates", Sources: env("mail-templates"),
			Usage: "a directory whose template files (verify.txt, reset.html, layout.txt, ...) replace the embedded ones, file by file"},
		&cli.DurationFlag{Name: "mail-timeout", Value: mail.DefaultTimeout, Sources: env("mail-timeout"),
			Usage: "how long one mail may take, from the dial to the end of delivery"},
		&cli.StringFlag{Name: "signup", Value: "off", Sources: env("signup"),
			Usage: "POST /v1/signup: off (403) or open"},
		&cli.BoolFlag{Name: "require-verified-email", Sources: env("require-verified-email"),
			Usage: "refuse logins of users whose e-mail is not verified, as for a wrong password"},
		&cli.DurationFlag{Name: "verify-token-ttl", Value: auth.DefaultVerifyTokenTTL, Sources: env("verify-token-ttl"),
			Usage: "how long a mailed e-mail verification link is valid"},
		&cli.DurationFlag{Name: "reset-token-ttl", Value: auth.DefaultResetTokenTTL, Sources: env("reset-token-ttl"),
			Usage: "how long a mailed password-reset link is valid"},
		&cli.DurationFlag{Name: "invite-token-ttl", Value: auth.DefaultInviteTokenTTL, Sources: env("invite-token-ttl"),
			Usage: "how long a mailed invitation is valid"},
	}
}

// applyAccountFlags sets c's accounts-by-e-mail settings from the flags,
// which exist on serve only (elsewhere they read as unset: no mail, no
// sign-up). publicURL is the base of the mailed links.
func applyAccountFlags(cmd *cli.Command, c *auth.Config, publicURL string) error {
	switch v := cmd.String("signup"); v {
	case "", "off":
	case "open":
		c.Signup = true
	default:
		return fmt.Errorf("--signup must be off or open, got %q", v)
	}
	c.RequireVerifiedEmail = cmd.Bool("require-verified-email")
	c.PublicURL = publicURL
	for _, ttl := range []struct {
		name string
		to   *time.Duration
	}{{"verify-token-ttl", &c.VerifyTokenTTL}, {"reset-token-ttl", &c.ResetTokenTTL}, {"invite-token-ttl", &c.InviteTokenTTL}} {
		d := cmd.Duration(ttl.name)
		if d < 0 {
			return fmt.Errorf("--%s must be positive, got %v", ttl.name, d)
		}
		*ttl.to = d
	}
	if cmd.String("smtp-url") == "" {
		if cmd.String("mail-templates") != "" {
			return fmt.Errorf("--mail-templates needs --smtp-url")
		}
		return nil
	}
	sender, err := mail.NewSMTP(cmd.String("smtp-url"), cmd.String("mail-from"),
		mail.WithTemplatesDir(cmd.String("mail-templates")), mail.WithTimeout(cmd.Duration("mail-timeout")))
	if err != nil {
		return fmt.Errorf("--smtp-url: %w", err)
	}
	c.Mailer = sender
	return nil
}
