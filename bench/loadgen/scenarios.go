package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

const (
	formCT = "application/x-www-form-urlencoded"
	jsonCT = "application/json"
)

// env is what the scenarios share: the two servers, their clients and the
// gatehouse objects made at set-up.
type env struct {
	users      int
	gh, bl     string // base URLs
	ghc, blc   *http.Client
	adminToken string
	defaultApp string
	apiKey     string
	webhookID  string // the webhook scenarios' endpoint
}

// baselineKind names the work a baseline does, for the table.
var baselineKinds = map[string]string{
	"login":       "argon2id verify + ES256 sign",
	"login-rs256": "argon2id verify + RS256 sign",
	"refresh":     "SHA-256 + SQLite tx (select, update, insert) + ES256 sign",
	"protected":   "ES256 verify",
	"introspect":  "2 × ES256 verify (caller's token, introspected token)",
	"webhook-off": "the same requests to gatehouse, its endpoint subscribed to another event",
}

// scenario is one paired measurement: the same client work against
// gatehouse and against its baseline.
type scenario struct {
	Name     string  `json:"name"`
	What     string  `json:"what"`
	Baseline string  `json:"baseline"` // a key of baselineKinds
	Target   float64 `json:"target_ratio"`
	ghOps    func(ctx context.Context, e *env, n int) ([]op, error)
	blOps    func(ctx context.Context, e *env, n int) ([]op, error)
	// ghRound and blRound, when set, run before each of their side's
	// rounds (and warm-up): the webhook scenarios subscribe the endpoint.
	ghRound, blRound func(ctx context.Context, e *env) error
}

func scenarios() []scenario {
	login := func(path, ct string, body func(i int, e *env) string) func(context.Context, *env, int) ([]op, error) {
		return func(_ context.Context, e *env, n int) ([]op, error) {
			return repeat(n, func() op {
				return request(e.ghc, http.MethodPost, e.gh+path, ct, func() string { return body(rand.IntN(e.users), e) }, nil, http.StatusOK)
			}), nil
		}
	}
	blLogin := func(alg, ct string, body func(i int, e *env) string) func(context.Context, *env, int) ([]op, error) {
		path := "/login"
		if alg != "" {
			path += "?alg=" + alg
		}
		return func(_ context.Context, e *env, n int) ([]op, error) {
			return repeat(n, func() op {
				return request(e.blc, http.MethodPost, e.bl+path, ct, func() string { return body(rand.IntN(e.users), e) }, nil, http.StatusOK)
			}), nil
		}
	}
	passwordForm := func(i int, _ *env) string {
		return url.Values{"grant_type": {"password"}, "username": {username(i)}, "password": {benchPassword}}.Encode()
	}
	jmv := func(i int, e *env) string {
		return jsonBody(map[string]string{"email": email(i), "password": benchPassword, "resource": e.defaultApp})
	}
	userPass := func(i int, _ *env) string {
		return jsonBody(map[string]string{"username": username(i), "password": benchPassword})
	}
	apiUser := func(i int, _ *env) string {
		return jsonBody(map[string]string{"userName": username(i), "password": benchPassword})
	}
	return append([]scenario{
		{Name: "password", What: "password grant: POST /oauth/token", Baseline: "login", Target: 0.9,
			ghOps: login("/oauth/token", formCT, passwordForm), blOps: blLogin("", formCT, passwordForm)},
		{Name: "refresh", What: "refresh grant: POST /oauth/token (rotating)", Baseline: "refresh", Target: 0.8,
			ghOps: ghRefreshOps, blOps: blRefreshOps},
		{Name: "jmvstream", What: "POST /v1/authenticate {email, password, resource}", Baseline: "login", Target: 0.9,
			ghOps: login("/v1/authenticate", jsonCT, jmv), blOps: blLogin("", jsonCT, jmv)},
		{Name: "ocariot", What: "POST /v1/auth {username, password} (RS256)", Baseline: "login-rs256", Target: 0.9,
			ghOps: login("/v1/auth", jsonCT, userPass), blOps: blLogin("RS256", jsonCT, userPass)},
		{Name: "user-login", What: "POST /user/login {username, password}", Baseline: "login", Target: 0.9,
			ghOps: login("/user/login", jsonCT, userPass), blOps: blLogin("", jsonCT, userPass)},
		{Name: "api-user", What: "POST /api/user/authenticate {userName, password}", Baseline: "login", Target: 0.9,
			ghOps: login("/api/user/authenticate", jsonCT, apiUser), blOps: blLogin("", jsonCT, apiUser)},
		{Name: "me-jwt", What: "GET /v1/me, Authorization: Bearer JWT", Baseline: "protected", Target: 0.7,
			ghOps: ghMeJWTOps, blOps: blMeOps},
		{Name: "me-apikey", What: "GET /v1/me, X-API-Key", Baseline: "protected", Target: 0.7,
			ghOps: ghMeAPIKeyOps, blOps: blMeOps},
		{Name: "introspect", What: "POST /oauth/introspect (admin Bearer, token=JWT)", Baseline: "introspect", Target: 0.7,
			ghOps: ghIntrospectOps, blOps: blIntrospectOps},
	}, webhookScenarios()...)
}

