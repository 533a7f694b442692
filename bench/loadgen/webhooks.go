package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
)

// The webhook scenarios measure what one subscribed endpoint costs a write
// that is audited: the same requests against the same gatehouse, in
// rounds that alternate with the endpoint subscribed to the requests'
// event ("gatehouse") and to an event the benchmark never causes
// ("baseline"), so the delivery rows, the worker's claims and sends and
// the receiver's answers are all in the measured rounds.

// whReceived counts the deliveries the receiver answered.
var whReceived atomic.Int64

// startWebhookReceiver serves the endpoint on loopback (gatehouse runs with
// --webhook-allow-private): it reads each delivery and answers 204.
func startWebhookReceiver() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		whReceived.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	return "http://" + ln.Addr().String() + "/hook", nil
}

// setupWebhook creates the benchmark's endpoint, subscribed to nothing
// the benchmark does.
func setupWebhook(ctx context.Context, e *env) error {
	recv, err := startWebhookReceiver()
	if err != nil {
		return err
	}
	auth := map[string]string{"Authorization": "Bearer " + e.adminToken}
	st, _, body, err := call(ctx, e.ghc, http.MethodPost, e.gh+"/v1/webhooks", jsonCT,
		jsonBody(map[string]any{"url": recv, "events": []string{"signup"}}), auth)
	if err == nil {
		err = expect(st, body, http.StatusCreated)
	}
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	var w struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	e.webhookID = w.ID
	return nil
}

// subscribe returns a round hook that points the endpoint at event.
func subscribe(event string) func(ctx context.Context, e *env) error {
	return func(ctx context.Context, e *env) error {
		auth := map[string]string{"Authorization": "Bearer " + e.adminToken}
		st, _, body, err := call(ctx, e.ghc, http.MethodPatch, e.gh+"/v1/webhooks/"+e.webhookID, jsonCT,
			jsonBody(map[string]any{"events": []string{event}}), auth)
		if err == nil {
			err = expect(st, body, http.StatusOK)
		}
		if err != nil {
			return fmt.Errorf("subscribe the webhook to %s: %w", event, err)
		}
		logf("  webhook endpoint now hears %s (its receiver has answered %d deliveries)", event, whReceived.Load())
		return nil
	}
}

// webhookScenarios are the login and the user creation, each with and
// without one subscribed endpoint.
func webhookScenarios() []scenario {
	loginOps := func(_ context.Context, e *env, n int) ([]op, error) {
		return repeat(n, func() op {
			return request(e.ghc, http.MethodPost, e.gh+"/oauth/token", formCT, func() string {
				return url.Values{"grant_type": {"password"}, "username": {username(rand.IntN(e.users))}, "password": {benchPassword}}.Encode()
			}, nil, http.StatusOK)
		}), nil
	}
	var created atomic.Int64
	createOps := func(_ context.Context, e *env, n int) ([]op, error) {
		hdr := map[string]string{"Authorization": "Bearer " + e.adminToken}
		return repeat(n, func() op {
			return request(e.ghc, http.MethodPost, e.gh+"/v1/users", jsonCT, func() string {
				return jsonBody(map[string]string{"username": fmt.Sprintf("wh-bench-%d", created.Add(1)), "password": benchPassword})
			}, hdr, http.StatusCreated)
		}), nil
	}
	off := subscribe("signup")
	return []scenario{
		{Name: "webhook-login", What: "password grant with one endpoint subscribed to login", Baseline: "webhook-off", Target: 1 / 1.05,
			ghOps: loginOps, blOps: loginOps, ghRound: subscribe("login"), blRound: off},
		{Name: "webhook-user", What: "POST /v1/users with one endpoint subscribed to user.create", Baseline: "webhook-off", Target: 1 / 1.05,
			ghOps: createOps, blOps: createOps, ghRound: subscribe("user.create"), blRound: off},
	}
}
