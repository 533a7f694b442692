package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"
)

const apiKeyColumns = `id, user_id, name, hash, hint, created_at, expires_at, last_used_at, revoked_at`

func scanAPIKey(r scanner) (APIKey, error) {
	var (
		k                              APIKey
		createdAt                      int64
		expiresAt, lastUsed, revokedAt sql.NullInt64
	)
	if err := r.Scan(&k.ID, &k.UserID, &k.Name, &k.Hash, &k.Hint, &createdAt, &expiresAt, &lastUsed, &revokedAt); err != nil {
		return APIKey{}, err
	}
	k.CreatedAt = fromNanos(createdAt)
	k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromNullNanos(expiresAt), fromNullNanos(lastUsed), fromNullNanos(revokedAt)
	return k, nil
}

// CreateAPIKey stores k. An unknown owner is ErrNotFound.
func (s *DB) CreateAPIKey(ctx context.Context, k APIKey) error {
	const q = `INSERT INTO api_keys (` + apiKeyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	_, err := s.exec(ctx, q, k.ID, k.UserID, k.Name, k.Hash, k.Hint, nanos(k.CreatedAt),
		nullNanos(k.ExpiresAt), nullNanos(k.LastUsedAt), nullNanos(k.RevokedAt))
	return s.writeErr("insert api key", err)
}

// GetAPIKey finds a key by id, revoked or not.
func (s *DB) GetAPIKey(ctx context.Context, id string) (APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE id = ?`
	return getBy(ctx, s, "get api key", q, scanAPIKey, id)
}

// GetAPIKeyByHash finds a key by the SHA-256 of its secret, revoked or not.
func (s *DB) GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE hash = ?`
	return getBy(ctx, s, "get api key", q, scanAPIKey, hash)
}

// ListAPIKeys lists a user's keys that are not revoked, oldest first.
func (s *DB) ListAPIKeys(ctx context.Context, userID string, p Page) ([]APIKey, string, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys
		WHERE user_id = ? AND revoked_at IS NULL AND (created_at, id) > (?, ?)
		ORDER BY created_at, id LIMIT ?`
	after, afterID, limit, err := s.pageStart(p, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", err)
	}
	if !s.storable(userID) {
		return []APIKey{}, "", nil
	}
	keys, next, err := readPage(ctx, s, limit, scanAPIKey, func(k APIKey) (time.Time, string) { return k.CreatedAt, k.ID }, q, userID, after, afterID)
	if err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", err)
	}
	return keys, next, nil
}

// RevokeAPIKey revokes a key; a key already revoked keeps its first time.
func (s *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	const q = `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`
	return s.execOne(ctx, "revoke api key", q, nanos(at), id)
}

// TouchAPIKeys records the last-used times of many keys in one
// transaction; a time never moves backwards. It updates the rows in id
// order, so nodes flushing overlapping sets of keys at once take the row
// locks in the same order and cannot deadlock.
func (s *DB) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	const (
		qOne = `UPDATE api_keys SET last_used_at = ?1
			WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)`
		// PostgreSQL takes the whole batch as two arrays, in two
		// statements rather than one a key: locking the rows in id order
		// first, then updating them. SQLite has no arrays; its statements
		// are calls into the library, not round trips.
		qLock = `SELECT id FROM api_keys WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`
		qAll  = `UPDATE api_keys k SET last_used_at = GREATEST(COALESCE(k.last_used_at, 0), v.t)
			FROM unnest($1::text[], $2::bigint[]) AS v(id, t) WHERE k.id = v.id`
	)
	ids := make([]string, 0, len(lastUsed))
	for id := range lastUsed {
		if s.storable(id) {
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
	return s.writeErr("touch api keys", s.inTx(ctx, func(tx tx) error {
		if !s.postgres {
			for i, id := range ids {
				if _, err := tx.exec(ctx, qOne, times[i], id); err != nil {
					return err
				}
			}
			return nil
		}
		rows, err := tx.query(ctx, qLock, ids)
		if err != nil {
			return err
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.exec(ctx, qAll, ids, times)
		return err
	}))
}
