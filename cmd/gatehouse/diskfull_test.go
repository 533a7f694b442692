package main

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	_ "modernc.org/sqlite"
)

// TestFullDisk: gatehouse on SQLite whose disk is full answers logins and
// refreshes 500, spends nothing and leaves the database intact; freeing
// space is enough to go on. The disk fills as the server's process sees
// it: its file-size limit (RLIMIT_FSIZE) is lowered from outside to 0, so
// every write that would grow a file fails (EFBIG, as ENOSPC would; Go
// ignores the SIGXFSZ that comes with it), and lifted again.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	c := startCrashChild(t, db)
	api := crashAPI{base: c.base, hc: &http.Client{Timeout: 10 * time.Second}}
	status, _, refresh, err := api.login(ctx, "admin", crashAdminPasswd)
	if err != nil || status != http.StatusOK {
		t.Fatalf("login before the disk fills: %d %v", status, err)
	}
	// New WAL frames are appended past the file's end until a checkpoint
	// (at 1,000 pages) lets SQLite write the WAL from its start again;
	// below that, the next write transaction must grow the file.
	if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() > 3<<20 {
		t.Fatalf("the WAL is %d bytes, near its checkpoint: a write might not need to grow it", fi.Size())
	}
	limit := func(cur uint64) {
		t.Helper()
		if err := unix.Prlimit(c.cmd.Process.Pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: cur, Max: unix.RLIM_INFINITY}, nil); err != nil {
			t.Fatalf("prlimit: %v", err)
		}
	}

	limit(0)
	if status, _, _, err := api.login(ctx, "admin", crashAdminPasswd); err != nil || status != http.StatusInternalServerError {
		t.Errorf("login on a full disk: %d %v, want 500", status, err)
	}
	if status, _, _, err := api.refresh(ctx, refresh); err != nil || status != http.StatusInternalServerError {
		t.Errorf("refresh on a full disk: %d %v, want 500", status, err)
	}

	limit(unix.RLIM_INFINITY)
	// The refused refresh spent nothing: the token still rotates, once.
	status, _, next, err := api.refresh(ctx, refresh)
	if err != nil || status != http.StatusOK {
		t.Fatalf("refresh after space was freed: %d %v\n%s", status, err, c.log)
	}
	if status, _, _, err := api.refresh(ctx, next); err != nil || status != http.StatusOK {
		t.Errorf("refresh of the successor: %d %v", status, err)
	}
	if status, _, _, err := api.login(ctx, "admin", crashAdminPasswd); err != nil || status != http.StatusOK {
		t.Errorf("login after space was freed: %d %v", status, err)
	}

	c.cmd.Process.Kill()
	<-c.done
	check, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var result string
	if err := check.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil || result != "ok" {
		t.Errorf("integrity_check: %q %v", result, err)
	}
}
