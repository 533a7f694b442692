package postgres

import (
	"database/sql"
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/store"
)

// These mirror the SQLite store's encodings exactly, so both backends hold
// the same values and hand out the same cursors.

// Paging limits: a Page with Limit <= 0 gets defaultPageLimit rows, and no
// page holds more than maxPageLimit.
const (
	defaultPageLimit = 50
	maxPageLimit     = 500
)

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
func pageLimit(p store.Page) int {
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
		return 0, "", store.ErrBadCursor
	}
	ns, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return 0, "", store.ErrBadCursor
	}
	n, err = strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return 0, "", store.ErrBadCursor
	}
	return n, id, nil
}

// foldKey returns the case-folded form of s used for case-insensitive
// uniqueness and lookups of usernames and e-mails; the SQLite store folds
// alike, in Go rather than in SQL, so both fold all of Unicode the same way.
func foldKey(s string) string {
	return strings.ToLower(strings.ToUpper(s))
}

// storable reports whether s can be a TEXT value: PostgreSQL's text holds
// valid UTF-8 without NUL bytes, where SQLite's holds any bytes. A key that
// is not storable is in no row, so lookups of it find nothing (rather than
// failing, as PostgreSQL would, with "invalid byte sequence").
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// storableAll reports whether every s is storable.
func storableAll(ss ...string) bool {
	for _, s := range ss {
		if !storable(s) {
			return false
		}
	}
	return true
}
