package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/store/internal/codec"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// writerDSN and readerDSN are appended to the database path. busy_timeout
// is listed first (the driver also applies it first); journal_mode is set by
// the writer only, since WAL is a persistent property of the file. Writes
// start with BEGIN IMMEDIATE so a write transaction never has to upgrade a
// read lock, the case busy_timeout cannot help with.
const (
	writerDSN = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(ON)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	readerDSN = "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)" +
		"&_pragma=synchronous(NORMAL)&_pragma=query_only(ON)"
)

// SQLite is the Store kept in one SQLite database file. It holds two
// connection pools: a single-connection writer through which every write is
// serialised, and a read-only pool for plain reads, which WAL mode lets run
// next to the writer. Times are stored as INTEGER unix nanoseconds and read
// back in UTC.
type SQLite struct {
	writer *sql.DB
	reader *sql.DB
	// readStmts caches the reader pool's prepared statements by query
	// text: the hot reads (token, user, role, deny-list) are parsed once,
	// not on every request.
	readStmts sync.Map
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens the database file at path, creating it if needed, without
// migrating it; call Migrate before use, or use OpenSQLiteMigrated. path must
// name a file: ":memory:" would give each connection its own database.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("open sqlite: invalid database path %q", path)
	}
	writer, err := sql.Open("sqlite", path+writerDSN)
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

	reader, err := sql.Open("sqlite", path+readerDSN)
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
	return &SQLite{writer: writer, reader: reader}, nil
}

// OpenSQLiteMigrated opens the database file at path and migrates it to the
// latest schema.
func OpenSQLiteMigrated(ctx context.Context, path string) (*SQLite, error) {
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies every pending embedded migration to db, a SQLite database.
func Migrate(ctx context.Context, db *sql.DB) error {
	return MigrateReporting(ctx, db, nil)
}

// MigrateReporting applies the pending migrations one at a time and calls
// report after each, so a long migration of a big database shows progress.
func MigrateReporting(ctx context.Context, db *sql.DB, report func(version int64, took time.Duration)) error {
	p, err := newProvider(db)
	if err != nil {
		return err
	}
	for {
		res, err := p.UpByOne(ctx)
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

func (s *SQLite) Migrate(ctx context.Context) error {
	return Migrate(ctx, s.writer)
}

// MigrateReporting is Migrate with a report after each migration.
func (s *SQLite) MigrateReporting(ctx context.Context, report func(version int64, took time.Duration)) error {
	return MigrateReporting(ctx, s.writer, report)
}

// MigrationStatus reports the schema version of the database and the latest
// version this package knows. It does not write: a database that was never
// migrated reports version 0.
func (s *SQLite) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	p, err := newProvider(s.reader)
	if err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	latest = sources[len(sources)-1].Version

	const q = `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'goose_db_version')`
	var exists bool
	if err := s.readRow(ctx, q).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("migration status: %w", err)
	}
	if !exists {
		return 0, latest, nil
	}
	current, _, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migration status: %w", err)
	}
	return current, latest, nil
}

// newProvider returns a goose provider of the embedded migrations over db.
func newProvider(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// InTx runs fn in a write transaction (BEGIN IMMEDIATE on the writer),
// committing when fn returns nil and rolling back otherwise. fn must use only
// tx: the writer has a single connection, which tx holds.
func (s *SQLite) InTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return codec.InTx(ctx, s.writer, fn)
}

// Ping checks that the database answers and that its schema is current.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	current, latest, err := s.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if current != latest {
		return fmt.Errorf("schema at version %d, want %d", current, latest)
	}
	return nil
}

// Pools returns the connection pools by name, for their statistics.
func (s *SQLite) Pools() map[string]*sql.DB {
	return map[string]*sql.DB{"sqlite_writer": s.writer, "sqlite_reader": s.reader}
}

// Close closes both connection pools.
func (s *SQLite) Close() error {
	s.readStmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// readStmt returns q prepared on the reader pool, preparing it once.
func (s *SQLite) readStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.readStmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.reader.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.readStmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// readRow runs a one-row read through the statement cache. A statement
// that cannot be prepared is run directly, which reports the same error.
func (s *SQLite) readRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.readStmt(ctx, q)
	if err != nil {
		return s.reader.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// readRows runs a read through the statement cache.
func (s *SQLite) readRows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// exec runs one write statement on the writer.
func (s *SQLite) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.writer.ExecContext(ctx, q, args...)
}

// sqliteCode returns the extended SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isUniqueViolation reports whether err broke a UNIQUE or PRIMARY KEY
// constraint.
func isUniqueViolation(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKeyViolation reports whether err broke a FOREIGN KEY constraint.
func isForeignKeyViolation(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// writeErr wraps the error of the write op: a uniqueness violation becomes
// ErrConflict and a foreign-key violation (a reference to a missing row)
// ErrNotFound.
func writeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict),
		errors.Is(err, ErrInUse), errors.Is(err, ErrTokenSpent):
		return fmt.Errorf("%s: %w", op, err)
	case isUniqueViolation(err):
		return fmt.Errorf("%s: %w: %w", op, ErrConflict, err)
	case isForeignKeyViolation(err):
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// readErr wraps the error of the read op, turning sql.ErrNoRows into
// ErrNotFound.
func readErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// The encodings both stores share: store/internal/codec.
var (
	nanos         = codec.Nanos
	fromNanos     = codec.FromNanos
	nullNanos     = codec.NullNanos
	fromNullNanos = codec.FromNullNanos
	encodeCursor  = codec.EncodeCursor
	decodeCursor  = codec.DecodeCursor
	foldKey       = codec.FoldKey
	mustAffect    = codec.MustAffect
)

// pageLimit returns the number of rows p asks for.
func pageLimit(p Page) int { return codec.PageLimit(p.Limit) }

// ErrBadCursor is returned by the List methods when Page.After is not a
// cursor they returned.
var ErrBadCursor = codec.ErrBadCursor
