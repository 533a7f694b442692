package store

import (
	"context"
	"database/sql"
	"fmt"
)

// tx is a write transaction whose statements are rebound like DB's. Its
// statements run under the transaction's context, which the store's
// timeout ends (the ctx they are given is the caller's, from which it was
// made): a statement stalled past the deadline returns, and the
// transaction is rolled back.
type tx struct {
	tx  *sql.Tx
	s   *DB
	ctx context.Context
}

func (t tx) exec(_ context.Context, q string, args ...any) (sql.Result, error) {
	ctx := t.s.shortCtx(t.ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.s.rebind(q), args...)
}

func (t tx) queryRow(_ context.Context, q string, args ...any) row {
	ctx := t.s.shortCtx(t.ctx)
	r := row{ctx: t.ctx, cancel: func() {}, s: t.s}
	if st := t.stmt(ctx, q); st != nil {
		r.row = st.QueryRowContext(ctx, args...)
	} else {
		r.row = t.tx.QueryRowContext(ctx, t.s.rebind(q), args...)
	}
	return r
}

func (t tx) query(_ context.Context, q string, args ...any) (*rows, error) {
	ctx := t.s.shortCtx(t.ctx)
	var rs *sql.Rows
	var err error
	if st := t.stmt(ctx, q); st != nil {
		rs, err = st.QueryContext(ctx, args...)
	} else {
		rs, err = t.tx.QueryContext(ctx, t.s.rebind(q), args...)
	}
	if err != nil {
		return nil, t.s.unavailable(t.ctx, err)
	}
	return &rows{Rows: rs, ctx: t.ctx, cancel: func() {}, s: t.s}, nil
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

// inTx runs fn in a write transaction on the writer (BEGIN IMMEDIATE on
// SQLite, READ COMMITTED on PostgreSQL), committing when fn returns nil and
// rolling back otherwise, a panic included. fn must use only t: SQLite's
// writer has a single connection, which t holds. The wait for the writer,
// the transaction and its commit are bounded by the store's timeout; past
// it the error is ErrUnavailable and nothing is written (unless the
// commit itself reached the database before the answer was lost, as with
// any commit whose answer is).
func (s *DB) inTx(ctx context.Context, fn func(t tx) error) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	return s.unavailable(ctx, s.runTx(ctx, fn))
}

func (s *DB) runTx(ctx context.Context, fn func(t tx) error) error {
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
	if err := fn(tx{sqlTx, s, ctx}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}
