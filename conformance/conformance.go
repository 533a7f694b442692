// Package conformance holds the contract's checks and the validating
// client they run through, once for both of their users: `gatehouse
// conformance` runs them against a live deployment, every exchange
// validated against the contract embedded in the binary, and the contract
// tests run the same checks against their test servers. A check changes
// nothing it did not create (no key rotation, no change to existing roles
// or users); what it creates is named with a unique prefix and deleted at
// the end.
package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// Options says where the deployment is and how to administer it.
type Options struct {
	// URL is the deployment's base URL.
	URL string
	// Username and Password are an administrator's (every gatehouse scope).
	Username, Password string
	// Out receives one line per check, starting PASS or FAIL.
	Out io.Writer
	// HTTPClient sends the requests (http.DefaultClient when nil).
	HTTPClient *http.Client
	// MaxRetryAfter caps how long one Retry-After is waited (30 s when 0).
	MaxRetryAfter time.Duration
	// Prefix names what the run creates ("conformance-" and random hex when "").
	Prefix string
	// Contract is what the exchanges are validated against (the embedded
	// contract when nil).
	Contract *Contract
}

// Result counts the checks.
type Result struct {
	Passed, Failed int
	// Prefix is what everything the run created was named with.
	Prefix string
}

// runner runs the checks in order and prints a line for each.
type runner struct {
	out io.Writer
	env *Env
	res Result
	// mu guards problems, what the exchanges of the running check broke.
	mu       sync.Mutex
	problems []string
	// cleanup holds what to delete at the end, run in reverse order.
	cleanup []cleanupStep
}

type cleanupStep struct {
	name string
	fn   func(ctx context.Context) error
}

func (r *runner) report(problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, problem)
}

func (r *runner) takeProblems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.problems
	r.problems = nil
	return p
}

// check runs fn as the check name: it passes when fn returns nil and no
// exchange broke the contract.
func (r *runner) check(name string, fn func() error) bool {
	r.takeProblems()
	err := fn()
	problems := r.takeProblems()
	if err != nil {
		problems = append([]string{err.Error()}, problems...)
	}
	if len(problems) > 0 {
		r.res.Failed++
		fmt.Fprintf(r.out, "FAIL %s: %s\n", name, strings.Join(problems, "; "))
		return false
	}
	r.res.Passed++
	fmt.Fprintf(r.out, "PASS %s\n", name)
	return true
}

func bearer(token string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

func status(got, want int, body []byte) error {
	if got != want {
		return fmt.Errorf("status %d, want %d: %.300s", got, want, body)
	}
	return nil
}

// Run runs every check of the Suite against the deployment and deletes
// what it made. The error is for a run that could not start (a bad URL,
// no contract); failed checks are counted in the Result.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.URL == "" || o.Username == "" || o.Password == "" {
		return Result{}, errors.New("the URL and an administrator's username and password are required")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.MaxRetryAfter == 0 {
		o.MaxRetryAfter = 30 * time.Second
	}
	if o.Prefix == "" {
		b := make([]byte, 4)
		rand.Read(b)
		o.Prefix = "conformance-" + hex.EncodeToString(b) + "-"
	}
	if o.Contract == nil {
		var err error
		if o.Contract, err = EmbeddedContract(); err != nil {
			return Result{}, err
		}
	}
	r := &runner{out: o.Out, res: Result{Prefix: o.Prefix}}
	d := &Doer{Contract: o.Contract, Next: o.HTTPClient, Report: r.report, MaxRetryAfter: o.MaxRetryAfter}
	c, err := client.NewClientWithResponses(strings.TrimRight(o.URL, "/"), client.WithHTTPClient(d))
	if err != nil {
		return Result{}, err
	}
	r.env = &Env{Client: c, Username: o.Username, Password: o.Password, Prefix: o.Prefix,
		OnCleanup: func(name string, fn func(context.Context) error) {
			r.cleanup = append(r.cleanup, cleanupStep{name, fn})
		}}
	// adminRefresh is the refresh token of the administrator's session,
	// revoked last: the run leaves no live session behind.
	adminRefresh := r.run(ctx)
	// Clean up whatever happened, newest first.
	for i := len(r.cleanup) - 1; i >= 0; i-- {
		step := r.cleanup[i]
		r.check("cleanup: "+step.name, func() error { return step.fn(context.WithoutCancel(ctx)) })
	}
	if r.env.Admin != "" {
		r.check("cleanup: nothing named "+o.Prefix+" remains", func() error { return Leftovers(context.WithoutCancel(ctx), r.env) })
	}
	if adminRefresh != "" {
		// After every check that needs the administrator's access token:
		// revoking the session denies it too.
		r.check("cleanup: the administrator's session ends (POST /oauth/revoke)", func() error {
			return r.env.revoke(context.WithoutCancel(ctx), adminRefresh)
		})
	}
	return r.res, nil
}

// run runs the Suite, signing the administrator in before the first
// check that needs it (the checks that need it do not run if that
// fails), and returns the refresh token of the administrator's session.
func (r *runner) run(ctx context.Context) (adminRefresh string) {
	signedIn := false
	for _, c := range Suite {
		if c.Admin && !signedIn {
			signedIn = true
			r.check("the administrator logs in (password grant)", func() error {
				tok, err := r.env.passwordGrant(ctx, r.env.Username, r.env.Password, "")
				if err != nil {
					return err
				}
				r.env.Admin, adminRefresh = tok.AccessToken, tok.RefreshToken
				return nil
			})
		}
		if c.Admin && r.env.Admin == "" {
			continue
		}
		r.check(c.Name, func() error { return c.Run(ctx, r.env) })
	}
	return adminRefresh
}
