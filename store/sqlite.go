package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// writerDSN and readerDSN are appended to the database path, after the
// busy_timeout pragma (the store's timeout: a lock another connection
// holds is waited for no longer than any other database call). busy_timeout
// comes first (the driver also applies it first); journal_mode is set by
// the writer only, since WAL is a persistent property of the file. Writes
// start with BEGIN IMMEDIATE so a write transaction never has to upgrade a
// read lock, the case busy_timeout cannot help with.
const (
	writerDSN = "&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	readerDSN = "&_pragma=foreign_keys(ON)" +
		"&_pragma=synchronous(NORMAL)&_pragma=query_only(ON)"
)

// busyTimeout is the DSN's first parameter: SQLite's busy_timeout of d.
func busyTimeout(d time.Duration) string {
	return fmt.Sprintf("?_pragma=busy_timeout(%d)", max(d.Milliseconds(), 1))
}

// sqliteEngine: ? placeholders, reads prepared once per query, TEXT that
// holds any bytes. Times are stored as INTEGER unix nanoseconds.
var sqliteEngine = engine{
	prepareReads:    true,
	violation:       sqliteViolation,
	busy:            sqliteBusy,
	storable:        func(string) bool { return true },
	newProvider:     func(db *sql.DB) (*goose.Provider, error) { return newProvider("sqlite", goose.DialectSQLite3, db) },
	hasVersionTable: `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'goose_db_version')`,
	// One process writes a SQLite file, and its writer is one
	// connection: there is no other node to take turns with.
	exclusive: func(ctx context.Context, _ *sql.DB, fn func(context.Context) error) error { return fn(ctx) },
}

// OpenSQLite opens the SQLite database file at path, creating it if needed,
// without migrating it; call Migrate before use, or use OpenSQLiteMigrated.
// path must name a file: ":memory:" would give each connection its own
// database.
//
// The store holds two connection pools: a single-connection writer through
// which every write is serialised, and a read-only pool for plain reads,
// which WAL mode lets run next to the writer.
func OpenSQLite(ctx context.Context, path string, opts ...Option) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("open sqlite: invalid database path %q", path)
	}
	o := openOptions(opts)
	writer, err := sql.Open("sqlite", path+busyTimeout(o.timeout)+writerDSN)
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// Connecting the writer first switches the file to WAL before any reader
	// connects.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}

	reader, err := sql.Open("sqlite", path+busyTimeout(o.timeout)+readerDSN)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite reader: %w", err)
	}
	n := max(4, runtime.NumCPU())
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("open sqlite reader: %w", err)
	}
	s := &DB{
		engine:  sqliteEngine,
		writer:  writer,
		reader:  reader,
		pools:   map[string]*sql.DB{"sqlite_writer": writer, "sqlite_reader": reader},
		timeout: o.timeout,
	}
	s.startGroupCommit()
	return s, nil
}

// OpenSQLiteMigrated opens the SQLite database file at path and migrates it
// to the latest schema.
func OpenSQLiteMigrated(ctx context.Context, path string, opts ...Option) (*DB, error) {
	s, err := OpenSQLite(ctx, path, opts...)
	if err != nil {
		return nil, err
	}
	return s.migrated(ctx)
}

// sqliteBusy reports SQLITE_BUSY: another connection held the lock past
// busy_timeout.
func sqliteBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// sqliteViolation maps SQLite's extended result codes.
func sqliteViolation(err error) violation {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return noViolation
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return uniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return foreignKeyViolation
	default:
		return noViolation
	}
}
