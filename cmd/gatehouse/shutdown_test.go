package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestGracefulShutdown: cancelling serve's context (what SIGINT and
// SIGTERM do) lets the logins in flight finish, flushes API-key last-used
// times, closes the database and returns nil (exit 0).
func TestGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	addr := freeAddr(t)
	base := "http://" + addr
	t.Setenv("GATEHOUSE_ADMIN_PASSWORD", "shutdown-test-password")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- newApp().Run(ctx, []string{"gatehouse", "--db", db, "--log-level", "error", "serve", "--addr", addr, "--rate-limit", "0", "--hash-concurrency", "1", "--hash-queue-wait", "2m"})
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(base + "/readyz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not become ready")
		}
	}
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

	// Logins in flight when the signal comes: one hashing slot makes them
	// queue, about 30 ms each, so all are inside the server by then.
	const inFlight = 8
	type result struct {
		status int
		err    error
		at     time.Time
	}
	// Fresh connections: a pooled idle one may be closed by the shutdown
	// before the request is written, which is the client's race, not a
	// dropped request.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	results := make(chan result, inFlight)
	for range inFlight {
		wg.Go(func() {
			r, err := fresh.PostForm(base+"/oauth/token", form)
			if err == nil {
				r.Body.Close()
				results <- result{status: r.StatusCode, at: time.Now()}
				return
			}
			results <- result{err: err, at: time.Now()}
		})
	}
	time.Sleep(60 * time.Millisecond)
	stoppedAt := time.Now()
	stop()
	wg.Wait()
	close(results)
	finishedAfterStop := 0
	for res := range results {
		switch {
		case res.err != nil && strings.Contains(res.err.Error(), "connection refused"):
			// Arrived after the listener closed: refused, not dropped.
		case res.err != nil || res.status != 200:
			t.Errorf("a login in flight at shutdown was dropped: %v %d", res.err, res.status)
		case res.at.After(stoppedAt):
			finishedAfterStop++
		}
	}
	if finishedAfterStop == 0 {
		t.Error("no login was still in flight at shutdown: the test proved nothing")
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
