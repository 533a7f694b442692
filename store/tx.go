package store

import (
	"context"
	"database/sql"
	"fmt"
)

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
