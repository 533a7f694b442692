package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run runs the CLI with args and returns what it printed.
func run(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	app := newApp()
	app.Writer, app.ErrWriter = &out, &out
	err := app.Run(ctx, append([]string{"gatehouse"}, args...))
	return out.String(), err
}

// activeFromOf reads the time after "active from " in a `keys rotate` line.
func activeFromOf(t *testing.T, line string) time.Time {
	t.Helper()
	_, at, ok := strings.Cut(strings.TrimSpace(line), "active from ")
	if !ok {
		t.Fatalf("keys rotate printed %q, want the key's active_from", line)
	}
	ts, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatalf("active from %q: %v", at, err)
	}
	return ts
}

// TestKeysRotateAndList: `keys rotate` is staged by --key-activation-delay
// (GATEHOUSE_KEY_ACTIVATION_DELAY), --immediate signs at once, and `keys
// list` shows every key's active_from.
func TestKeysRotateAndList(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	near := func(what string, got, want time.Time) {
		t.Helper()
		if d := got.Sub(want); d < -5*time.Second || d > 5*time.Second {
			t.Errorf("%s: active from %v, want about %v", what, got, want)
		}
	}

	out, err := run(t, ctx, "--db", db, "--log-level", "error", "keys", "rotate")
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	near("the default delay", activeFromOf(t, out), time.Now().Add(20*time.Minute))

	t.Setenv("GATEHOUSE_KEY_ACTIVATION_DELAY", "2h")
	if out, err = run(t, ctx, "--db", db, "--log-level", "error", "keys", "rotate", "--alg", "RS256"); err != nil {
		t.Fatalf("keys rotate --alg RS256: %v\n%s", err, out)
	}
	near("GATEHOUSE_KEY_ACTIVATION_DELAY=2h", activeFromOf(t, out), time.Now().Add(2*time.Hour))

	if out, err = run(t, ctx, "--db", db, "--log-level", "error", "keys", "rotate", "--immediate"); err != nil {
		t.Fatalf("keys rotate --immediate: %v\n%s", err, out)
	}
	near("--immediate", activeFromOf(t, out), time.Now())
	immediateKID := strings.Fields(out)[0]

	if out, err = run(t, ctx, "--db", db, "--log-level", "error", "keys", "rotate", "--key-activation-delay", "0"); err == nil || !strings.Contains(err.Error(), "--key-activation-delay must be positive") {
		t.Errorf("keys rotate --key-activation-delay 0: %v\n%s; want it refused", err, out)
	}

	out, err = run(t, ctx, "--db", db, "--log-level", "error", "keys", "list")
	if err != nil {
		t.Fatalf("keys list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(strings.Join(strings.Fields(lines[0]), " "), "KID ALG CREATED ACTIVE FROM RETIRED") {
		t.Fatalf("keys list: want a header and 5 keys:\n%s", out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 5 {
			t.Fatalf("keys list row %q: want kid, alg, created, active from, retired", l)
		}
		if _, err := time.Parse(time.RFC3339, f[3]); err != nil {
			t.Errorf("keys list row %q: active from: %v", l, err)
		}
		if f[0] == immediateKID && f[2] != f[3] {
			t.Errorf("keys list row %q: the immediate key is active from its creation", l)
		}
	}
}

// TestServeChecksTimings: serve refuses a --key-reload-interval that is
// not shorter than --key-activation-delay (a node would go on signing with
// a retired key), and intervals out of range, from flags or the
// environment, before opening anything.
func TestServeChecksTimings(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"reload interval equal to the delay", nil, []string{"--key-reload-interval", "20m"}, "must be shorter than --key-activation-delay"},
		{"delay below the default reload interval, from the environment", map[string]string{"GATEHOUSE_KEY_ACTIVATION_DELAY": "10s"}, nil, "must be shorter than --key-activation-delay"},
		{"no reload interval", nil, []string{"--key-reload-interval", "0"}, "--key-reload-interval must be positive"},
		{"no max-age", map[string]string{"GATEHOUSE_JWKS_MAX_AGE": "0s"}, nil, "--jwks-max-age must be at least 1s"},
		{"a negative purge interval", nil, []string{"--purge-interval", "-1m"}, "--purge-interval must be 0 (no purge) or positive, got -1m0s"},
		{"a negative purge interval, from the environment", map[string]string{"GATEHOUSE_PURGE_INTERVAL": "-10s"}, nil, "--purge-interval must be 0 (no purge) or positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out, err := run(t, ctx, append([]string{"--db", db, "serve", "--addr", "127.0.0.1:0"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("serve: %v\n%s; want an error saying %q", err, out, tc.want)
			}
		})
	}
}

// TestServeJWKSMaxAge: GATEHOUSE_JWKS_MAX_AGE sets the JWKS's max-age.
func TestServeJWKSMaxAge(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	t.Setenv("GATEHOUSE_ADMIN_PASSWORD", "max-age-test-password")
	t.Setenv("GATEHOUSE_JWKS_MAX_AGE", "42s")
	resp, err := http.Get(serveForTest(t, db) + "/.well-known/jwks.json")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /.well-known/jwks.json: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Cache-Control"); got != "max-age=42" {
		t.Errorf("Cache-Control %q, want max-age=42", got)
	}
}
