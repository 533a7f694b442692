package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
)

// migrationsFS holds each engine's migrations, one directory per engine;
// a migration's version is its numeric prefix, the same on both.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationsFS embed.FS

// DB is the Store kept in a SQL database, SQLite or PostgreSQL. Every query
// and row mapping is written once, with ? placeholders, against the
// database/sql pools the engine's file opens (sqlite.go, postgres.go); the
// engine supplies what differs: placeholder style, error codes, which
// strings a TEXT value can hold, migrations and locks.
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
}

var _ Store = (*DB)(nil)

// engine is what differs between the SQL databases DB runs on. Each engine's
// file fills one in.
type engine struct {
	// postgres: the few statements that must differ branch on it.
	postgres bool
	// dollarParams: placeholders are $1, $2, … rather than ?.
	dollarParams bool
	// prepareReads: reads go through statements prepared once per query.
	prepareReads bool
	// violation reports the constraint a driver error broke.
	violation func(error) violation
	// storable reports whether a TEXT value can hold s.
	storable func(s string) bool
	// newProvider returns goose's provider of the engine's migrations.
	newProvider func(db *sql.DB) (*goose.Provider, error)
	// hasVersionTable is a query reporting whether goose's table exists.
	hasVersionTable string
	// exclusive runs fn while no other store on the database runs an
	// exclusive fn.
	exclusive func(ctx context.Context, db *sql.DB, fn func(context.Context) error) error
}

// violation is a broken constraint, the driver errors the store maps to
// its sentinels.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// IsPostgresURL reports whether dsn names a PostgreSQL database: a
// postgres:// or postgresql:// URL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database dsn names without migrating it: PostgreSQL for a
// postgres:// or postgresql:// URL, else the SQLite database file at that
// path. Call Migrate before use, or use OpenMigrated.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgresURL(dsn) {
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, dsn)
}

// OpenMigrated opens the database dsn names (see Open) and migrates it to
// the latest schema. Nodes sharing a PostgreSQL database take turns: goose
// holds an advisory lock while it migrates, so each migration runs once.
func OpenMigrated(ctx context.Context, dsn string) (*DB, error) {
	s, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return s.migrated(ctx)
}

