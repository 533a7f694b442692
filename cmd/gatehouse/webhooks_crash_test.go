package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWebhookCrash: a node SIGKILLed between the commit of a change and
// its delivery delivers it after restart. The receiver holds the first
// node's attempts open, so when the node dies some deliveries are in
// flight (claimed, unanswered) and the ones created after them not yet
// claimed; the restarted node sends every one, each verified against the
// endpoint's secret, the in-flight ones once their lease (twice
// --webhook-timeout) has run out.
func TestWebhookCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server twice")
	}
	if os.Getenv(crashChildEnv) == "1" {
		t.Skip("inside a child")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var (
		mu        sync.Mutex
		holding   = true
		arrived   = make(chan struct{}, 100)
		delivered = map[string]string{} // subject (user id) → webhook-id, answered 200
		secret    string
		bad       []string
		all       = make(chan struct{})
		want      = map[string]bool{}
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		hold := holding
		mu.Unlock()
		if hold {
			arrived <- struct{}{}
			<-r.Context().Done() // until the node dies
			return
		}
		var p struct {
			Data struct {
				SubjectID string `json:"subject_id"`
			} `json:"data"`
		}
		json.Unmarshal(body, &p)
		mu.Lock()
		defer mu.Unlock()
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.%s", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), body)
		if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			bad = append(bad, r.Header.Get("webhook-id"))
		}
		delivered[p.Data.SubjectID] = r.Header.Get("webhook-id")
		complete := len(want) > 0
		for id := range want {
			complete = complete && delivered[id] != ""
		}
		if complete {
			select {
			case <-all:
			default:
				close(all)
			}
		}
	}))
	defer rcv.Close()

	db := filepath.Join(t.TempDir(), "webhooks.db")
	env := []string{"GATEHOUSE_WEBHOOK_ALLOW_PRIVATE=true", "GATEHOUSE_WEBHOOK_TIMEOUT=1s"}
	first := startCrashChild(t, db, env...)
	api := crashAPI{base: first.base, hc: &http.Client{Timeout: 5 * time.Second}}
	status, admin, _, err := api.login(ctx, "admin", crashAdminPasswd)
	if err != nil || status != http.StatusOK {
		t.Fatalf("admin login: %d %v\n%s", status, err, first.log)
	}
	status, out, err := api.do(ctx, http.MethodPost, "/v1/webhooks", "application/json",
		`{"url": "`+rcv.URL+`/hook", "events": ["user.create"]}`, admin)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create webhook: %d %v %v", status, err, out)
	}
	mu.Lock()
	secret, _ = out["secret"].(string)
	mu.Unlock()

	var ids []string
	create := func(n int, from int) {
		for i := range n {
			status, id, err := api.createUser(ctx, admin, fmt.Sprintf("user-%d", from+i), "user-password")
			if err != nil || status != http.StatusCreated {
				t.Fatalf("create user: %d %v", status, err)
			}
			ids = append(ids, id)
		}
	}
	create(5, 0)
	select {
	case <-arrived: // the first node is sending (and held)
	case <-ctx.Done():
		t.Fatalf("no delivery reached the receiver\n%s", first.log)
	}
	create(5, 5) // committed while the worker waits on its held batch
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done

	mu.Lock()
	holding = false
	for _, id := range ids {
		want[id] = true
	}
	mu.Unlock()
	second := startCrashChild(t, db, env...)
	select {
	case <-all:
	case <-ctx.Done():
		mu.Lock()
		t.Fatalf("after the restart %d of %d events delivered\n%s", len(delivered), len(ids), second.log)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("deliveries with a wrong signature: %v", bad)
	}
	t.Logf("%d user.create events committed, the first node killed with deliveries in flight; all %d delivered after the restart", len(ids), len(ids))
}
