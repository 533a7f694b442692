package store

import (
	"context"
	"database/sql"
	"time"
)

// getBy reads the one row q selects by key with scan; a key the engine
// cannot store names no row.
func getBy[T any](ctx context.Context, s *DB, op, q string, scan func(scanner) (T, error), key string) (T, error) {
	var zero T
	if !s.storable(key) {
		return zero, readErr(op, sql.ErrNoRows)
	}
	v, err := scan(s.readRow(ctx, q, key))
	if err != nil {
		return zero, readErr(op, err)
	}
	return v, nil
}

// pageStart returns the sort key after which page p starts (first for the
// first page) and the number of rows it asks for.
func (s *DB) pageStart(p Page, first int64) (after int64, afterID string, limit int, err error) {
	after, afterID, err = decodeCursor(p.After, first)
	if err == nil && !s.storable(afterID) {
		err = ErrBadCursor // no cursor handed out holds it
	}
	return after, afterID, pageLimit(p), err
}

// scanAll reads every row of rows with scan.
func scanAll[T any](rows *rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// readPage runs the page query q, whose last placeholder is the LIMIT, for
// up to limit rows, and returns them and the cursor of the next page (the
// last row's sort key) when there are more.
func readPage[T any](ctx context.Context, s *DB, limit int, scan func(scanner) (T, error), key func(T) (time.Time, string), q string, args ...any) ([]T, string, error) {
	rows, err := s.readRows(ctx, q, append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	out, err := scanAll(rows, scan)
	if err != nil || len(out) <= limit {
		return out, "", err
	}
	out = out[:limit]
	return out, encodeCursor(key(out[limit-1])), nil
}

// scanner is a row or rows.
type scanner interface {
	Scan(dest ...any) error
}
