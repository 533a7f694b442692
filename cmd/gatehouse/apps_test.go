package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppsCreateClient: `apps create` registers an OpenID client (redirect
// URIs, client type, first party) that `apps list` shows, and refuses a
// redirect URI that is not exact https or loopback http, naming it.
func TestAppsCreateClient(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	out, err := run(t, ctx, "--db", db, "--log-level", "error", "apps", "create", "--name", "grafana",
		"--redirect-uri", "https://grafana.example.com/login/generic_oauth", "--redirect-uri", "http://127.0.0.1:3000/login/generic_oauth",
		"--post-logout-redirect-uri", "https://grafana.example.com/", "--client-type", "confidential", "--first-party")
	if err != nil {
		t.Fatalf("apps create: %v\n%s", err, out)
	}
	id := strings.TrimSpace(out)
	if out, err = run(t, ctx, "--db", db, "--log-level", "error", "apps", "list"); err != nil {
		t.Fatalf("apps list: %v\n%s", err, out)
	}
	var line string
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, id) {
			line = l
		}
	}
	for _, want := range []string{"grafana", "confidential", "true", "https://grafana.example.com/login/generic_oauth http://127.0.0.1:3000/login/generic_oauth"} {
		if !strings.Contains(line, want) {
			t.Errorf("apps list line %q lacks %q", line, want)
		}
	}
	if !strings.Contains(out, "CLIENT TYPE") || !strings.Contains(out, "public") {
		t.Errorf("apps list does not show the default application as public:\n%s", out)
	}

	for _, uri := range []string{"http://grafana.example.com/cb", "https://*.example.com/cb", "https://grafana.example.com/cb#x"} {
		out, err := run(t, ctx, "--db", db, "--log-level", "error", "apps", "create", "--name", "bad", "--redirect-uri", uri)
		if err == nil || !strings.Contains(err.Error(), "redirect_uris.0") {
			t.Errorf("apps create --redirect-uri %s: %v\n%s; want an error naming redirect_uris.0", uri, err, out)
		}
	}
}

// TestServePagesTemplates: serve refuses, at start, a --pages-templates
// directory holding a file that is no page's.
func TestServePagesTemplates(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sign-in.html"), []byte(`{{define "main"}}{{end}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, context.Background(), "--db", filepath.Join(t.TempDir(), "g.db"), "--log-level", "error",
		"serve", "--addr", "127.0.0.1:0", "--pages-templates", dir)
	if err == nil || !strings.Contains(err.Error(), "--pages-templates") || !strings.Contains(err.Error(), "sign-in.html") {
		t.Errorf("serve with a misspelt page: %v\n%s", err, out)
	}
}