// floodScenario is the login flood: password grants at high concurrency,
// where a 503 with Retry-After counts as an answer.
func floodScenario() scenario {
	s := scenarios()[0]
	s.Name, s.What = "flood", "login flood: password grants"
	return s
}

func repeat(n int, f func() op) []op {
	ops := make([]op, n)
	for i := range ops {
		ops[i] = f()
	}
	return ops
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// request is an op sending one request with a fresh body each time.
func request(c *http.Client, method, url, ct string, body func() string, hdr map[string]string, want int) op {
	return requestContaining(c, method, url, ct, body, hdr, want, "")
}

// requestContaining is request that also wants substr in the answer.
func requestContaining(c *http.Client, method, url, ct string, body func() string, hdr map[string]string, want int, substr string) op {
	return func(ctx context.Context) (int, http.Header, error) {
		b := ""
		if body != nil {
			b = body()
		}
		st, h, resp, err := call(ctx, c, method, url, ct, b, hdr)
		if err != nil {
			return st, h, err
		}
		if err := expect(st, resp, want); err != nil {
			return st, h, err
		}
		if substr != "" && !strings.Contains(string(resp), substr) {
			return st, h, fmt.Errorf("status %d without %s: %.160s", st, substr, resp)
		}
		return st, h, nil
	}
}

// tokens is an OAuth token response (gatehouse's and the baseline's).
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Key          string `json:"key"` // POST /v1/api-keys
}

// postTokens sends a set-up request and decodes its token answer.
func postTokens(ctx context.Context, c *http.Client, url, ct, body string, hdr map[string]string) (tokens, error) {
	st, _, resp, err := call(ctx, c, http.MethodPost, url, ct, body, hdr)
	if err == nil && st != http.StatusCreated {
		err = expect(st, resp, http.StatusOK)
	}
	if err != nil {
		return tokens{}, fmt.Errorf("POST %s: %w", url, err)
	}
	var t tokens
	if err := json.Unmarshal(resp, &t); err != nil {
		return tokens{}, fmt.Errorf("POST %s: %w", url, err)
	}
	return t, nil
}

// ghLogin is a password grant for user i (i < 0: the administrator).
func ghLogin(ctx context.Context, e *env, i int) (tokens, error) {
	user, pw := "admin", adminPassword
	if i >= 0 {
		user, pw = username(i), benchPassword
	}
	return postTokens(ctx, e.ghc, e.gh+"/oauth/token", formCT,
		url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}}.Encode(), nil)
}

