// Package postgres is the PostgreSQL implementation of store.Store, for
// running several gatehouse nodes on one database. Its semantics are the
// SQLite store's, method for method (the conformance suite in
// store/storetest runs against both): the same sentinel errors, paging
// cursors, case folding (the *_key columns hold strings.ToLower(
// strings.ToUpper(s)), computed in Go) and times as BIGINT unix nanoseconds.
//
// Everything nodes share lives in the database: users, applications, roles,
// signing keys, refresh-token families, the jti deny-list and the lockout
// counters. Writes that must have one winner across nodes are single
// conditional statements (RotateRefreshToken's UPDATE ... WHERE used_at IS
// NULL, RecordLoginFailure's UPDATE ... RETURNING), which READ COMMITTED
// makes atomic: a second writer of the same row waits for the first and
// re-evaluates its WHERE clause against the committed row.
//
// It uses database/sql over the pgx driver (github.com/jackc/pgx/v5/stdlib)
// so that goose migrates it and the metrics read its pool statistics.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/internal/codec"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Pool defaults. A node's requests each hold a connection only for the
// length of one statement or one short transaction, so a few connections per
// core keep the CPU busy; the DSN parameters pool_max_conns,
// pool_max_conn_lifetime and pool_max_conn_idle_time (pgxpool's names)
// override them.
var (
	// DefaultMaxConns is the default size of a node's pool: 4 per CPU.
	DefaultMaxConns = 4 * runtime.NumCPU()
)

const (
	defaultMaxConnLifetime = time.Hour
	defaultMaxConnIdleTime = 30 * time.Minute
)

// lockIDs of the session-level advisory locks: goose's migrations, and
// Exclusive (the bootstrap of a fresh database by several nodes at once).
const (
	migrationLockID int64 = 0x67617465_00000001 // "gate" 1
	exclusiveLockID int64 = 0x67617465_00000002 // "gate" 2
)

// Postgres is the Store kept in a PostgreSQL database. It holds one
// connection pool; every statement is safe to run from many nodes at once.
type Postgres struct {
	db *sql.DB
}

var _ store.Store = (*Postgres)(nil)

// IsURL reports whether dsn names a PostgreSQL database: a postgres:// or
// postgresql:// URL.
func IsURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// PoolConfig is the pool part of a DSN.
type PoolConfig struct {
	MaxConns        int
	MaxConnLifetime time.Duration
	MaxConnIdleTime time.Duration
}

// ParseDSN splits a postgres:// URL into pgx's connection settings and the
// pool settings (pool_max_conns, pool_max_conn_lifetime,
// pool_max_conn_idle_time), which are not PostgreSQL parameters and are
// removed before pgx sees the URL.
func ParseDSN(dsn string) (*pgx.ConnConfig, PoolConfig, error) {
	pc := PoolConfig{MaxConns: DefaultMaxConns, MaxConnLifetime: defaultMaxConnLifetime, MaxConnIdleTime: defaultMaxConnIdleTime}
	if !IsURL(dsn) {
		return nil, pc, fmt.Errorf("postgres: %q is not a postgres:// URL", redact(dsn))
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, pc, fmt.Errorf("postgres: invalid URL %q", redact(dsn))
	}
	q := u.Query()
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, pc, fmt.Errorf("postgres: pool_max_conns=%q: want a positive integer", v)
		}
		pc.MaxConns = n
	}
	for name, d := range map[string]*time.Duration{
		"pool_max_conn_lifetime":  &pc.MaxConnLifetime,
		"pool_max_conn_idle_time": &pc.MaxConnIdleTime,
	} {
		if v := q.Get(name); v != "" {
			if *d, err = time.ParseDuration(v); err != nil || *d < 0 {
				return nil, pc, fmt.Errorf("postgres: %s=%q: want a duration such as 30m", name, v)
			}
		}
		q.Del(name)
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, pc, fmt.Errorf("postgres: %w", err)
	}
	return cfg, pc, nil
}

