package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DB is the Store kept in a SQL database, SQLite or PostgreSQL. Every query
// and row mapping is written once, with ? placeholders, against the
// database/sql pools the engine's file opens (sqlite.go, postgres.go); the
// engine supplies what differs: placeholder style, error codes, which
// strings a TEXT value can hold, migrations and locks.
//
// This file opens and closes it; the rest is a file per concern: engine.go
// (what an engine supplies: placeholders, short statement contexts),
// migrate.go (the embedded migrations and the schema version), queries.go
// (statements on the pools), tx.go (write transactions), errors.go (driver
// errors mapped to the store's sentinels) and rows.go (scanning rows and
// pages).
type DB struct {
	engine
	// writer runs every write, reader every plain read. For SQLite they
	// are its one-connection writer and its read-only pool; for PostgreSQL
	// both are the one pool.
	writer, reader *sql.DB
	// pools names the distinct pools, for their statistics.
	pools map[string]*sql.DB
	// stmts caches the reader's prepared statements by query text when
	// the engine prepares reads (SQLite): the hot reads are parsed once,
	// not on every request.
	stmts sync.Map
	// writeStmts caches the writer's prepared statements by query text on
	// the same engines, for the statements of write transactions;
	// unprepared holds the queries a transaction ran without one, which
	// the next transaction prepares before it begins (the writer's one
	// connection is the transaction's while it runs), and pending counts
	// them.
	writeStmts, unprepared sync.Map
	pending                atomic.Int32
	// group carries SQLite's refresh-token rotations in shared
	// transactions (groupcommit.go); nil on PostgreSQL.
	group *groupCommit
	// rebound caches each query's text in the engine's placeholder style
	// when that is not ? (PostgreSQL's $n), so it is rewritten once.
	rebound sync.Map
	// timeout bounds every call (WithTimeout, timeout.go).
	timeout time.Duration
}

var _ Store = (*DB)(nil)

// IsPostgresURL reports whether dsn names a PostgreSQL database: a
// postgres:// or postgresql:// URL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database dsn names without migrating it: PostgreSQL for a
// postgres:// or postgresql:// URL, else the SQLite database file at that
// path. Call Migrate before use, or use OpenMigrated.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	if IsPostgresURL(dsn) {
		return OpenPostgres(ctx, dsn, opts...)
	}
	return OpenSQLite(ctx, dsn, opts...)
}

// OpenMigrated opens the database dsn names (see Open) and migrates it to
// the latest schema. Nodes sharing a PostgreSQL database take turns: goose
// holds an advisory lock while it migrates, so each migration runs once.
func OpenMigrated(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	s, err := Open(ctx, dsn, opts...)
	if err != nil {
		return nil, err
	}
	return s.migrated(ctx)
}

// Exclusive runs fn so that no other store on the same database runs an
// Exclusive fn at the same time: nodes starting together on a fresh
// PostgreSQL database bootstrap it (roles, the default application, signing
// keys) one after the other rather than each creating its own.
func (s *DB) Exclusive(ctx context.Context, fn func(context.Context) error) error {
	return s.exclusive(ctx, s.writer, fn)
}

// Pools returns the connection pools by name, for their statistics.
func (s *DB) Pools() map[string]*sql.DB { return s.pools }

// Close closes the connection pools.
func (s *DB) Close() error {
	s.closeGroupCommit()
	for _, m := range []*sync.Map{&s.stmts, &s.writeStmts} {
		m.Range(func(_, st any) bool {
			st.(*sql.Stmt).Close()
			return true
		})
	}
	errs := []error{}
	for _, db := range s.pools {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}
