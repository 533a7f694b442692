// Package conformance runs contract checks against a running gatehouse:
// every exchange goes through the generated client and is validated
// against the contract embedded in the binary. It changes nothing it did
// not create (no key rotation, no change to existing roles or users); what
// it creates is named with a unique prefix and deleted at the end.
package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	gatehouse "github.com/gatehouse-auth/gatehouse"
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
}

// Result counts the checks.
type Result struct {
	Passed, Failed int
	// Prefix is what everything the run created was named with.
	Prefix string
}

func init() {
	// The formats the contract uses, as the server checks them.
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122))
	// GET /openapi.yaml answers YAML text, which the contract types as a string.
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
}

// contractRouter loads the embedded contract.
func contractRouter() (routers.Router, error) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(gatehouse.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load the embedded contract: %w", err)
	}
	if err := spec.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the embedded contract: %w", err)
	}
	spec.Servers = nil
	return gorillamux.NewRouter(spec)
}

// doer validates every request and response against the contract, waits
// out Retry-After on a 429 or 503, and records what broke the contract.
type doer struct {
	router   routers.Router
	next     *http.Client
	maxWait  time.Duration
	mu       sync.Mutex
	problems []string
}

func (d *doer) problem(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.problems = append(d.problems, fmt.Sprintf(format, args...))
}

func (d *doer) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.problems
	d.problems = nil
	return p
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	reset := func() { req.Body = io.NopCloser(bytes.NewReader(reqBody)) }
	reset()
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		d.problem("%s %s is not in the contract: %v", req.Method, req.URL.Path, err)
		return d.next.Do(req)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		d.problem("%s %s: the request breaks the contract: %v", req.Method, req.URL.Path, err)
	}
	for attempt := 0; ; attempt++ {
		reset()
		resp, err := d.next.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Body:    io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
			d.problem("%s %s → %d: the response breaks the contract: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
		wait, ok := retryAfter(resp)
		if !ok || attempt >= 5 {
			return resp, nil
		}
		select {
		case <-time.After(min(wait, d.maxWait)):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
}

// retryAfter is how long a 429 or 503 asks to wait.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// runner runs the checks in order and prints a line for each.
type runner struct {
	opts   Options
	c      *client.ClientWithResponses
	d      *doer
	res    Result
	admin  string
	prefix string
	// created holds what to delete at the end, in reverse order.
	cleanup []cleanupStep
	// adminRefresh is the refresh token of the administrator's session,
	// revoked last: the run leaves no live session behind.
	adminRefresh string
}

type cleanupStep struct {
	name string
	fn   func(ctx context.Context) error
}

// check runs fn as the check name: it passes when fn returns nil and no
// exchange broke the contract.
func (r *runner) check(name string, fn func() error) bool {
	r.d.take()
	err := fn()
	problems := r.d.take()
	if err != nil {
		problems = append([]string{err.Error()}, problems...)
	}
	if len(problems) > 0 {
		r.res.Failed++
		fmt.Fprintf(r.opts.Out, "FAIL %s: %s\n", name, strings.Join(problems, "; "))
		return false
	}
	r.res.Passed++
	fmt.Fprintf(r.opts.Out, "PASS %s\n", name)
	return true
}

func (r *runner) onCleanup(name string, fn func(ctx context.Context) error) {
	r.cleanup = append(r.cleanup, cleanupStep{name, fn})
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

// Run runs every check against the deployment and deletes what it made.
// The error is for a run that could not start (a bad URL, no contract);
// failed checks are counted in the Result.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.URL == "" || o.Username == "" || o.Password == "" {
		return Result{}, errors.New("the URL and an administrator's username and password are required")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.MaxRetryAfter == 0 {
		o.MaxRetryAfter = 30 * time.Second
	}
	if o.Prefix == "" {
		b := make([]byte, 4)
		rand.Read(b)
		o.Prefix = "conformance-" + hex.EncodeToString(b) + "-"
	}
	router, err := contractRouter()
	if err != nil {
		return Result{}, err
	}
	d := &doer{router: router, next: o.HTTPClient, maxWait: o.MaxRetryAfter}
	c, err := client.NewClientWithResponses(strings.TrimRight(o.URL, "/"), client.WithHTTPClient(d))
	if err != nil {
		return Result{}, err
	}
	r := &runner{opts: o, c: c, d: d, prefix: o.Prefix, res: Result{Prefix: o.Prefix}}
	r.run(ctx)
	// Clean up whatever happened, newest first.
	for i := len(r.cleanup) - 1; i >= 0; i-- {
		step := r.cleanup[i]
		r.check("cleanup: "+step.name, func() error { return step.fn(context.WithoutCancel(ctx)) })
	}
	if r.admin != "" {
		r.check("cleanup: nothing named "+r.prefix+" remains", func() error { return r.leftovers(context.WithoutCancel(ctx)) })
	}
	if r.adminRefresh != "" {
		// After every check that needs the administrator's access token:
		// revoking the session denies it too.
		r.check("cleanup: the administrator's session ends (POST /oauth/revoke)", func() error {
			resp, err := r.c.RevokeTokenWithFormdataBodyWithResponse(context.WithoutCancel(ctx), client.RevokeTokenFormdataRequestBody{Token: r.adminRefresh})
			if err != nil {
				return err
			}
			return status(resp.StatusCode(), 200, resp.Body)
		})
	}
	return r.res, nil
}
