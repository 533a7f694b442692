package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/store"
)

func dbCommand() *cli.Command {
	return &cli.Command{
		Name:  "db",
		Usage: "whole-database operations",
		Commands: []*cli.Command{{
			Name:  "copy",
			Usage: "copy a whole deployment to a new, empty database (SQLite to PostgreSQL, or back)",
			Description: "Every table is copied in batches, in one transaction per table on the target, which is " +
				"migrated first and refused if it holds any gatehouse row. The source is only read, in one snapshot " +
				"(a live SQLite file may be copied). Sealed secrets are copied sealed: serve the target with the same " +
				"--master-key-file. Each table's row count is printed for both sides; any difference is an error.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "from", Required: true, Usage: "the source: a SQLite file or a postgres:// URL"},
				&cli.StringFlag{Name: "to", Required: true, Usage: "the target: a SQLite file or a postgres:// URL"},
			},
			Action: func(ctx context.Context, cmd *cli.Command) error {
				start := time.Now()
				tw := tabwriter.NewWriter(cmd.Root().Writer, 0, 4, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "table\tsource\ttarget\t")
				err := store.Copy(ctx, cmd.String("from"), cmd.String("to"), func(c store.TableCount) {
					fmt.Fprintf(tw, "%s\t%d\t%d\t\n", c.Table, c.Source, c.Target)
				})
				tw.Flush()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.Root().Writer, "copied %s to %s in %s\n",
					gatehouse.RedactDB(cmd.String("from")), gatehouse.RedactDB(cmd.String("to")), time.Since(start).Round(time.Millisecond))
				return err
			},
		}},
	}
}
