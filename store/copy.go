package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// copyOrder is every table of the schema, each after the tables its
// foreign keys name, the order Copy fills a target in. A migration that
// adds a table adds it here (Copy refuses a schema with a table it does
// not know).
var copyOrder = []string{
	"roles", "users", "applications", "app_members", "signing_keys",
	"refresh_families", "refresh_tokens", "audit_events", "api_keys",
	"email_tokens", "mail_sends", "totp_factors", "recovery_codes",
	"mfa_tokens", "revocations", "application_secrets", "client_assertion_jtis", "authorization_codes",
	"webhooks", "webhook_events", "webhook_deliveries",
}

// CopyBatch is the most rows Copy inserts in one statement.
const CopyBatch = 1000

// TableCount is one table's row count in the source and in the target
// after a copy.
type TableCount struct {
	Table          string
	Source, Target int64
}

// ErrTargetNotEmpty is returned by Copy when the target holds a gatehouse
// row: a copy never merges into a deployment.
var ErrTargetNotEmpty = errors.New("the target database holds gatehouse rows")

// ErrCountMismatch is returned by Copy when a table's rows in the target
// are not as many as in the source.
var ErrCountMismatch = errors.New("row counts differ")

// Copy copies a whole deployment from the database from names to the one
// to names (each a SQLite file or a postgres:// URL, either way round):
// every table, in batches, in one transaction per table on the target,
// reported to report as each is done. The target is migrated first and
// refused if it holds any row; the source is only read, in one snapshot
// (a read transaction: a live SQLite file may be copied), and must be at
// the schema version this binary migrates to. Values are copied as they
// are stored, sealed secrets sealed: the target serves with the same
// master key. Copy returns ErrCountMismatch when a table's counts differ.
// Copy's statements are not bounded by the store's timeout: a table
// takes as long as it takes.
func Copy(ctx context.Context, from, to string, report func(TableCount)) error {
	if !IsPostgresURL(from) {
		if _, err := os.Stat(from); err != nil {
			return fmt.Errorf("copy: source: %w", err)
		}
	}
	src, err := Open(ctx, from)
	if err != nil {
		return fmt.Errorf("copy: source: %w", err)
	}
	defer src.Close()
	current, latest, err := src.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("copy: source: %w", err)
	}
	if current != latest {
		return fmt.Errorf("copy: the source is at schema version %d, this gatehouse's is %d: migrate the source first (gatehouse migrate), with the gatehouse version that serves it", current, latest)
	}
	dst, err := OpenMigrated(ctx, to)
	if err != nil {
		return fmt.Errorf("copy: target: %w", err)
	}
	defer dst.Close()
	tables, err := dst.tables(ctx, dst.writer)
	if err != nil {
		return fmt.Errorf("copy: target: %w", err)
	}
	if extra := slices.DeleteFunc(slices.Clone(tables), func(t string) bool { return slices.Contains(copyOrder, t) }); len(extra) > 0 {
		return fmt.Errorf("copy: tables %v are not in the copy's order: this gatehouse cannot copy them", extra)
	}
	var full []string
	for _, t := range copyOrder {
		n, err := count(ctx, dst.writer, t)
		if err != nil {
			return fmt.Errorf("copy: target: %w", err)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s (%d)", t, n))
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("copy: %w: %s; copy into a new, empty database", ErrTargetNotEmpty, strings.Join(full, ", "))
	}

	// One read transaction on one connection: every table is read from
	// the same snapshot.
	conn, err := src.reader.Conn(ctx)
	if err != nil {
		return fmt.Errorf("copy: source: %w", err)
	}
	defer conn.Close()
	begin := "BEGIN"
	if src.postgres {
		begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return fmt.Errorf("copy: source: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")

	var mismatched []string
	for _, t := range copyOrder {
		c, err := copyTable(ctx, conn, dst, t)
		if err != nil {
			return fmt.Errorf("copy %s: %w", t, err)
		}
		report(c)
		if c.Source != c.Target {
			mismatched = append(mismatched, t)
		}
	}
	if len(mismatched) > 0 {
		return fmt.Errorf("copy: %w: %s", ErrCountMismatch, strings.Join(mismatched, ", "))
	}
	return nil
}

// tables lists the schema's tables but goose's.
func (s *DB) tables(ctx context.Context, db *sql.DB) ([]string, error) {
	q := `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`
	if s.postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// queryer is a pool, a connection or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func count(ctx context.Context, db queryer, table string) (n int64, err error) {
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n)
	return n, err
}

