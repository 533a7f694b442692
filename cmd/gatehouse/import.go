package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/store"
)

// importedUser is one line of a `users import` file.
type importedUser struct {
	Username     string `json:"username"`
	PasswordHash string `json:"password_hash"`
	Email        string `json:"email"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Role         string `json:"role"`
}

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "import users from a JSON-lines file (- for standard input)",
		ArgsUsage: "FILE",
		Description: `Each line is {"username", "password_hash", "email"?, "first_name"?, "last_name"?, "role"?}.
password_hash is an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$);
bcrypt hashes are re-hashed to argon2id at the user's next successful login.
A line that cannot be imported is reported with its number and skipped; the
command fails if any was.`,
		Flags: serviceFlags(),
		Action: withService(func(ctx context.Context, cmd *cli.Command, svc *auth.Service, _ store.Reader) error {
			if cmd.Args().Len() != 1 {
				return fmt.Errorf("users import takes one FILE argument")
			}
			in := io.Reader(os.Stdin)
			if name := cmd.Args().First(); name != "-" {
				f, err := os.Open(name)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			return importUsers(ctx, svc, in, cmd.Root().ErrWriter)
		}),
	}
}

// importUsers creates a user per line of in, reporting progress and
// failures on out.
func importUsers(ctx context.Context, svc *auth.Service, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	start, lastReport := time.Now(), time.Now()
	var line, imported, failed int
	for sc.Scan() {
		line++
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var u importedUser
		err := json.Unmarshal(sc.Bytes(), &u)
		if err == nil && (u.Username == "" || u.PasswordHash == "") {
			err = fmt.Errorf("username and password_hash are required")
		}
		if err == nil {
			_, err = svc.CreateUser(ctx, auth.NewUser{
				Username: u.Username, PasswordHash: u.PasswordHash, Email: u.Email,
				FirstName: u.FirstName, LastName: u.LastName, Role: u.Role,
			}, "", cliOrigin)
		}
		if err != nil {
			failed++
			// The line itself is not echoed: it holds a password hash.
			fmt.Fprintf(out, "line %d: not imported: %v\n", line, err)
			continue
		}
		imported++
		if time.Since(lastReport) > time.Second {
			lastReport = time.Now()
			fmt.Fprintf(out, "imported %d users (%.0f/s)\n", imported, float64(imported)/time.Since(start).Seconds())
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read line %d: %w", line+1, err)
	}
	fmt.Fprintf(out, "imported %d users, %d failed, in %s\n", imported, failed, time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		return fmt.Errorf("%d of %d lines not imported", failed, line)
	}
	return nil
}
