package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v3"

	gatehouse "github.com/gatehouse-auth/gatehouse"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/store"
)

// withService runs f with the service on the --db database.
func withService(f func(ctx context.Context, cmd *cli.Command, svc *auth.Service, st store.Reader) error) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		log, err := newLogger(cmd)
		if err != nil {
			return err
		}
		inst, err := open(ctx, cmd, log, cmd.String("issuer"))
		if err != nil {
			return err
		}
		defer inst.Close()
		return f(ctx, cmd, inst.Service, inst.Store)
	}
}

var cliOrigin = auth.Origin{Dialect: "cli"}

func table(cmd *cli.Command, header string, rows func(w func(format string, args ...any))) error {
	tw := tabwriter.NewWriter(cmd.Root().Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) })
	return tw.Flush()
}

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply the database migrations and exit",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			cur, err := gatehouse.Migrate(ctx, cmd.String("db"), func(version int64, took time.Duration) {
				fmt.Fprintf(cmd.Root().Writer, "applied migration %d in %s\n", version, took.Round(time.Millisecond))
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.Root().Writer, "database %s at schema version %d\n", gatehouse.RedactDB(cmd.String("db")), cur)
			return err
		},
	}
}

func usersCommand() *cli.Command {
	return &cli.Command{
		Name:  "users",
		Usage: "manage users",
		Commands: []*cli.Command{importCommand(), {
			Name:  "create",
			Usage: "create a user",
			Flags: append(serviceFlags(),
				&cli.StringFlag{Name: "username", Required: true, Usage: "the login name"},
				&cli.StringFlag{Name: "password", Required: true, Sources: env("user-password"),
					Usage: "the password (or GATEHOUSE_USER_PASSWORD, which keeps it out of the shell history)"},
				&cli.StringFlag{Name: "email", Usage: "the e-mail address"},
				&cli.StringFlag{Name: "first-name", Usage: "the first name"},
				&cli.StringFlag{Name: "last-name", Usage: "the last name"},
				&cli.StringFlag{Name: "role", Value: auth.RoleUser, Usage: "the role"},
			),
			Action: withService(func(ctx context.Context, cmd *cli.Command, svc *auth.Service, _ store.Reader) error {
				u, err := svc.CreateUser(ctx, auth.NewUser{
					Username: cmd.String("username"), Password: cmd.String("password"), Email: cmd.String("email"),
					FirstName: cmd.String("first-name"), LastName: cmd.String("last-name"), Role: cmd.String("role"),
				}, "", cliOrigin)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.Root().Writer, u.ID)
				return err
			}),
		}, {
			Name:  "disable",
			Usage: "disable a user and revoke its refresh tokens",
			Flags: append(serviceFlags(), &cli.StringFlag{Name: "username", Required: true, Usage: "the username or e-mail"}),
			Action: withService(func(ctx context.Context, cmd *cli.Command, svc *auth.Service, st store.Reader) error {
				u, err := st.GetUserByLogin(ctx, cmd.String("username"))
				if err != nil {
					return err
				}
				before := u
				u.Disabled = true
				_, err = svc.UpdateUser(ctx, before, u, "", cliOrigin)
				return err
			}),
		}, {
			Name:  "list",
			Usage: "list users",
			Flags: append(serviceFlags(), &cli.StringFlag{Name: "query", Aliases: []string{"q"}, Usage: "a substring of the username or e-mail"}),
			Action: withService(func(ctx context.Context, cmd *cli.Command, _ *auth.Service, st store.Reader) error {
				return table(cmd, "ID\tUSERNAME\tEMAIL\tROLE\tDISABLED\tCREATED", func(row func(string, ...any)) {
					for p := (store.Page{Limit: 500}); ; {
						us, next, err := st.ListUsers(ctx, store.UserFilter{Query: cmd.String("query")}, p)
						if err != nil {
							row("error: %v", err)
							return
						}
						for _, u := range us {
							row("%s\t%s\t%s\t%s\t%t\t%s", u.ID, u.Username, u.Email, u.Role, u.Disabled, u.CreatedAt.Format(time.RFC3339))
						}
						if next == "" {
							return
						}
						p.After = next
					}
				})
			}),
		}},
	}
}