// column is a target column: its name, and whether it is a PostgreSQL
// BOOLEAN (SQLite keeps booleans as 0 and 1) or takes its default from a
// sequence.
type column struct {
	name              string
	boolean, sequence bool
}

// columns are table's columns in the target.
func (s *DB) columns(ctx context.Context, table string) ([]column, error) {
	q := `SELECT name, type, '' FROM pragma_table_info(?) ORDER BY cid`
	if s.postgres {
		q = `SELECT column_name, data_type, COALESCE(column_default, '') FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`
	}
	rows, err := s.writer.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var name, typ, def string
		if err := rows.Scan(&name, &typ, &def); err != nil {
			return nil, err
		}
		out = append(out, column{name: name, boolean: strings.EqualFold(typ, "boolean"), sequence: strings.HasPrefix(def, "nextval(")})
	}
	return out, rows.Err()
}

// copyTable copies table from the source's snapshot to dst in one
// transaction, CopyBatch rows a statement, and counts both sides.
func copyTable(ctx context.Context, src *sql.Conn, dst *DB, table string) (TableCount, error) {
	c := TableCount{Table: table}
	cols, err := dst.columns(ctx, table)
	if err != nil {
		return c, err
	}
	// The columns both engines have: a column of one engine's own (such
	// as PostgreSQL's revocations.xid) takes its default on the target.
	have, err := src.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
	if err != nil {
		return c, err
	}
	srcCols, err := have.Columns()
	have.Close()
	if err != nil {
		return c, err
	}
	cols = slices.DeleteFunc(cols, func(col column) bool { return !slices.Contains(srcCols, col.name) })
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.name
	}
	list := strings.Join(names, ", ")
	if c.Source, err = count(ctx, src, table); err != nil {
		return c, err
	}
	rows, err := src.QueryContext(ctx, `SELECT `+list+` FROM `+table)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	tx, err := dst.writer.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback()
	perBatch := max(1, min(CopyBatch, 60000/len(cols)))
	batch := make([]any, 0, perBatch*len(cols))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		row := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
		q := `INSERT INTO ` + table + ` (` + list + `) VALUES ` + strings.Repeat(row+", ", len(batch)/len(cols)-1) + row
		_, err := tx.ExecContext(ctx, dst.rebind(q), batch...)
		batch = batch[:0]
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return c, err
		}
		for i, v := range vals {
			batch = append(batch, convert(v, cols[i].boolean))
		}
		if len(batch) == perBatch*len(cols) {
			if err := flush(); err != nil {
				return c, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	if err := flush(); err != nil {
		return c, err
	}
	for _, col := range cols {
		if col.sequence {
			// Rows copied with their ids leave the sequence behind them.
			q := `SELECT setval(pg_get_serial_sequence('` + table + `', '` + col.name + `'), COALESCE(MAX(` + col.name + `), 1), MAX(` + col.name + `) IS NOT NULL) FROM ` + table
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return c, err
			}
		}
	}
	if c.Target, err = count(ctx, tx, table); err != nil {
		return c, err
	}
	return c, tx.Commit()
}

// convert is v, read from the source, as the target's column holds it:
// SQLite's 0 and 1 for PostgreSQL's BOOLEAN, and back.
func convert(v any, boolean bool) any {
	switch x := v.(type) {
	case int64:
		if boolean {
			return x != 0
		}
	case bool:
		if !boolean {
			if x {
				return int64(1)
			}
			return int64(0)
		}
	}
	return v
}
