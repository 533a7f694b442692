package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/gatehouse-auth/gatehouse/conformance"
)

// conformanceCommand runs the contract checks against a running
// deployment and exits non-zero when one fails.
func conformanceCommand() *cli.Command {
	return &cli.Command{
		Name:  "conformance",
		Usage: "run contract checks against a running deployment (admin credentials from GATEHOUSE_CONFORMANCE_USERNAME and GATEHOUSE_CONFORMANCE_PASSWORD)",
		Description: "It runs the contract suite's own checks; every exchange is validated against the contract embedded in this binary. " +
			"It changes nothing it did not create: what it creates (roles, users, applications, API keys) " +
			"is named with a unique prefix and deleted at the end. It prints a line per check, PASS or FAIL, " +
			"and exits non-zero when any fails.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Required: true, Usage: "the deployment's base URL, e.g. https://auth.example.com"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "the timeout of each request"},
			&cli.DurationFlag{Name: "max-retry-after", Value: 30 * time.Second, Usage: "the longest Retry-After waited before retrying"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			res, err := conformance.Run(ctx, conformance.Options{
				URL:           cmd.String("url"),
				Username:      os.Getenv("GATEHOUSE_CONFORMANCE_USERNAME"),
				Password:      os.Getenv("GATEHOUSE_CONFORMANCE_PASSWORD"),
				Out:           cmd.Root().Writer,
				HTTPClient:    newHTTPClient(cmd.Duration("timeout")),
				MaxRetryAfter: cmd.Duration("max-retry-after"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.Root().Writer, "%d passed, %d failed (prefix %s)\n", res.Passed, res.Failed, res.Prefix)
			if res.Failed > 0 {
				return fmt.Errorf("%d conformance checks failed", res.Failed)
			}
			return nil
		},
	}
}

func newHTTPClient(timeout time.Duration) *http.Client { return &http.Client{Timeout: timeout} }
