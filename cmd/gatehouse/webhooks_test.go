package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebhooksCommand: gatehouse webhooks create prints the endpoint's id
// and secret, once; list shows it without the secret; deliveries lists
// what it heard (the API key created after it); delete removes it. A
// loopback URL is refused unless --webhook-allow-private, and a timeout
// that is not positive always.
func TestWebhooksCommand(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	gh := func(args ...string) (string, error) {
		return run(t, ctx, append([]string{"--db", db, "--log-level", "error", "webhooks"}, args...)...)
	}
	if out, err := gh("create", "--url", "http://127.0.0.1:9/hook", "--events", "login"); err == nil || !strings.Contains(err.Error()+out, "not public") {
		t.Errorf("a loopback URL: %v %s", err, out)
	}
	if out, err := gh("create", "--webhook-allow-private", "--url", "http://127.0.0.1:9/hook", "--events", "login"); err != nil {
		t.Errorf("a loopback URL with --webhook-allow-private: %v %s", err, out)
	}
	if _, err := gh("list", "--webhook-timeout", "0s"); err == nil || !strings.Contains(err.Error(), "--webhook-timeout must be positive") {
		t.Errorf("--webhook-timeout 0s: %v", err)
	}
	if out, err := gh("create", "--url", "https://93.184.215.14/hook", "--events", "nope"); err == nil {
		t.Errorf("an unknown event accepted: %s", out)
	}
	out, err := gh("create", "--url", "https://93.184.215.14/hook", "--events", "user.create,user.delete", "--description", "crm")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	id, secret, ok := strings.Cut(strings.TrimSpace(out), "\t")
	if !ok || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("create printed %q", out)
	}
	if out, err := run(t, ctx, "--db", db, "--log-level", "error", "users", "create", "--username", "carol", "--password", "carol-password"); err != nil {
		t.Fatalf("users create: %v\n%s", err, out)
	}
	list, err := gh("list")
	if err != nil || !strings.Contains(list, id) || !strings.Contains(list, "user.create,user.delete") || strings.Contains(list, secret[6:]) {
		t.Errorf("list: %v\n%s", err, list)
	}
	ds, err := gh("deliveries", "--id", id)
	if err != nil || !strings.Contains(ds, "user.create") || !strings.Contains(ds, "pending") {
		t.Errorf("deliveries: %v\n%s", err, ds)
	}
	if out, err := gh("delete", "--id", id); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if list, _ := gh("list"); strings.Contains(list, id) {
		t.Errorf("listed after delete:\n%s", list)
	}
}
