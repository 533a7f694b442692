package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/impl"
)

// TestServeAnswersOversizeHeaders: serve's http.Server reads header fields
// somewhat over impl.MaxHeaderBytes, so gatehouse, not net/http, answers
// them: a 431 in the route's shape (problem+json here). Only far larger
// ones get net/http's bare text/plain 431.
func TestServeAnswersOversizeHeaders(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	t.Setenv("GATEHOUSE_ADMIN_PASSWORD", "headers-test-password")
	base := serveForTest(t, db)
	get := func(padding int) (int, string, string) {
		req, err := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("p", padding))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if status, ct, body := get(impl.MaxHeaderBytes + 16<<10); status != http.StatusRequestHeaderFieldsTooLarge || ct != "application/problem+json" || !strings.Contains(body, "over 64 KiB") {
		t.Errorf("just over the limit: %d %s %s", status, ct, body)
	}
	if status, _, _ := get(impl.ServerMaxHeaderBytes + 16<<10); status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("over net/http's limit: %d", status)
	}
}
