package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// PostgreSQL is for running several gatehouse nodes on one database.
// Everything nodes share lives in it: users, applications, roles, signing
// keys, refresh-token families, the jti deny-list and the lockout counters.
// Writes that must have one winner across nodes are single conditional
// statements (RotateRefreshToken's UPDATE ... WHERE used_at IS NULL,
// RecordLoginFailure's UPDATE ... RETURNING), which READ COMMITTED makes
// atomic: a second writer of the same row waits for the first and
// re-evaluates its WHERE clause against the committed row. The store uses
// database/sql over pgx (github.com/jackc/pgx/v5/stdlib), so that goose
// migrates it and the metrics read its pool statistics; pgx caches each
// connection's prepared statements itself.

// DefaultPostgresMaxConns is the default size of a node's pool: 4 per CPU.
// A node's requests each hold a connection only for the length of one
// statement or one short transaction, so a few connections per core keep
// the CPU busy; the DSN parameters pool_max_conns, pool_max_conn_lifetime
// and pool_max_conn_idle_time (pgxpool's names) override the defaults.
var DefaultPostgresMaxConns = 4 * runtime.NumCPU()

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

// postgresEngine: $n placeholders, SQLSTATE codes, TEXT that holds only
// valid UTF-8 without NUL, migrations and Exclusive under advisory locks.
var postgresEngine = engine{
	postgres:        true,
	dollarParams:    true,
	violation:       postgresViolation,
	storable:        postgresStorable,
	newProvider:     newPostgresProvider,
	hasVersionTable: `SELECT to_regclass('goose_db_version') IS NOT NULL`,
	exclusive:       postgresExclusive,
}

// PostgresPool is the pool part of a DSN.
type PostgresPool struct {
	MaxConns        int
	MaxConnLifetime time.Duration
	MaxConnIdleTime time.Duration
}

// ParsePostgresDSN splits a postgres:// URL into pgx's connection settings
// and the pool settings (pool_max_conns, pool_max_conn_lifetime,
// pool_max_conn_idle_time), which are not PostgreSQL parameters and are
// removed before pgx sees the URL.
func ParsePostgresDSN(dsn string) (*pgx.ConnConfig, PostgresPool, error) {
	pc := PostgresPool{MaxConns: DefaultPostgresMaxConns, MaxConnLifetime: defaultMaxConnLifetime, MaxConnIdleTime: defaultMaxConnIdleTime}
	if !IsPostgresURL(dsn) {
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

// OpenPostgres connects to the database at the postgres:// URL dsn without
// migrating it; call Migrate before use, or use OpenMigrated. The store
// holds one connection pool; every statement is safe to run from many nodes
// at once.
func OpenPostgres(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	o := openOptions(opts)
	cfg, pc, err := ParsePostgresDSN(dsn)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pc.MaxConns)
	db.SetMaxIdleConns(pc.MaxConns)
	db.SetConnMaxLifetime(pc.MaxConnLifetime)
	db.SetConnMaxIdleTime(pc.MaxConnIdleTime)
	// A server that does not answer fails the open within the timeout
	// rather than hanging the start.
	pctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", redact(dsn), err)
	}
	return &DB{engine: postgresEngine, writer: db, reader: db, pools: map[string]*sql.DB{"postgres": db}, timeout: o.timeout}, nil
}

// newPostgresProvider returns the goose provider of the PostgreSQL
// migrations, serialised across nodes by a session-level advisory lock.
func newPostgresProvider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 600))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return newProvider("postgres", goose.DialectPostgres, db, goose.WithSessionLocker(locker))
}

// postgresExclusive runs fn while holding a cluster-wide advisory lock.
func postgresExclusive(ctx context.Context, db *sql.DB, fn func(context.Context) error) error {
	conn, err := db.Conn(ctx)
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

// postgresViolation maps the SQLSTATE codes of a broken constraint.
func postgresViolation(err error) violation {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return noViolation
	}
	switch e.Code {
	case "23505":
		return uniqueViolation
	case "23503":
		return foreignKeyViolation
	default:
		return noViolation
	}
}

// postgresStorable reports whether s can be a TEXT value: PostgreSQL's text
// holds valid UTF-8 without NUL bytes, where SQLite's holds any bytes. A key
// that is not storable is in no row, so lookups of it find nothing (rather
// than failing, as PostgreSQL would, with "invalid byte sequence").
func postgresStorable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}
