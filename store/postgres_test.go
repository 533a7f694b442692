package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// openPostgres returns a migrated store on a fresh database of the
// GATEHOUSE_TEST_POSTGRES server.
func openPostgres(t *testing.T) *store.DB {
	t.Helper()
	return openPostgresDSN(t, storetest.PostgresDatabase(t))
}

// openPostgresDSN opens and migrates the database at dsn, closing it when the test
// ends.
func openPostgresDSN(t testing.TB, dsn string) *store.DB {
	t.Helper()
	p, err := store.OpenMigrated(t.Context(), dsn, store.WithTimeout(storetest.Timeout))
	if err != nil {
		t.Fatalf("OpenMigrated: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// TestPostgresConformance runs the store conformance suite, the SQLite store's
// tests, against PostgreSQL.
func TestPostgresConformance(t *testing.T) {
	storetest.PostgresServer(t) // skip, or fail in CI, once rather than per test
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t) })
}

func TestPostgresMigrationStatusAndPing(t *testing.T) {
	ctx := t.Context()
	dsn := storetest.PostgresDatabase(t)
	p, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	defer p.Close()

	want := latestMigration(t, "postgres")
	cur, latest, err := p.MigrationStatus(ctx)
	if err != nil || cur != 0 || latest != want {
		t.Errorf("MigrationStatus before migrating = %d, %d, %v; want 0, %d, nil", cur, latest, err, want)
	}
	if err := p.Ping(ctx); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema at version 0, want %d", want)) {
		t.Errorf("Ping before migrating = %v, want schema error", err)
	}
	var reported []int64
	if err := p.MigrateReporting(ctx, func(v int64, _ time.Duration) { reported = append(reported, v) }); err != nil {
		t.Fatalf("MigrateReporting: %v", err)
	}
	if !slices.Equal(reported, migrationVersions(t, "postgres")) {
		t.Errorf("MigrateReporting reported %v, want %v", reported, migrationVersions(t, "postgres"))
	}
	if err := p.Migrate(ctx); err != nil { // idempotent
		t.Fatalf("Migrate again: %v", err)
	}
	cur, latest, err = p.MigrationStatus(ctx)
	if err != nil || cur != want || latest != want {
		t.Errorf("MigrationStatus after migrating = %d, %d, %v; want %d, %d, nil", cur, latest, err, want, want)
	}
	if err := p.Ping(ctx); err != nil {
		t.Errorf("Ping after migrating: %v", err)
	}
	if stats := p.Pools()["postgres"].Stats(); stats.MaxOpenConnections != store.DefaultPostgresMaxConns {
		t.Errorf("pool max open connections %d, want %d", stats.MaxOpenConnections, store.DefaultPostgresMaxConns)
	}
}

