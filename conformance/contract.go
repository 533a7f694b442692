package conformance

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	gatehouse "github.com/gatehouse-auth/gatehouse"
)

func init() {
	// The formats the contract uses, as the server checks them.
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122))
	// The contract describes /openapi.yaml as what it is, YAML text
	// (`type: string`, as OpenAPI 3.1 reads a text body's schema and Prism
	// checks it); kin-openapi would parse it into a mapping. The console's
	// page and assets are text too. Only responses have these types, so
	// the server's own request validator is unaffected.
	for _, ct := range []string{"application/yaml", "text/html", "text/css", "text/javascript"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// Contract is the contract exchanges are validated against, and the
// (operation, status) pairs the Doers over it have seen.
type Contract struct {
	// Spec is the contract, without its servers (a Doer validates
	// requests to any base URL).
	Spec   *openapi3.T
	router routers.Router
	mu     sync.Mutex
	seen   map[string]bool
}

// LoadContract parses and validates the contract text data.
func LoadContract(data []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load the contract: %w", err)
	}
	if err := spec.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the contract: %w", err)
	}
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, fmt.Errorf("route the contract: %w", err)
	}
	return &Contract{Spec: spec, router: router, seen: map[string]bool{}}, nil
}

// EmbeddedContract is the contract embedded in the binary.
func EmbeddedContract() (*Contract, error) { return LoadContract(gatehouse.OpenAPI) }

// Pair names an (operation, status) pair as Unexercised lists it.
func Pair(operationID string, status int) string { return operationID + " " + strconv.Itoa(status) }

func (c *Contract) saw(operationID string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[Pair(operationID, status)] = true
}

// Unexercised lists, sorted, the documented (operation, status) pairs no
// Doer over c has seen but those in except, and counts the documented
// pairs.
func (c *Contract) Unexercised(except map[string]string) (missing []string, documented int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, path := range c.Spec.Paths.InMatchingOrder() {
		for _, op := range c.Spec.Paths.Value(path).Operations() {
			for status := range op.Responses.Map() {
				documented++
				p := op.OperationID + " " + status
				if !c.seen[p] && except[p] == "" {
					missing = append(missing, p)
				}
			}
		}
	}
	sort.Strings(missing)
	return missing, documented
}

type breaksRequestKey struct{}

// BreaksRequest marks the request made with ctx as breaking the contract
// on purpose: a Doer validates only its response.
func BreaksRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, breaksRequestKey{}, true)
}

// Doer is the generated client's HTTP doer (client.WithHTTPClient): it
// validates every request and response against the Contract, records the
// (operation, status) pair, and reports what broke the contract.
type Doer struct {
	Contract *Contract
	// Next sends the requests (http.DefaultClient when nil).
	Next *http.Client
	// Report receives each way an exchange broke the contract.
	Report func(problem string)
	// ReportBodies puts the response's body in a
	// report, for tests; a live deployment's bodies may hold tokens.
	ReportBodies bool
	// MaxRetryAfter, when positive, makes a 429 or 503 with Retry-After be
	// waited out (at most MaxRetryAfter each time) and sent again, up to
	// five times, as a client of a live deployment should; when 0, the
	// answer is the caller's (the contract tests provoke them).
	MaxRetryAfter time.Duration
}

// Do sends req and validates the exchange.
func (d *Doer) Do(req *http.Request) (*http.Response, error) {
	next := d.Next
	if next == nil {
		next = http.DefaultClient
	}
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	reset := func() { req.Body = io.NopCloser(bytes.NewReader(reqBody)) }
	reset()
	route, params, err := d.Contract.router.FindRoute(req)
	// A HEAD the contract declares no operation for is its GET without
	// the body (RFC 9110 §9.3.2; impl/head.go): checked as that GET, its
	// response by status and header fields alone.
	asGet := req.Method == http.MethodHead && err != nil
	validated := req
	if asGet {
		validated = req.Clone(req.Context())
		validated.Method = http.MethodGet
		route, params, err = d.Contract.router.FindRoute(validated)
	}
	if err != nil {
		d.Report(fmt.Sprintf("%s %s is not in the contract: %v", req.Method, req.URL.Path, err))
		return next.Do(req)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: validated, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if req.Context().Value(breaksRequestKey{}) == nil {
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			d.Report(fmt.Sprintf("%s %s: the request breaks the contract: %v", req.Method, req.URL.Path, err))
		}
	}
	for attempt := 0; ; attempt++ {
		reset()
		resp, err := next.Do(req)
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
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: asGet},
		}
		if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
			problem := fmt.Sprintf("%s %s → %d: the response breaks the contract: %v", req.Method, req.URL.Path, resp.StatusCode, err)
			if d.ReportBodies {
				problem += fmt.Sprintf("\nbody: %s", body)
			}
			d.Report(problem)
		}
		if !asGet {
			d.Contract.saw(route.Operation.OperationID, resp.StatusCode) // a HEAD checked no GET body
		}
		wait, ok := retryAfter(resp)
		if !ok || d.MaxRetryAfter <= 0 || attempt >= 5 {
			return resp, nil
		}
		select {
		case <-time.After(min(wait, d.MaxRetryAfter)):
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
