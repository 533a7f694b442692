package postgres

import (
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/store/internal/codec"

	"github.com/gatehouse-auth/gatehouse/store"
)

// The encodings both stores share: store/internal/codec.
var (
	nanos         = codec.Nanos
	fromNanos     = codec.FromNanos
	nullNanos     = codec.NullNanos
	fromNullNanos = codec.FromNullNanos
	encodeCursor  = codec.EncodeCursor
	decodeCursor  = codec.DecodeCursor
	foldKey       = codec.FoldKey
	mustAffect    = codec.MustAffect
)

// pageLimit returns the number of rows p asks for.
func pageLimit(p store.Page) int { return codec.PageLimit(p.Limit) }

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
