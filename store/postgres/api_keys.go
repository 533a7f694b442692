package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

const apiKeyColumns = `id, user_id, name, hash, hint, created_at, expires_at, last_used_at, revoked_at`

func scanAPIKey(r scanner) (store.APIKey, error) {
	var (
		k                              store.APIKey
		createdAt                      int64
		expiresAt, lastUsed, revokedAt sql.NullInt64
	)
	if err := r.Scan(&k.ID, &k.UserID, &k.Name, &k.Hash, &k.Hint, &createdAt, &expiresAt, &lastUsed, &revokedAt); err != nil {
		return store.APIKey{}, err
	}
	k.CreatedAt = fromNanos(createdAt)
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromNullNanos(expiresAt), fromNullNanos(lastUsed), fromNullNanos(revokedAt)
	return k, nil
}

// CreateAPIKey stores k. An unknown owner is ErrNotFound.
func (p *Postgres) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	const q = `INSERT INTO api_keys (` + apiKeyColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	_, err := p.db.ExecContext(ctx, q, k.ID, k.UserID, k.Name, k.Hash, k.Hint, nanos(k.CreatedAt),
		nullNanos(k.ExpiresAt), nullNanos(k.LastUsedAt), nullNanos(k.RevokedAt))
	return writeErr("insert api key", err)
}

// GetAPIKey finds a key by id, revoked or not.
func (p *Postgres) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE id = $1`
	if !storable(id) {
		return store.APIKey{}, readErr("get api key", sql.ErrNoRows)
	}
	k, err := scanAPIKey(p.db.QueryRowContext(ctx, q, id))
	return k, readErr("get api key", err)
}

// GetAPIKeyByHash finds a key by the SHA-256 of its secret, revoked or not.
func (p *Postgres) GetAPIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE hash = $1`
	if !storable(hash) {
		return store.APIKey{}, readErr("get api key", sql.ErrNoRows)
	}
	k, err := scanAPIKey(p.db.QueryRowContext(ctx, q, hash))
	return k, readErr("get api key", err)
}

// ListAPIKeys lists a user's keys that are not revoked, oldest first.
func (p *Postgres) ListAPIKeys(ctx context.Context, userID string, pg store.Page) ([]store.APIKey, string, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys
		WHERE user_id = $1 AND revoked_at IS NULL AND (created_at, id) > ($2, $3)
		ORDER BY created_at, id LIMIT $4`
	after, afterID, err := decodeCursor(pg.After, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", err)
	}
	if !storable(afterID) {
		return nil, "", fmt.Errorf("list api keys: %w", store.ErrBadCursor)
	}
	if !storable(userID) {
		return []store.APIKey{}, "", nil
	}
	limit := pageLimit(pg)
	rows, err := p.db.QueryContext(ctx, q, userID, after, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	keys := []store.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list api keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", err)
	}
	if len(keys) <= limit {
		return keys, "", nil
	}
	keys = keys[:limit]
	last := keys[limit-1]
	return keys, encodeCursor(last.CreatedAt, last.ID), nil
}

// RevokeAPIKey revokes a key; a key already revoked keeps its first time.
func (p *Postgres) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	const q = `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`
	if !storable(id) {
		return writeErr("revoke api key", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, q, nanos(at), id)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("revoke api key", err)
}

// TouchAPIKeys records the last-used times of many keys in one
// transaction; a time never moves backwards. It locks the rows in id order
// before updating them, so nodes flushing overlapping sets of keys at once
// cannot deadlock.
func (p *Postgres) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	const (
		qLock   = `SELECT id FROM api_keys WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`
		qUpdate = `UPDATE api_keys k SET last_used_at = GREATEST(COALESCE(k.last_used_at, 0), v.t)
			FROM unnest($1::text[], $2::bigint[]) AS v(id, t) WHERE k.id = v.id`
	)
	ids := make([]string, 0, len(lastUsed))
	for id := range lastUsed {
		if storable(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	times := make([]int64, len(ids))
	for i, id := range ids {
		times[i] = nanos(lastUsed[id])
	}
	return writeErr("touch api keys", p.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, qLock, ids)
		if err != nil {
			return err
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, qUpdate, ids, times)
		return err
	}))
}
