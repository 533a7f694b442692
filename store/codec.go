package store

import (
	"database/sql"
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// The value encodings of both engines, so that SQLite and PostgreSQL hold
// the same values and hand out the same cursors.

// Paging limits: a page asking for 0 rows or fewer gets defaultPageLimit,
// and none holds more than maxPageLimit.
const (
	defaultPageLimit = 50
	maxPageLimit     = 500
)

// ErrBadCursor is returned by the List methods when Page.After is not a
// cursor they returned.
var ErrBadCursor = errors.New("invalid page cursor")

// nanos encodes t as unix nanoseconds; the zero time becomes math.MinInt64
// so that it reads back as the zero time. t must lie between the years 1678
// and 2261.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// fromNanos decodes a time encoded by nanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullNanos encodes an optional time: nil becomes NULL.
func nullNanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return nanos(*t)
}

// fromNullNanos decodes an optional time: NULL becomes nil.
func fromNullNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

// pageLimit returns the number of rows p asks for.
func pageLimit(p Page) int {
	switch {
	case p.Limit <= 0:
		return defaultPageLimit
	case p.Limit > maxPageLimit:
		return maxPageLimit
	default:
		return p.Limit
	}
}

// encodeCursor returns the opaque cursor of the row with the sort key
// (t, id).
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(nanos(t), 10) + ":" + id))
}

// decodeCursor returns the sort key encoded in cursor, or (first, "") for
// the empty cursor of the first page.
func decodeCursor(cursor string, first int64) (n int64, id string, err error) {
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

// foldKey is the case-folded form of a username or e-mail used for
// case-insensitive uniqueness and lookups. It folds all of Unicode, in Go,
// where SQL's NOCASE and lower() differ by engine.
func foldKey(s string) string {
	return strings.ToLower(strings.ToUpper(s))
}