// redact hides the password of a URL for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Open connects to the database at the postgres:// URL dsn without
// migrating it; call Migrate before use, or use OpenMigrated.
func Open(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, pc, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pc.MaxConns)
	db.SetMaxIdleConns(pc.MaxConns)
	db.SetConnMaxLifetime(pc.MaxConnLifetime)
	db.SetConnMaxIdleTime(pc.MaxConnIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", redact(dsn), err)
	}
	return &Postgres{db: db}, nil
}

// OpenMigrated connects to the database at dsn and migrates it to the
// latest schema. Nodes starting at once take turns: goose holds an advisory
// lock while it migrates, so each migration runs once.
func OpenMigrated(ctx context.Context, dsn string) (*Postgres, error) {
	p, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := p.Migrate(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// newProvider returns a goose provider of the embedded migrations over db,
// serialised across nodes by a session-level advisory lock.
func newProvider(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 600))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending embedded migration.
func (p *Postgres) Migrate(ctx context.Context) error {
	return p.MigrateReporting(ctx, nil)
}

// MigrateReporting applies the pending migrations one at a time and calls
// report after each.
func (p *Postgres) MigrateReporting(ctx context.Context, report func(version int64, took time.Duration)) error {
	prov, err := newProvider(p.db)
	if err != nil {
		return err
	}
	for {
		res, err := prov.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if report != nil {
			report(res.Source.Version, res.Duration)
		}
	}
}

// MigrationStatus reports the schema version of the database and the latest
// version this package knows. It does not write: a database that was never
// migrated reports version 0.
func (p *Postgres) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	prov, err := newProvider(p.db)
	if err != nil {
		return 0, 0, err
	}
	sources := prov.ListSources()
	latest = sources[len(sources)-1].Version

	const q = `SELECT to_regclass('goose_db_version') IS NOT NULL`
	var exists bool
	if err := p.db.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("migration status: %w", err)
	}
	if !exists {
		return 0, latest, nil
	}
	current, _, err = prov.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migration status: %w", err)
	}
	return current, latest, nil
}

// Ping checks that the database answers and that its schema is current.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	current, latest, err := p.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if current != latest {
		return fmt.Errorf("schema at version %d, want %d", current, latest)
	}
	return nil
}

// Exclusive runs fn while holding a cluster-wide advisory lock, so that
// nodes starting together on a fresh database bootstrap it (roles, the
// default application, signing keys) one after the other rather than
// each creating its own.
func (p *Postgres) Exclusive(ctx context.Context, fn func(context.Context) error) error {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("exclusive: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, exclusiveLockID); err != nil {
		return fmt.Errorf("exclusive: %w", err)
	}
	defer func() {
		// A failed unlock leaves the lock to the session's end: the
		// connection is discarded rather than returned to the pool.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, exclusiveLockID); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(ctx)
}

// Pools returns the connection pool by name, for its statistics.
func (p *Postgres) Pools() map[string]*sql.DB {
	return map[string]*sql.DB{"postgres": p.db}
}

// DB returns the connection pool.
func (p *Postgres) DB() *sql.DB { return p.db }

// Close closes the connection pool.
func (p *Postgres) Close() error {
	return p.db.Close()
}

// inTx runs fn in a READ COMMITTED transaction, committing when fn returns
// nil and rolling back otherwise.
func (p *Postgres) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return codec.InTx(ctx, p.db, fn)
}

// SQLSTATE codes mapped to the store's sentinel errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// sqlState returns the SQLSTATE of err, or "".
func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// writeErr wraps the error of the write op: a uniqueness violation becomes
// store.ErrConflict and a foreign-key violation (a reference to a missing
// row) store.ErrNotFound.
func writeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrInUse), errors.Is(err, store.ErrTokenSpent):
		return fmt.Errorf("%s: %w", op, err)
	case sqlState(err) == uniqueViolation:
		return fmt.Errorf("%s: %w: %w", op, store.ErrConflict, err)
	case sqlState(err) == foreignKeyViolation:
		return fmt.Errorf("%s: %w: %w", op, store.ErrNotFound, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// readErr wraps the error of the read op, turning sql.ErrNoRows into
// store.ErrNotFound.
func readErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}
