package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/mail"
)

// TestAccountFlags: the accounts-by-e-mail flags reach auth.Config, and
// bad values stop serve before it starts.
func TestAccountFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		check   func(t *testing.T, c auth.Config)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, c auth.Config) {
			if c.Signup || c.RequireVerifiedEmail || c.Mailer != nil || c.PublicURL != "https://id.example.com" ||
				c.VerifyTokenTTL != 24*time.Hour || c.ResetTokenTTL != time.Hour || c.InviteTokenTTL != 7*24*time.Hour {
				t.Errorf("%+v", c)
			}
		}},
		{name: "set", args: []string{"--signup", "open", "--require-verified-email", "--smtp-url", "smtp://127.0.0.1:1025",
			"--reset-token-ttl", "30m", "--mail-from", "Auth <auth@example.com>"}, check: func(t *testing.T, c auth.Config) {
			if _, ok := c.Mailer.(*mail.SMTP); !ok || !c.Signup || !c.RequireVerifiedEmail || c.ResetTokenTTL != 30*time.Minute {
				t.Errorf("%+v", c)
			}
		}},
		{name: "signup value", args: []string{"--signup", "maybe"}, wantErr: "--signup must be off or open"},
		{name: "templates without smtp", args: []string{"--mail-templates", t.TempDir()}, wantErr: "--mail-templates needs --smtp-url"},
		{name: "bad smtp url", args: []string{"--smtp-url", "http://mail.example.com"}, wantErr: "--smtp-url"},
		{name: "bad from", args: []string{"--smtp-url", "smtp://127.0.0.1:1025", "--mail-from", "not an address"}, wantErr: "mail from"},
		{name: "negative ttl", args: []string{"--verify-token-ttl", "-1h"}, wantErr: "--verify-token-ttl must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var (
				c   auth.Config
				err error
			)
			cmd := &cli.Command{Name: "serve", Flags: accountFlags(), Action: func(_ context.Context, cmd *cli.Command) error {
				err = applyAccountFlags(cmd, &c, "https://id.example.com")
				return nil
			}}
			if runErr := cmd.Run(context.Background(), append([]string{"serve"}, tc.args...)); runErr != nil {
				t.Fatal(runErr)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
