package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// CreateSigningKey stores k. It returns ErrConflict when k.KID is taken.
func (p *Postgres) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	const q = `INSERT INTO signing_keys (kid, alg, private_key, created_at, active_from, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6)`
	_, err := p.db.ExecContext(ctx, q, k.KID, k.Alg, k.PrivateKey, nanos(k.CreatedAt), nanos(k.ActiveFrom), nullNanos(k.RetiredAt))
	return writeErr("insert signing key", err)
}

// ListSigningKeys returns every key, newest first.
func (p *Postgres) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	const q = `SELECT kid, alg, private_key, created_at, active_from, retired_at FROM signing_keys
		ORDER BY created_at DESC, kid DESC`
	rows, err := p.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	keys := []store.SigningKey{}
	for rows.Next() {
		var (
			k          store.SigningKey
			createdAt  int64
			activeFrom int64
			retiredAt  sql.NullInt64
		)
		if err := rows.Scan(&k.KID, &k.Alg, &k.PrivateKey, &createdAt, &activeFrom, &retiredAt); err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		k.CreatedAt = fromNanos(createdAt)
		k.ActiveFrom = fromNanos(activeFrom)
		k.RetiredAt = fromNullNanos(retiredAt)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return keys, nil
}

// RetireSigningKey sets the time the key kid stops signing (at may lie
// ahead); a key already retired keeps the earlier of the two times.
func (p *Postgres) RetireSigningKey(ctx context.Context, kid string, at time.Time) error {
	const q = `UPDATE signing_keys SET retired_at = LEAST(COALESCE(retired_at, $1), $1) WHERE kid = $2`
	if !storable(kid) {
		return writeErr("retire signing key", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, q, nanos(at), kid)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("retire signing key", err)
}

// DeleteSigningKeysRetiredBefore removes the keys retired before t.
func (p *Postgres) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) error {
	const q = `DELETE FROM signing_keys WHERE retired_at < $1`
	_, err := p.db.ExecContext(ctx, q, nanos(t))
	return writeErr("delete retired signing keys", err)
}