// setupEnv logs the administrator in, finds the default application and
// creates an API key.
func setupEnv(ctx context.Context, e *env) error {
	t, err := ghLogin(ctx, e, -1)
	if err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	e.adminToken = t.AccessToken
	auth := map[string]string{"Authorization": "Bearer " + e.adminToken}
	st, _, body, err := call(ctx, e.ghc, http.MethodGet, e.gh+"/v1/applications?limit=500", "", "", auth)
	if err == nil {
		err = expect(st, body, http.StatusOK)
	}
	if err != nil {
		return fmt.Errorf("list applications: %w", err)
	}
	var apps struct {
		Items []struct {
			ID        string `json:"id"`
			IsDefault bool   `json:"is_default"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &apps); err != nil {
		return fmt.Errorf("list applications: %w", err)
	}
	for _, a := range apps.Items {
		if a.IsDefault {
			e.defaultApp = a.ID
		}
	}
	if e.defaultApp == "" {
		return fmt.Errorf("no default application in %s", body)
	}
	k, err := postTokens(ctx, e.ghc, e.gh+"/v1/api-keys", jsonCT, `{"name": "loadgen"}`, auth)
	if err != nil {
		return fmt.Errorf("create API key: %w", err)
	}
	if !strings.HasPrefix(k.Key, "gatehouse_") {
		return fmt.Errorf("create API key: no key in the answer")
	}
	e.apiKey = k.Key
	return setupWebhook(ctx, e)
}

// userTokens logs n distinct random users in, a few at a time.
func userTokens(ctx context.Context, e *env, n int) ([]tokens, error) {
	out := make([]tokens, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = ghLogin(ctx, e, rand.IntN(e.users))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// refreshOp rotates its own refresh token chain; when a rotation fails it
// starts a new chain with acquire (inside the next timed request).
func refreshOp(c *http.Client, endpoint string, first string, acquire func(ctx context.Context) (string, error)) op {
	token := first
	return func(ctx context.Context) (int, http.Header, error) {
		if token == "" {
			t, err := acquire(ctx)
			if err != nil {
				return 0, nil, fmt.Errorf("new refresh chain: %w", err)
			}
			token = t
		}
		st, h, body, err := call(ctx, c, http.MethodPost, endpoint, formCT,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}.Encode(), nil)
		if err == nil {
			err = expect(st, body, http.StatusOK)
		}
		if err != nil {
			token = ""
			return st, h, err
		}
		var t tokens
		if err := json.Unmarshal(body, &t); err != nil || t.RefreshToken == "" {
			token = ""
			return st, h, errNoToken
		}
		token = t.RefreshToken
		return st, h, nil
	}
}

func ghRefreshOps(ctx context.Context, e *env, n int) ([]op, error) {
	ts, err := userTokens(ctx, e, n)
	if err != nil {
		return nil, err
	}
	acquire := func(ctx context.Context) (string, error) {
		t, err := ghLogin(ctx, e, rand.IntN(e.users))
		return t.RefreshToken, err
	}
	ops := make([]op, n)
	for i := range ops {
		ops[i] = refreshOp(e.ghc, e.gh+"/oauth/token", ts[i].RefreshToken, acquire)
	}
	return ops, nil
}

func blRefreshOps(ctx context.Context, e *env, n int) ([]op, error) {
	acquire := func(ctx context.Context) (string, error) {
		t, err := postTokens(ctx, e.blc, e.bl+"/setup/refresh", formCT, "", nil)
		return t.RefreshToken, err
	}
	ops := make([]op, n)
	for i := range ops {
		first, err := acquire(ctx)
		if err != nil {
			return nil, err
		}
		ops[i] = refreshOp(e.blc, e.bl+"/refresh", first, acquire)
	}
	return ops, nil
}

// accessTokens is how many distinct users' tokens the protected scenarios
// spread over their workers.
const accessTokens = 16

func ghMeJWTOps(ctx context.Context, e *env, n int) ([]op, error) {
	ts, err := userTokens(ctx, e, min(n, accessTokens))
	if err != nil {
		return nil, err
	}
	ops := make([]op, n)
	for i := range ops {
		hdr := map[string]string{"Authorization": "Bearer " + ts[i%len(ts)].AccessToken}
		ops[i] = request(e.ghc, http.MethodGet, e.gh+"/v1/me", "", nil, hdr, http.StatusOK)
	}
	return ops, nil
}

func ghMeAPIKeyOps(_ context.Context, e *env, n int) ([]op, error) {
	hdr := map[string]string{"X-API-Key": e.apiKey}
	return repeat(n, func() op { return request(e.ghc, http.MethodGet, e.gh+"/v1/me", "", nil, hdr, http.StatusOK) }), nil
}

func ghIntrospectOps(ctx context.Context, e *env, n int) ([]op, error) {
	ts, err := userTokens(ctx, e, min(n, accessTokens))
	if err != nil {
		return nil, err
	}
	hdr := map[string]string{"Authorization": "Bearer " + e.adminToken}
	ops := make([]op, n)
	for i := range ops {
		body := url.Values{"token": {ts[i%len(ts)].AccessToken}}.Encode()
		ops[i] = requestContaining(e.ghc, http.MethodPost, e.gh+"/oauth/introspect", formCT, func() string { return body }, hdr, http.StatusOK, `"active":true`)
	}
	return ops, nil
}

func blTokens(ctx context.Context, e *env, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		t, err := postTokens(ctx, e.blc, e.bl+"/setup/token", formCT, "", nil)
		if err != nil {
			return nil, err
		}
		out[i] = t.AccessToken
	}
	return out, nil
}

func blMeOps(ctx context.Context, e *env, n int) ([]op, error) {
	ts, err := blTokens(ctx, e, min(n, accessTokens))
	if err != nil {
		return nil, err
	}
	ops := make([]op, n)
	for i := range ops {
		hdr := map[string]string{"Authorization": "Bearer " + ts[i%len(ts)]}
		ops[i] = request(e.blc, http.MethodGet, e.bl+"/me", "", nil, hdr, http.StatusOK)
	}
	return ops, nil
}

func blIntrospectOps(ctx context.Context, e *env, n int) ([]op, error) {
	ts, err := blTokens(ctx, e, min(n, accessTokens)+1)
	if err != nil {
		return nil, err
	}
	caller := map[string]string{"Authorization": "Bearer " + ts[len(ts)-1]}
	ts = ts[:len(ts)-1]
	ops := make([]op, n)
	for i := range ops {
		body := url.Values{"token": {ts[i%len(ts)]}}.Encode()
		ops[i] = requestContaining(e.blc, http.MethodPost, e.bl+"/introspect", formCT, func() string { return body }, caller, http.StatusOK, `"active":true`)
	}
	return ops, nil
}
