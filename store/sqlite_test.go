package store_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// TestConformance runs the store conformance suite against SQLite; the
// PostgreSQL store runs the same suite in postgres_test.go.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// open returns a migrated store on a fresh file in t.TempDir.
func open(t testing.TB) *store.DB {
	t.Helper()
	s, err := store.OpenSQLiteMigrated(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"), store.WithTimeout(storetest.Timeout))
	if err != nil {
		t.Fatalf("OpenSQLiteMigrated: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestMigrationStatusAndPing(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	defer s.Close()

	want := latestMigration(t, "sqlite")
	cur, latest, err := s.MigrationStatus(ctx)
	if err != nil || cur != 0 || latest != want {
		t.Errorf("MigrationStatus before migrating = %d, %d, %v; want 0, %d, nil", cur, latest, err, want)
	}
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema at version 0, want %d", want)) {
		t.Errorf("Ping before migrating = %v, want schema error", err)
	}
	for range 2 { // Migrate is idempotent.
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	cur, latest, err = s.MigrationStatus(ctx)
	if err != nil || cur != want || latest != want {
		t.Errorf("MigrationStatus after migrating = %d, %d, %v; want %d, %d, nil", cur, latest, err, want, want)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after migrating: %v", err)
	}
	if _, err := store.OpenSQLite(ctx, ""); err == nil {
		t.Error("OpenSQLite(\"\") succeeded")
	}
}

// migrationVersions are the versions of engine's migration files, in
// order: each file's numeric prefix.
func migrationVersions(t *testing.T, engine string) []int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", engine, "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations of %s: %v %v", engine, files, err)
	}
	var out []int64
	for _, f := range files {
		prefix, _, _ := strings.Cut(filepath.Base(f), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: no numeric prefix", f)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// latestMigration is the latest schema version of engine.
func latestMigration(t *testing.T, engine string) int64 {
	v := migrationVersions(t, engine)
	return v[len(v)-1]
}