// migrated migrates s, closing it when that fails.
func (s *DB) migrated(ctx context.Context) (*DB, error) {
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newProvider returns a goose provider over db of the embedded migrations
// in migrations/dir.
func newProvider(dir string, dialect goose.Dialect, db *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationsFS, "migrations/"+dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending embedded migration.
func (s *DB) Migrate(ctx context.Context) error {
	return s.MigrateReporting(ctx, nil)
}

// MigrateReporting applies the pending migrations one at a time and calls
// report after each, so a long migration of a big database shows progress.
func (s *DB) MigrateReporting(ctx context.Context, report func(version int64, took time.Duration)) error {
	p, err := s.newProvider(s.writer)
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

// MigrationStatus reports the schema version of the database and the latest
// version this package knows. It does not write: a database that was never
// migrated reports version 0.
func (s *DB) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	p, err := s.newProvider(s.reader)
	if err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	latest = sources[len(sources)-1].Version

	var exists bool
	if err := s.readRow(ctx, s.hasVersionTable).Scan(&exists); err != nil {
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

// Ping checks that the database answers and that its schema is current.
func (s *DB) Ping(ctx context.Context) error {
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

// rebind returns q in the engine's placeholder style: as it is for ?, with
// ?n and each bare ? numbered $n for PostgreSQL, rewritten once per query.
// Queries hold no ? but placeholders (none inside a string literal).
func (s *DB) rebind(q string) string {
	if !s.dollarParams {
		return q
	}
	if r, ok := s.rebound.Load(q); ok {
		return r.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		b.WriteByte('$')
		if j > i+1 {
			b.WriteString(q[i+1 : j]) // ?n: an explicit number
		} else {
			n++
			b.WriteString(strconv.Itoa(n))
		}
		i = j - 1
	}
	s.rebound.Store(q, b.String())
	return b.String()
}

// readStmt returns q prepared on the reader pool, preparing it once.
func (s *DB) readStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.reader.PrepareContext(ctx, s.rebind(q))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// readRow runs a one-row read on the reader, through the statement cache
// when the engine prepares reads. A statement that cannot be prepared is
// run directly, which reports the same error.
func (s *DB) readRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = s.shortCtx(ctx)
	if s.prepareReads {
		if st, err := s.readStmt(ctx, q); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return s.reader.QueryRowContext(ctx, s.rebind(q), args...)
}

// readRows runs a read on the reader, through the statement cache when
// the engine prepares reads.
func (s *DB) readRows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if !s.prepareReads {
		return s.reader.QueryContext(ctx, s.rebind(q), args...)
	}
	st, err := s.readStmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// exec runs one write statement on the writer.
func (s *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.writer.ExecContext(ctx, s.rebind(q), args...)
}

// writeRow runs one write statement that returns a row on the writer.
func (s *DB) writeRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.writer.QueryRowContext(ctx, s.rebind(q), args...)
}

// tx is a write transaction whose statements are rebound like DB's.
type tx struct {
	tx *sql.Tx
	s  *DB
}

func (t tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.s.shortCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.s.rebind(q), args...)
}

func (t tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.s.shortCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.s.rebind(q), args...)
}

func (t tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.s.shortCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.s.rebind(q), args...)
}

// stmt returns q's prepared statement in the transaction when the engine
// prepares statements and q's is ready; else nil, and q is noted for
// preparing before the next transaction.
func (t tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if !t.s.prepareReads {
		return nil
	}
	if st, ok := t.s.writeStmts.Load(q); ok {
		return t.tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	if _, loaded := t.s.unprepared.LoadOrStore(q, struct{}{}); !loaded {
		t.s.pending.Add(1)
	}
	return nil
}

// prepareWrites prepares on the writer the queries transactions ran
// unprepared. It runs outside any transaction: preparing takes the
// writer's connection.
func (s *DB) prepareWrites(ctx context.Context) {
	if s.pending.Load() == 0 {
		return
	}
	s.unprepared.Range(func(k, _ any) bool {
		q := k.(string)
		st, err := s.writer.PrepareContext(ctx, s.rebind(q))
		if err != nil && ctx.Err() != nil {
			return false // a canceled request prepares nothing more
		}
		if _, ok := s.unprepared.LoadAndDelete(q); ok {
			s.pending.Add(-1)
		}
		if err != nil {
			return true // noted again when next run, to try again
		}
		if _, loaded := s.writeStmts.LoadOrStore(q, st); loaded {
			st.Close()
		}
		return true
	})
}

// shortCtx is the context of a statement that runs for microseconds (a
// one-row read, a statement of a write transaction): on SQLite one that
// cannot be cancelled, since for a cancellable context the driver starts
// a goroutine per statement to interrupt it, which costs more than the
// statement. The request's cancellation still counts where waiting
// happens: before a transaction begins (database/sql rolls back one whose
// context ends) and while waiting for a connection. PostgreSQL keeps the
// context: there a statement's cancellation stops a round trip.
func (s *DB) shortCtx(ctx context.Context) context.Context {
	if s.postgres {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// inTx runs fn in a write transaction on the writer (BEGIN IMMEDIATE on
// SQLite, READ COMMITTED on PostgreSQL), committing when fn returns nil and
// rolling back otherwise, a panic included. fn must use only t: SQLite's
// writer has a single connection, which t holds.
func (s *DB) inTx(ctx context.Context, fn func(t tx) error) error {
	if s.prepareReads {
		s.prepareWrites(ctx)
	}
	sqlTx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx{sqlTx, s}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// storableAll reports whether every s is storable.
func (s *DB) storableAll(ss ...string) bool {
	for _, v := range ss {
		if !s.storable(v) {
			return false
		}
	}
	return true
}

// writeErr wraps the error of the write op: a uniqueness violation becomes
// ErrConflict and a foreign-key violation (a reference to a missing row)
// ErrNotFound.
func (s *DB) writeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict),
		errors.Is(err, ErrInUse), errors.Is(err, ErrTokenSpent):
		return fmt.Errorf("%s: %w", op, err)
	}
	switch s.violation(err) {
	case uniqueViolation:
		return fmt.Errorf("%s: %w: %w", op, ErrConflict, err)
	case foreignKeyViolation:
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

// mustAffect returns ErrNotFound when res changed no row.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// getBy reads the one row q selects by key with scan; a key the engine
// cannot store names no row.
func getBy[T any](ctx context.Context, s *DB, op, q string, scan func(scanner) (T, error), key string) (T, error) {
	var zero T
	if !s.storable(key) {
		return zero, readErr(op, sql.ErrNoRows)
	}
	v, err := scan(s.readRow(ctx, q, key))
	if err != nil {
		return zero, readErr(op, err)
	}
	return v, nil
}

// pageStart returns the sort key after which page p starts (first for the
// first page) and the number of rows it asks for.
func (s *DB) pageStart(p Page, first int64) (after int64, afterID string, limit int, err error) {
	after, afterID, err = decodeCursor(p.After, first)
	if err == nil && !s.storable(afterID) {
		err = ErrBadCursor // no cursor handed out holds it
	}
	return after, afterID, pageLimit(p), err
}

// scanAll reads every row of rows with scan.
func scanAll[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// readPage runs the page query q, whose last placeholder is the LIMIT, for
// up to limit rows, and returns them and the cursor of the next page (the
// last row's sort key) when there are more.
func readPage[T any](ctx context.Context, s *DB, limit int, scan func(scanner) (T, error), key func(T) (time.Time, string), q string, args ...any) ([]T, string, error) {
	rows, err := s.readRows(ctx, q, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	out, err := scanAll(rows, scan)
	if err != nil || len(out) <= limit {
		return out, "", err
	}
	out = out[:limit]
	return out, encodeCursor(key(out[limit-1])), nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// execOne runs the write op q on the one row its string arguments name
// (keys, not values to store); no such row is ErrNotFound. A key the
// engine cannot store names no row.
func (s *DB) execOne(ctx context.Context, op, q string, args ...any) error {
	for _, a := range args {
		if k, ok := a.(string); ok && !s.storable(k) {
			return s.writeErr(op, ErrNotFound)
		}
	}
	res, err := s.exec(ctx, q, args...)
	if err == nil {
		err = mustAffect(res)
	}
	return s.writeErr(op, err)
}
