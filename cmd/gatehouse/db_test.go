package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/testserver"
)

// TestDBCopy: `db copy` moves a SQLite deployment to the test database
// (PostgreSQL with GATEHOUSE_TEST_POSTGRES) and prints each table's counts;
// the copy serves with the source's master key; a second copy into it, and
// a copy from a file that does not exist, fail and say why.
func TestDBCopy(t *testing.T) {
	ctx := context.Background()
	source := filepath.Join(t.TempDir(), "gatehouse.db")
	if out, err := run(t, ctx, "--db", source, "--log-level", "error", "users", "create", "--username", "ada", "--password", "ada-password"); err != nil {
		t.Fatalf("users create: %v\n%s", err, out)
	}
	target := testserver.FreshDB(t)
	out, err := run(t, ctx, "db", "copy", "--from", source, "--to", target)
	if err != nil {
		t.Fatalf("db copy: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^\s*users\s+1\s+1\s*$`).MatchString(out) || !strings.Contains(out, "copied "+source+" to "+gatehouse.RedactDB(target)) {
		t.Errorf("db copy printed:\n%s", out)
	}
	list, err := run(t, ctx, "--db", target, "--log-level", "error", "users", "list", "--master-key-file", gatehouse.DefaultMasterKeyFile(source))
	if err != nil || !strings.Contains(list, "ada") {
		t.Errorf("users list on the copy: %v\n%s", err, list)
	}
	if out, err := run(t, ctx, "db", "copy", "--from", source, "--to", target); err == nil || !strings.Contains(err.Error(), "holds gatehouse rows") {
		t.Errorf("a copy into a database with rows: %v\n%s", err, out)
	}
	if _, err := run(t, ctx, "db", "copy", "--from", filepath.Join(t.TempDir(), "missing.db"), "--to", filepath.Join(t.TempDir(), "new.db")); err == nil {
		t.Error("a copy from a missing file succeeded")
	}
}
