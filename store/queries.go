package store

import (
	"context"
	"database/sql"
)

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
