package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
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
func (s *SQLite) CreateAPIKey(ctx context.Context, k APIKey) error {
	const q = `INSERT INTO api_keys (` + apiKeyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	_, err := s.exec(ctx, q, k.ID, k.UserID, k.Name, k.Hash, k.Hint, nanos(k.CreatedAt),
		nullNanos(k.ExpiresAt), nullNanos(k.LastUsedAt), nullNanos(k.RevokedAt))
	return writeErr("insert api key", err)
}

// GetAPIKey finds a key by id, revoked or not.
func (s *SQLite) GetAPIKey(ctx context.Context, id string) (APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE id = ?`
	k, err := scanAPIKey(s.readRow(ctx, q, id))
	return k, readErr("get api key", err)
}

// GetAPIKeyByHash finds a key by the SHA-256 of its secret, revoked or not.
func (s *SQLite) GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE hash = ?`
	k, err := scanAPIKey(s.readRow(ctx, q, hash))
	return k, readErr("get api key", err)
}

// ListAPIKeys lists a user's keys that are not revoked, oldest first.
func (s *SQLite) ListAPIKeys(ctx context.Context, userID string, p Page) ([]APIKey, string, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys
		WHERE user_id = ? AND revoked_at IS NULL AND (created_at, id) > (?, ?)
		ORDER BY created_at, id LIMIT ?`
	after, afterID, err := decodeCursor(p.After, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", err)
	}
	limit := pageLimit(p)
	rows, err := s.readRows(ctx, q, userID, after, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	keys := []APIKey{}
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
func (s *SQLite) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	const q = `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`
	res, err := s.exec(ctx, q, nanos(at), id)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("revoke api key", err)
}

// TouchAPIKeys records the last-used times of many keys in one
// transaction; a time never moves backwards.
func (s *SQLite) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	const q = `UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ?`
	return writeErr("touch api keys", s.InTx(ctx, func(tx *sql.Tx) error {
		for id, t := range lastUsed {
			if _, err := tx.ExecContext(ctx, q, nanos(t), id); err != nil {
				return err
			}
		}
		return nil
	}))
}
