package store

import (
	"database/sql"
	"errors"
	"fmt"
)

// violation is a broken constraint, the driver errors the store maps to
// its sentinels.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// writeErr wraps the error of the write op: a uniqueness violation becomes
// ErrConflict and a foreign-key violation (a reference to a missing row)
// ErrNotFound.
func (s *DB) writeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict),
		errors.Is(err, ErrInUse), errors.Is(err, ErrTokenSpent):
		return fmt.Errorf("%s: %w", op, err)
	}
	switch s.violation(err) {
	case uniqueViolation:
		return fmt.Errorf("%s: %w: %w", op, ErrConflict, err)
	case foreignKeyViolation:
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// readErr wraps the error of the read op, turning sql.ErrNoRows into
// ErrNotFound.
func readErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// mustAffect returns ErrNotFound when res changed no row.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
