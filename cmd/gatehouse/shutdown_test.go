package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
)

// TestGracefulShutdown: cancelling serve's context (what SIGINT and
// SIGTERM do) lets the logins in flight finish, flushes API-key last-used
// times, closes the database and returns nil (exit 0).
func TestGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	t.Setenv("GATEHOUSE_ADMIN_PASSWORD", "shutdown-test-password")
	// Every request that reaches the server's handler.
	active := make(chan struct{}, 64)
	onRequest = func(*http.Request) {
		select {
		case active <- struct{}{}:
		default:
		}
	}
	shutdown := make(chan struct{})
	onShutdown = func() { close(shutdown) }
	t.Cleanup(func() { onRequest, onShutdown = nil, nil })
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	base, done := startServe(t, ctx, db, "--rate-limit", "0", "--hash-concurrency", "1", "--hash-queue-wait", "2m")
	addr := strings.TrimPrefix(base, "http://")
	form := url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"shutdown-test-password"}}
	login := func() (string, int) {
		r, err := http.PostForm(base+"/oauth/token", form)
		if err != nil {
			return err.Error(), 0
		}
		defer r.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		json.NewDecoder(r.Body).Decode(&tok)
		return tok.AccessToken, r.StatusCode
	}
	token, status := login()
	if status != 200 {
		t.Fatalf("login: %d", status)
	}
	req, _ := http.NewRequest("POST", base+"/v1/api-keys", strings.NewReader(`{"name": "k"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil || r.StatusCode != 201 {
		t.Fatalf("create api key: %v", err)
	}
	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	json.NewDecoder(r.Body).Decode(&key)
	r.Body.Close()
	me, _ := http.NewRequest("GET", base+"/v1/me", nil)
	me.Header.Set("X-API-Key", key.Key)
	if r, err := http.DefaultClient.Do(me); err != nil || r.StatusCode != 200 {
		t.Fatalf("api key use: %v", err)
	}

	// Logins in flight when the signal comes: each has sent its headers
	// and half its body, so the server is inside the request, reading,
	// and cannot have answered yet. The rest of each body is sent after
	// the signal; every one must still be answered.
	const inFlight = 4
	body := form.Encode()
	for len(active) > 0 { // the requests above are answered: their events are in
		<-active
	}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	type result struct {
		status int
		err    error
	}
	results := make(chan result, inFlight)
	writers := make([]*io.PipeWriter, inFlight)
	for i := range inFlight {
		pr, pw := io.Pipe()
		writers[i] = pw
		req, _ := http.NewRequest("POST", base+"/oauth/token", pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		go func() {
			r, err := fresh.Do(req)
			if err != nil {
				results <- result{err: err}
				return
			}
			r.Body.Close()
			results <- result{status: r.StatusCode}
		}()
		if _, err := pw.Write([]byte(body[:len(body)/2])); err != nil {
			t.Fatal(err)
		}
	}
	// The signal comes once every one of them is in the handler, reading its body.
	for range inFlight {
		select {
		case <-active:
		case <-time.After(20 * time.Second):
			t.Fatal("the server did not start reading the held requests")
		}
	}
	stop()
	// The shutdown is under way: its listener is closed.
	select {
	case <-shutdown:
	case <-time.After(20 * time.Second):
		t.Fatal("the shutdown did not begin after the signal")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("the listener still accepts once the shutdown began")
	}
	for _, pw := range writers {
		pw.Write([]byte(body[len(body)/2:]))
		pw.Close()
	}
	for range inFlight {
		if res := <-results; res.err != nil || res.status != 200 {
			t.Errorf("a login in flight at shutdown was dropped: %v %d", res.err, res.status)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v, want nil (exit 0)", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
	inst, err := gatehouse.Open(context.Background(), gatehouse.Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	k, err := inst.Store.GetAPIKey(context.Background(), key.ID)
	if err != nil || k.LastUsedAt == nil {
		t.Fatalf("last-used time not flushed at shutdown: %v %v", k.LastUsedAt, err)
	}
}
