package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/testserver"
	"github.com/gatehouse-auth/gatehouse/store"
)

const conformancePassword = testserver.AdminPassword

// liveServer is an in-process gatehouse with the administrator "admin",
// on SQLite or, with GATEHOUSE_TEST_POSTGRES, a fresh PostgreSQL database.
func liveServer(t *testing.T) (*testserver.Server, store.Store) {
	t.Helper()
	ts := testserver.Start(t, nil)
	return ts, ts.Store
}

var prefixRE = regexp.MustCompile(`\(prefix (conformance-[0-9a-f]+-)\)`)

// TestConformancePasses: `gatehouse conformance --url` against a live
// server prints only PASS lines, exits 0, honours a Retry-After on the way,
// leaves nothing named with its prefix and no live session of the
// administrator it signed in as.
func TestConformancePasses(t *testing.T) {
	ts, st := liveServer(t)
	t.Setenv("GATEHOUSE_CONFORMANCE_USERNAME", "admin")
	t.Setenv("GATEHOUSE_CONFORMANCE_PASSWORD", conformancePassword)
	// A proxy that answers the first token request 429 with Retry-After,
	// as a rate limiter would.
	target, _ := url.Parse(ts.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	var limited atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" && limited.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"temporarily_unavailable","error_description":"slow down"}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	start := time.Now()
	out, err := run(t, context.Background(), "conformance", "--url", proxy.URL)
	if err != nil {
		t.Fatalf("conformance: %v\n%s", err, out)
	}
	if !limited.Load() || time.Since(start) < time.Second {
		t.Errorf("the Retry-After was not waited out")
	}
	passes := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.HasPrefix(line, "PASS "):
			passes++
		case strings.HasPrefix(line, "FAIL "):
			t.Errorf("%s", line)
		}
	}
	if passes < 20 || !strings.Contains(out, "PASS client credentials") || !strings.Contains(out, "PASS cleanup: nothing named") {
		t.Errorf("%d PASS lines:\n%s", passes, out)
	}
	m := prefixRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no prefix in the summary:\n%s", out)
	}
	prefix := m[1]
	ctx := context.Background()
	if users, _, err := st.ListUsers(ctx, store.UserFilter{Query: prefix}, store.Page{Limit: 10}); err != nil || len(users) != 0 {
		t.Errorf("users left: %v %v", users, err)
	}
	apps, _, err := st.ListApplications(ctx, store.Page{Limit: 100})
	if err != nil || len(apps) != 1 {
		t.Errorf("applications left besides the default: %v %v", apps, err)
	}
	roles, err := st.ListRoles(ctx)
	for _, r := range roles {
		if strings.HasPrefix(r.Name, prefix) || err != nil {
			t.Errorf("role left: %v %v", r, err)
		}
	}
	admin, err := st.GetUserByLogin(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if keys, _, err := st.ListAPIKeys(ctx, admin.ID, store.Page{Limit: 10}); err != nil || len(keys) != 0 {
		t.Errorf("API keys left: %v %v", keys, err)
	}
	if !strings.Contains(out, "PASS cleanup: the administrator's session ends") {
		t.Errorf("no check that the administrator's session ends:\n%s", out)
	}
	if sessions, err := st.ListSessions(ctx, admin.ID, time.Now()); err != nil || len(sessions) != 0 {
		t.Errorf("the administrator's live sessions after the run: %+v %v; want none", sessions, err)
	}
	// Nothing existing changed: the admin is as it was, no key rotated.
	sk, err := st.ListSigningKeys(ctx)
	if err != nil || len(sk) != 2 {
		t.Errorf("signing keys %d, want the 2 of the first start: %v", len(sk), err)
	}
}

// TestConformanceFailsOnABrokenContract: a proxy that corrupts one
// response (GET /healthz's status) makes that check FAIL and the command
// exit non-zero; the rest still runs and cleans up.
func TestConformanceFailsOnABrokenContract(t *testing.T) {
	ts, _ := liveServer(t)
	t.Setenv("GATEHOUSE_CONFORMANCE_USERNAME", "admin")
	t.Setenv("GATEHOUSE_CONFORMANCE_PASSWORD", conformancePassword)
	target, _ := url.Parse(ts.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"fine"}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	out, err := run(t, context.Background(), "conformance", "--url", proxy.URL)
	if err == nil {
		t.Fatalf("conformance passed against a broken server:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^FAIL GET /healthz answers 200: .*breaks the contract`).MatchString(out) {
		t.Errorf("no FAIL line for /healthz:\n%s", out)
	}
	if strings.Count(out, "FAIL ") != 1 || !strings.Contains(out, "PASS cleanup: nothing named") {
		t.Errorf("want exactly one FAIL and a clean cleanup:\n%s", out)
	}
}

// TestConformanceNeedsCredentials: without the environment variables it
// refuses to start.
func TestConformanceNeedsCredentials(t *testing.T) {
	t.Setenv("GATEHOUSE_CONFORMANCE_USERNAME", "")
	t.Setenv("GATEHOUSE_CONFORMANCE_PASSWORD", "")
	if out, err := run(t, context.Background(), "conformance", "--url", "http://127.0.0.1:1"); err == nil {
		t.Errorf("ran without credentials:\n%s", out)
	}
}
