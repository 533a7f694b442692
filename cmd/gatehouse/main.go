// Command gatehouse is the gatehouse JWT authentication server and its
// administration CLI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/gatehouse-auth/gatehouse/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().Run(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

// env is the environment variable behind a flag: --foo-bar is GATEHOUSE_FOO_BAR.
func env(flag string) cli.ValueSourceChain {
	return cli.EnvVars("GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_")))
}

func newApp() *cli.Command {
	return &cli.Command{
		Name:    "gatehouse",
		Usage:   "a self-hosted JWT authentication server",
		Version: version,
		Description: "Every flag can also be set by an environment variable: " +
			"--foo-bar is GATEHOUSE_FOO_BAR.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "db", Value: "./gatehouse.db", Sources: env("db"),
				Usage: "the SQLite database file (created if missing), or a postgres:// URL"},
			&cli.DurationFlag{Name: "db-timeout", Value: store.DefaultTimeout, Sources: env("db-timeout"),
				Usage: "the longest a database call may take (a statement, a transaction, the wait for a connection or for SQLite's write lock); past it a request answers 503 with Retry-After"},
			&cli.StringFlag{Name: "log-level", Value: "info", Sources: env("log-level"),
				Usage: "debug, info, warn or error"},
			&cli.StringFlag{Name: "log-format", Value: "text", Sources: env("log-format"),
				Usage: "text or json"},
		},
		Commands: []*cli.Command{
			serveCommand(),
			migrateCommand(),
			dbCommand(),
			usersCommand(),
			appsCommand(),
			webhooksCommand(),
			keysCommand(),
			conformanceCommand(),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(_ context.Context, cmd *cli.Command) error {
					_, err := fmt.Fprintln(cmd.Root().Writer, version)
					return err
				},
			},
		},
	}
}