func appsCommand() *cli.Command {
	return &cli.Command{
		Name:  "apps",
		Usage: "manage applications",
		Commands: []*cli.Command{{
			Name:  "create",
			Usage: "create an application",
			Flags: append(serviceFlags(),
				&cli.StringFlag{Name: "name", Required: true, Usage: "a unique name"},
				&cli.StringFlag{Name: "audience", Usage: "the tokens' aud (default: the application's id)"},
				&cli.DurationFlag{Name: "access-token-ttl", Value: auth.DefaultAccessTokenTTL, Usage: "access-token lifetime"},
				&cli.DurationFlag{Name: "refresh-token-ttl", Value: auth.DefaultRefreshTokenTTL, Usage: "refresh-token lifetime"},
				&cli.StringSliceFlag{Name: "redirect-uri", Usage: "a redirect URI of the authorization code flow, exact (repeat for several)"},
				&cli.StringSliceFlag{Name: "post-logout-redirect-uri", Usage: "a URI a sign-out may send the browser to, exact (repeat for several)"},
				&cli.StringFlag{Name: "client-type", Value: store.ClientPublic, Usage: "public (PKCE only) or confidential (it authenticates; a secret or a JWK Set makes it so)"},
				&cli.BoolFlag{Name: "first-party", Usage: "sign users in without a consent page"},
			),
			Action: withService(func(ctx context.Context, cmd *cli.Command, svc *auth.Service, _ store.Reader) error {
				c := auth.ApplicationChange{
					Name:           new(cmd.String("name")),
					AccessTokenTTL: new(cmd.Duration("access-token-ttl")), RefreshTokenTTL: new(cmd.Duration("refresh-token-ttl")),
					RedirectURIs:           new(cmd.StringSlice("redirect-uri")),
					PostLogoutRedirectURIs: new(cmd.StringSlice("post-logout-redirect-uri")),
					ClientType:             new(cmd.String("client-type")), FirstParty: new(cmd.Bool("first-party")),
				}
				if cmd.String("audience") != "" {
					c.Audience = new(cmd.String("audience"))
				}
				a, err := svc.CreateApplication(ctx, c, "", cliOrigin)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.Root().Writer, a.ID)
				return err
			}),
		}, {
			Name:  "list",
			Usage: "list applications",
			Flags: serviceFlags(),
			Action: withService(func(ctx context.Context, cmd *cli.Command, _ *auth.Service, st store.Reader) error {
				return table(cmd, "ID\tNAME\tAUDIENCE\tACCESS TTL\tREFRESH TTL\tCLIENT TYPE\tFIRST PARTY\tDEFAULT\tREDIRECT URIS", func(row func(string, ...any)) {
					for p := (store.Page{Limit: 500}); ; {
						apps, next, err := st.ListApplications(ctx, p)
						if err != nil {
							row("error: %v", err)
							return
						}
						for _, a := range apps {
							row("%s\t%s\t%s\t%s\t%s\t%s\t%t\t%t\t%s", a.ID, a.Name, a.Audience, a.AccessTokenTTL, a.RefreshTokenTTL,
								a.ClientType, a.FirstParty, a.IsDefault, strings.Join(a.RedirectURIs, " "))
						}
						if next == "" {
							return
						}
						p.After = next
					}
				})
			}),
		}},
	}
}

func keysCommand() *cli.Command {
	return &cli.Command{
		Name:  "keys",
		Usage: "manage signing keys",
		Commands: []*cli.Command{{
			Name:  "rotate",
			Usage: "make a new signing key, published at once and signing after --key-activation-delay, and retire the old one then (it stays in the JWKS until its tokens expire)",
			Flags: append(serviceFlags(),
				&cli.StringFlag{Name: "alg", Usage: "the algorithm to rotate (default: --signing-alg)"},
				&cli.BoolFlag{Name: "immediate", Usage: "sign with the new key at once and retire the old one now (a compromised key)"}),
			Action: withService(func(ctx context.Context, cmd *cli.Command, svc *auth.Service, _ store.Reader) error {
				k, err := svc.RotateSigningKey(ctx, cmd.String("alg"), cmd.Bool("immediate"), "", cliOrigin)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.Root().Writer, "%s\t%s\tactive from %s\n", k.KID, k.Alg, k.ActiveFrom.Format(time.RFC3339))
				return err
			}),
		}, {
			Name:  "list",
			Usage: "list signing keys (public metadata only)",
			Flags: serviceFlags(),
			Action: withService(func(ctx context.Context, cmd *cli.Command, _ *auth.Service, st store.Reader) error {
				ks, err := st.ListSigningKeys(ctx)
				if err != nil {
					return err
				}
				return table(cmd, "KID\tALG\tCREATED\tACTIVE FROM\tRETIRED", func(row func(string, ...any)) {
					for _, k := range ks {
						retired := "-"
						if k.RetiredAt != nil {
							retired = k.RetiredAt.Format(time.RFC3339)
						}
						row("%s\t%s\t%s\t%s\t%s", k.KID, k.Alg, k.CreatedAt.Format(time.RFC3339), k.ActiveFrom.Format(time.RFC3339), retired)
					}
				})
			}),
		}},
	}
}
