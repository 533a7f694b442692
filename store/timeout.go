package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DefaultTimeout is the deadline of a database call when Open is given
// none (WithTimeout): a statement, a transaction, or the wait for a pooled
// connection or for SQLite's write lock.
const DefaultTimeout = 5 * time.Second

// ErrUnavailable is returned when the database did not answer in time: a
// call ran past the store's timeout (a stalled server, network or disk), or
// SQLite's write lock stayed held by another connection past it. Nothing
// the call would have written is written: a transaction that timed out is
// rolled back.
var ErrUnavailable = errors.New("database unavailable")

// errTimedOut is the cause of a context the store's own timeout ended, to
// tell it from the caller's cancellation or deadline.
var errTimedOut = errors.New("database call timed out")

// Option changes how Open opens a database.
type Option func(*options)

type options struct {
	timeout time.Duration
}

// WithTimeout bounds every database call at d (DefaultTimeout when d is
// not positive).
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

func openOptions(opts []Option) options {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// bounded is ctx ended by the store's timeout as well.
func (s *DB) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, s.timeout, errTimedOut)
}

// unavailable marks err as ErrUnavailable when the call it ended, run
// under ctx (from bounded), timed out or found SQLite's lock held past
// busy_timeout.
func (s *DB) unavailable(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	if context.Cause(ctx) == errTimedOut || s.busy != nil && s.busy(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// row is a one-row read or write whose deadline lasts until it is
// scanned.
type row struct {
	row    *sql.Row
	ctx    context.Context
	cancel context.CancelFunc
	s      *DB
}

// Scan scans the row and ends its deadline.
func (r row) Scan(dest ...any) error {
	defer r.cancel()
	return r.s.unavailable(r.ctx, r.row.Scan(dest...))
}

// rows are the rows of a read whose deadline lasts until they are closed.
type rows struct {
	*sql.Rows
	ctx    context.Context
	cancel context.CancelFunc
	s      *DB
}

// Close closes the rows and ends their deadline.
func (r *rows) Close() error {
	defer r.cancel()
	return r.Rows.Close()
}

// Err is the error that ended the rows, ErrUnavailable when it was the
// timeout.
func (r *rows) Err() error { return r.s.unavailable(r.ctx, r.Rows.Err()) }