// TestMigrationsMatchSQLite: every SQLite migration has its PostgreSQL
// edition under the same file name (so the same version), and no other.
func TestMigrationsMatchSQLite(t *testing.T) {
	names := func(dir string) []string {
		t.Helper()
		var out []string
		err := fs.WalkDir(os.DirFS(dir), ".", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".sql") && !strings.Contains(path, "/") {
				out = append(out, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sqlite, pg := names(filepath.Join("migrations", "sqlite")), names(filepath.Join("migrations", "postgres"))
	if len(sqlite) == 0 || !slices.Equal(sqlite, pg) {
		t.Errorf("store/migrations/sqlite has %v, store/migrations/postgres %v: every migration needs its PostgreSQL edition", sqlite, pg)
	}
}

// TestPostgresConcurrentOpenMigrated: nodes starting together on an empty
// database each migrate it once between them (goose's advisory lock).
func TestPostgresConcurrentOpenMigrated(t *testing.T) {
	dsn := storetest.PostgresDatabase(t)
	const nodes = 3
	stores := make([]*store.DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = store.OpenMigrated(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: OpenMigrated: %v", i, err)
		}
		defer stores[i].Close()
	}
	var applied int64
	if err := stores[0].Pools()["postgres"].QueryRowContext(t.Context(), `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if want := int64(len(migrationVersions(t, "postgres"))); applied != want {
		t.Errorf("goose_db_version records %d applied migrations, want %d (each once)", applied, want)
	}
}

// TestPostgresExclusive: an Exclusive section of one store keeps another
// store's (another node's) out until it ends, and fn's error is returned.
// The overlap is tried by construction: a's section holds until the test
// lets it go, and b asks meanwhile.
func TestPostgresExclusive(t *testing.T) {
	dsn := storetest.PostgresDatabase(t)
	a, b := openPostgresDSN(t, dsn), openPostgresDSN(t, dsn)
	inA, releaseA, aDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		aDone <- a.Exclusive(t.Context(), func(context.Context) error {
			close(inA)
			<-releaseA
			return nil
		})
	}()
	<-inA
	inB, bDone := make(chan struct{}), make(chan error, 1)
	go func() {
		bDone <- b.Exclusive(t.Context(), func(context.Context) error { close(inB); return nil })
	}()
	// b is refused the lock while a holds it: PostgreSQL shows b's session
	// waiting for it, and b's section has not begun.
	waitForLockWaiter(t, a, inB)
	close(releaseA)
	if err := <-aDone; err != nil {
		t.Errorf("a's Exclusive: %v", err)
	}
	<-inB
	if err := <-bDone; err != nil {
		t.Errorf("b's Exclusive: %v", err)
	}
	boom := errors.New("boom")
	if err := a.Exclusive(t.Context(), func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Exclusive returned %v, want fn's error", err)
	}
	// The lock was released: another store takes it at once.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := b.Exclusive(ctx, func(context.Context) error { return nil }); err != nil {
		t.Errorf("Exclusive after an error: %v", err)
	}
}

// waitForLockWaiter returns once a session of st's database waits for an
// advisory lock, as pg_locks shows it, and fails t if entered is closed
// first: the section that should wait began.
func waitForLockWaiter(t *testing.T, st *store.DB, entered <-chan struct{}) {
	t.Helper()
	const q = `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	for {
		var waiting int
		if err := st.Pools()["postgres"].QueryRowContext(t.Context(), q).Scan(&waiting); err != nil {
			t.Fatalf("pg_locks: %v", err)
		}
		select {
		case <-entered:
			t.Fatal("an Exclusive section began inside another")
		default:
		}
		if waiting > 0 {
			return
		}
	}
}

// TestPostgresTwoNodes: two stores (two nodes' pools) on one database. Rotations
// of one refresh token spread over both have exactly one winner, and
// failures spread over both are all counted.
func TestPostgresTwoNodes(t *testing.T) {
	ctx := t.Context()
	dsn := storetest.PostgresDatabase(t)
	a, b := openPostgresDSN(t, dsn), openPostgresDSN(t, dsn)
	if _, err := a.PutRole(ctx, store.Role{Name: "user", Code: 2}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := a.CreateApplication(ctx, store.Application{ID: "app", Name: "app", Audience: "app", IsDefault: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateUser(ctx, store.User{ID: "u", Username: "u", Role: "user", CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}); err != nil {
		t.Fatal(err)
	}
	nodes := []*store.DB{a, b}

	for round := range 20 {
		old := fmt.Sprintf("r%d-h0", round)
		if err := a.CreateRefreshToken(ctx, store.RefreshToken{Hash: old, FamilyID: fmt.Sprintf("fam%d", round), UserID: "u", AppID: "app",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		const n = 8
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				next := store.RefreshToken{Hash: fmt.Sprintf("r%d-h%d", round, i+1), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				errs[i] = nodes[i%2].RotateRefreshToken(ctx, old, next, now)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrTokenSpent):
				t.Errorf("round %d, rotation %d: %v, want nil or ErrTokenSpent", round, i, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d rotations succeeded across two nodes, want exactly 1", round, won)
		}
	}

	const failures, max = 12, 4
	var locks atomic.Int32
	var wg sync.WaitGroup
	for i := range failures {
		wg.Go(func() {
			locked, err := nodes[i%2].RecordLoginFailure(ctx, "u", store.LoginFailure{At: now, WindowStart: now.Add(-time.Minute), MaxAttempts: max, LockUntil: now.Add(time.Hour)})
			if err != nil {
				t.Errorf("RecordLoginFailure: %v", err)
			}
			if locked {
				locks.Add(1)
			}
		})
	}
	wg.Wait()
	if locks.Load() != failures/max {
		t.Errorf("%d failures over two nodes locked %d times, want %d", failures, locks.Load(), failures/max)
	}
}

func TestParsePostgresDSN(t *testing.T) {
	for _, tt := range []struct {
		dsn      string
		wantPool store.PostgresPool
		wantDB   string
		wantErr  string
	}{
		{dsn: "postgres://u@h:5/db?sslmode=disable", wantDB: "db",
			wantPool: store.PostgresPool{MaxConns: store.DefaultPostgresMaxConns, MaxConnLifetime: time.Hour, MaxConnIdleTime: 30 * time.Minute}},
		{dsn: "postgresql://u:secret@h/db?pool_max_conns=20&pool_max_conn_lifetime=10m&pool_max_conn_idle_time=1m&sslmode=disable", wantDB: "db",
			wantPool: store.PostgresPool{MaxConns: 20, MaxConnLifetime: 10 * time.Minute, MaxConnIdleTime: time.Minute}},
		{dsn: "postgres://h/db?pool_max_conns=0", wantErr: "pool_max_conns"},
		{dsn: "postgres://h/db?pool_max_conn_lifetime=soon", wantErr: "pool_max_conn_lifetime"},
		{dsn: "mysql://h/db", wantErr: "not a postgres:// URL"},
	} {
		cfg, pool, err := store.ParsePostgresDSN(tt.dsn)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePostgresDSN(%q) = %v, want an error about %s", tt.dsn, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePostgresDSN(%q): %v", tt.dsn, err)
			continue
		}
		if pool != tt.wantPool || cfg.Database != tt.wantDB {
			t.Errorf("ParsePostgresDSN(%q) = %+v, database %q; want %+v, %q", tt.dsn, pool, cfg.Database, tt.wantPool, tt.wantDB)
		}
		if _, ok := cfg.RuntimeParams["pool_max_conns"]; ok {
			t.Errorf("ParsePostgresDSN(%q) passed pool_max_conns on to the server", tt.dsn)
		}
	}
	if _, _, err := store.ParsePostgresDSN("postgres://u:hunter2@h/db?pool_max_conns=x"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want one without the password", err)
	}
	for dsn, want := range map[string]bool{"postgres://h/db": true, "postgresql://h/db": true, "gatehouse.db": false, "/var/lib/postgres://x": false} {
		if store.IsPostgresURL(dsn) != want {
			t.Errorf("IsPostgresURL(%q) = %v", dsn, !want)
		}
	}
}
