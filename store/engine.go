package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
)

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
	// busy reports whether a driver error is a lock still held when its
	// wait (SQLite's busy_timeout) ran out; nil when the engine bounds
	// waits by the context alone.
	busy func(error) bool
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

// storableAll reports whether every s is storable.
func (s *DB) storableAll(ss ...string) bool {
	for _, v := range ss {
		if !s.storable(v) {
			return false
		}
	}
	return true
}
