package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/store"
)

func webhooksCommand() *cli.Command {
	return &cli.Command{
		Name:  "webhooks",
		Usage: "manage webhook endpoints",
		Commands: []*cli.Command{{
			Name:  "create",
			Usage: "create an endpoint and print its id and secret (shown this once)",
			Flags: append(serviceFlags(),
				&cli.StringFlag{Name: "url", Required: true, Usage: "the endpoint, an http or https URL of a public address"},
				&cli.StringSliceFlag{Name: "events", Required: true, Usage: "the audit actions it hears (comma-separated, e.g. user.create,login)"},
				&cli.StringFlag{Name: "description", Usage: "what the endpoint is for"}),
			Action: withService(func(ctx context.Context, cmd *cli.Command, svc *auth.Service, _ store.Reader) error {
				secret, w, err := svc.CreateWebhook(ctx, auth.WebhookInput{
					URL: cmd.String("url"), Events: cmd.StringSlice("events"), Description: cmd.String("description"),
				}, "", cliOrigin)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.Root().Writer, "%s\t%s\n", w.ID, secret)
				return err
			}),
		}, {
			Name:  "list",
			Usage: "list endpoints (never their secrets)",
			Flags: serviceFlags(),
			Action: withService(func(ctx context.Context, cmd *cli.Command, _ *auth.Service, st store.Reader) error {
				return table(cmd, "ID\tURL\tEVENTS\tDISABLED\tCREATED", func(row func(string, ...any)) {
					for p := (store.Page{Limit: 500}); ; {
						hooks, next, err := st.ListWebhooks(ctx, p)
						if err != nil {
							row("error: %v", err)
							return
						}
						for _, w := range hooks {
							row("%s\t%s\t%s\t%t\t%s", w.ID, w.URL, strings.Join(w.Events, ","), w.Disabled, w.CreatedAt.Format(time.RFC3339))
						}
						if next == "" {
							return
						}
						p.After = next
					}
				})
			}),
		}, {
			Name:  "delete",
			Usage: "delete an endpoint and its deliveries",
			Flags: append(serviceFlags(), &cli.StringFlag{Name: "id", Required: true, Usage: "the endpoint's id"}),
			Action: withService(func(ctx context.Context, cmd *cli.Command, svc *auth.Service, _ store.Reader) error {
				return svc.DeleteWebhook(ctx, cmd.String("id"), "", cliOrigin)
			}),
		}, {
			Name:  "deliveries",
			Usage: "list an endpoint's latest deliveries, newest first",
			Flags: append(serviceFlags(),
				&cli.StringFlag{Name: "id", Required: true, Usage: "the endpoint's id"},
				&cli.IntFlag{Name: "limit", Value: 50, Usage: "at most this many"}),
			Action: withService(func(ctx context.Context, cmd *cli.Command, _ *auth.Service, st store.Reader) error {
				if _, err := st.GetWebhook(ctx, cmd.String("id")); err != nil {
					return err
				}
				ds, _, err := st.ListWebhookDeliveries(ctx, cmd.String("id"), store.Page{Limit: int(cmd.Int("limit"))})
				if err != nil {
					return err
				}
				return table(cmd, "ID\tEVENT\tSTATE\tATTEMPTS\tLAST STATUS\tLAST ERROR\tCREATED", func(row func(string, ...any)) {
					for _, d := range ds {
						row("%s\t%s\t%s\t%d\t%d\t%s\t%s", d.EventID, d.Event, d.State, d.Attempts, d.LastStatus, d.LastError, d.CreatedAt.Format(time.RFC3339))
					}
				})
			}),
		}},
	}
}
