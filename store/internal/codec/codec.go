// Package codec holds the value encodings both stores share, so SQLite
// and PostgreSQL hold the same values and hand out the same cursors.
package codec

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Paging limits: a page asking for 0 rows or fewer gets DefaultPageLimit,
// and none holds more than MaxPageLimit.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// ErrBadCursor is store.ErrBadCursor: a cursor no List method returned.
var ErrBadCursor = errors.New("invalid page cursor")

// Nanos encodes t as unix nanoseconds; the zero time becomes math.MinInt64
// so that it reads back as the zero time. t must lie between the years 1678
// and 2261.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// FromNanos decodes a time encoded by Nanos, in UTC.
func FromNanos(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// NullNanos encodes an optional time: nil becomes NULL.
func NullNanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return Nanos(*t)
}

// FromNullNanos decodes an optional time: NULL becomes nil.
func FromNullNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := FromNanos(n.Int64)
	return &t
}

// PageLimit is the number of rows a page asking for limit gets.
func PageLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageLimit
	case limit > MaxPageLimit:
		return MaxPageLimit
	default:
		return limit
	}
}

// EncodeCursor returns the opaque cursor of the row with the sort key
// (t, id).
func EncodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(Nanos(t), 10) + ":" + id))
}

// DecodeCursor returns the sort key encoded in cursor, or (first, "") for
// the empty cursor of the first page.
func DecodeCursor(cursor string, first int64) (n int64, id string, err error) {
	if cursor == "" {
		return first, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, "", ErrBadCursor
	}
	ns, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return 0, "", ErrBadCursor
	}
	if n, err = strconv.ParseInt(ns, 10, 64); err != nil {
		return 0, "", ErrBadCursor
	}
	return n, id, nil
}

// FoldKey is the case-folded form of a username or e-mail used for
// case-insensitive uniqueness and lookups. It folds all of Unicode, in Go,
// where SQL's NOCASE and lower() differ by engine.
func FoldKey(s string) string {
	return strings.ToLower(strings.ToUpper(s))
}

// ErrNotFound is store.ErrNotFound: the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// MustAffect returns ErrNotFound when res changed no row.
func MustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// InTx runs fn in a transaction of db, committing when fn returns nil and
// rolling back otherwise, a panic included.
func InTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}
