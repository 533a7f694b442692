package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CreateSigningKey stores k. It returns ErrConflict when k.KID is taken.
func (s *DB) CreateSigningKey(ctx context.Context, k SigningKey) error {
	const q = `INSERT INTO signing_keys (kid, alg, private_key, created_at, active_from, retired_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	_, err := s.exec(ctx, q, k.KID, k.Alg, k.PrivateKey, nanos(k.CreatedAt), nanos(k.ActiveFrom), nullNanos(k.RetiredAt))
	return s.writeErr("insert signing key", err)
}

// scanSigningKey reads one row of kid, alg, private_key, created_at,
// active_from and retired_at.
func scanSigningKey(r scanner) (SigningKey, error) {
	var (
		k                     SigningKey
		createdAt, activeFrom int64
		retiredAt             sql.NullInt64
	)
	if err := r.Scan(&k.KID, &k.Alg, &k.PrivateKey, &createdAt, &activeFrom, &retiredAt); err != nil {
		return SigningKey{}, err
	}
	k.CreatedAt = fromNanos(createdAt)
	k.ActiveFrom = fromNanos(activeFrom)
	k.RetiredAt = fromNullNanos(retiredAt)
	return k, nil
}

// ListSigningKeys returns every key, newest first.
func (s *DB) ListSigningKeys(ctx context.Context) ([]SigningKey, error) {
	const q = `SELECT kid, alg, private_key, created_at, active_from, retired_at FROM signing_keys
		ORDER BY created_at DESC, kid DESC`
	rows, err := s.readRows(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	keys, err := scanAll(rows, scanSigningKey)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return keys, nil
}

// RetireSigningKey sets the time the key kid stops signing (at may lie
// ahead); a key already retired keeps the earlier of the two times.
func (s *DB) RetireSigningKey(ctx context.Context, kid string, at time.Time) error {
	const q = `UPDATE signing_keys SET retired_at = CASE WHEN retired_at < ?1 THEN retired_at ELSE ?1 END
		WHERE kid = ?2`
	return s.execOne(ctx, "retire signing key", q, nanos(at), kid)
}

// DeleteSigningKeysRetiredBefore removes the keys retired before t.
func (s *DB) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	const q = `DELETE FROM signing_keys WHERE retired_at < ?`
	_, err := s.exec(ctx, q, nanos(t))
	return s.writeErr("delete retired signing keys", err)
}
