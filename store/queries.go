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
// when the engine prepares reads, under the store's timeout on
// PostgreSQL. (SQLite's one-row reads run under shortCtx, which no
// deadline could reach: in WAL mode they wait on no lock, and a lock
// held past busy_timeout still ends them.) A statement that cannot be
// prepared is run directly, which reports the same error.
func (s *DB) readRow(ctx context.Context, q string, args ...any) row {
	cancel := context.CancelFunc(func() {})
	if s.postgres {
		ctx, cancel = s.bounded(ctx)
	}
	r := row{ctx: ctx, cancel: cancel, s: s}
	sctx := s.shortCtx(ctx)
	if s.prepareReads {
		if st, err := s.readStmt(sctx, q); err == nil {
			r.row = st.QueryRowContext(sctx, args...)
			return r
		}
	}
	r.row = s.reader.QueryRowContext(sctx, s.rebind(q), args...)
	return r
}

// readRows runs a read on the reader, through the statement cache when
// the engine prepares reads, under the store's timeout until the rows are
// closed.
func (s *DB) readRows(ctx context.Context, q string, args ...any) (*rows, error) {
	ctx, cancel := s.bounded(ctx)
	var rs *sql.Rows
	var err error
	if !s.prepareReads {
		rs, err = s.reader.QueryContext(ctx, s.rebind(q), args...)
	} else {
		var st *sql.Stmt
		if st, err = s.readStmt(ctx, q); err == nil {
			rs, err = st.QueryContext(ctx, args...)
		}
	}
	if err != nil {
		cancel()
		return nil, s.unavailable(ctx, err)
	}
	return &rows{Rows: rs, ctx: ctx, cancel: cancel, s: s}, nil
}

// exec runs one write statement on the writer under the store's timeout.
func (s *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	res, err := s.writer.ExecContext(ctx, s.rebind(q), args...)
	return res, s.unavailable(ctx, err)
}

// writeRow runs one write statement that returns a row on the writer,
// under the store's timeout.
func (s *DB) writeRow(ctx context.Context, q string, args ...any) row {
	ctx, cancel := s.bounded(ctx)
	return row{row: s.writer.QueryRowContext(ctx, s.rebind(q), args...), ctx: ctx, cancel: cancel, s: s}
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
