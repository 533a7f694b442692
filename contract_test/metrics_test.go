package contract_test

import (
	"os"

	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// TestMetricsAndAccessLog: /metrics counts requests by route template,
// logins by dialect and outcome, lockouts, refresh reuse and hashing
// waits; every request leaves one access-log line.
func TestMetricsAndAccessLog(t *testing.T) {
	t.Parallel()
	s := newServer(t, noReuseInterval, func(c *authConfig) { c.MaxFailedLogins = 2 })
	ctx := context.Background()
	tok := s.login(t, "admin", adminPassword)
	// Before the reuse below, which ends the token's session.
	s.Client.GetUserWithResponse(ctx, uuidOf(t, "7d2b7a43-2ad4-4d4f-8f0e-6b4f5b7f1c11"), bearer(tok.AccessToken))
	refresh(t, s, tok.RefreshToken)
	refresh(t, s, tok.RefreshToken) // reuse
	call(t, s, "/v1/auth", "application/json", `{"username": "admin", "password": "wrong-1"}`, false)
	call(t, s, "/v1/auth", "application/json", `{"username": "admin", "password": "wrong-2"}`, false) // locks

	r, err := s.Client.GetMetricsWithResponse(ctx)
	if err != nil || r.StatusCode() != 200 {
		t.Fatalf("metrics: %v %d", err, r.StatusCode())
	}
	body := string(r.Body)
	for _, want := range []string{
		`gatehouse_http_requests_total{method="POST",route="/oauth/token",status="200"} 2`,
		`gatehouse_http_requests_total{method="GET",route="/v1/users/:id",status="404"} 1`,
		`gatehouse_http_request_duration_seconds_bucket{method="POST",route="/oauth/token",le="+Inf"}`,
		`gatehouse_logins_total{dialect="oauth",outcome="success"} 1`,
		`gatehouse_logins_total{dialect="ocariot",outcome="failure"} 2`,
		`gatehouse_lockouts_total 1`,
		`gatehouse_refresh_reuse_total 1`,
		`gatehouse_password_hash_queue_wait_seconds_count`,
		`go_sql_open_connections{db_name="` + poolName() + `"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// SQLite groups the rotations; PostgreSQL rotates in one statement each.
	grouped := strings.Contains(body, "gatehouse_refresh_rotations_grouped_total 1\n") &&
		strings.Contains(body, "gatehouse_refresh_rotation_groups_total 1\n")
	if onPostgres := os.Getenv(storetest.PostgresEnv) != ""; grouped == onPostgres {
		t.Errorf("group commit metrics (one refresh rotated) on PostgreSQL %v:\n%s", onPostgres, grepLines(body, "gatehouse_refresh_rotation"))
	}

	// One JSON access line per request, with its route template.
	var lines int
	for _, l := range strings.Split(s.Log.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) != nil || rec["msg"] != "request" {
			continue
		}
		lines++
		for _, k := range []string{"request_id", "route", "status", "latency", "client_ip"} {
			if rec[k] == nil {
				t.Errorf("access line lacks %s: %s", k, l)
			}
		}
	}
	if lines < 7 {
		t.Errorf("%d access lines for 7 requests", lines)
	}
}

// poolName is the name of a connection pool of the backend the suite runs
// on, as the DB-stats metrics label it.
func poolName() string {
	if os.Getenv(storetest.PostgresEnv) != "" {
		return "postgres"
	}
	return "sqlite_writer"
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
