package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// CreateRefreshToken stores t as the first token of the new family
// t.FamilyID. It returns ErrNotFound when the user or application does not
// exist and ErrConflict when the family or the hash exists.
func (s *SQLite) CreateRefreshToken(ctx context.Context, t RefreshToken) error {
	const (
		qFamily = `INSERT INTO refresh_families (id, user_id, app_id, created_at, successor_key) VALUES (?, ?, ?, ?, ?)`
		qToken  = `INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at,
			expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	)
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, qFamily, t.FamilyID, t.UserID, t.AppID, nanos(t.CreatedAt), t.FamilyKey); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, qToken, t.Hash, t.FamilyID, t.UserID, t.AppID, t.Scope,
			nanos(t.CreatedAt), nanos(t.ExpiresAt), nullNanos(t.UsedAt))
		return err
	})
	return writeErr("insert refresh token", err)
}

// GetRefreshToken returns the token with the given hash, used or not.
func (s *SQLite) GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error) {
	const q = `SELECT t.hash, t.family_id, t.user_id, t.app_id, t.scope, t.created_at,
		t.expires_at, t.used_at, f.revoked_at IS NOT NULL, f.successor_key
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
		WHERE t.hash = ?`
	var (
		t                    RefreshToken
		createdAt, expiresAt int64
		usedAt               sql.NullInt64
	)
	err := s.readRow(ctx, q, hash).Scan(&t.Hash, &t.FamilyID, &t.UserID, &t.AppID,
		&t.Scope, &createdAt, &expiresAt, &usedAt, &t.FamilyRevoked, &t.FamilyKey)
	if err != nil {
		return RefreshToken{}, readErr("get refresh token", err)
	}
	t.CreatedAt = fromNanos(createdAt)
	t.ExpiresAt = fromNanos(expiresAt)
	t.UsedAt = fromNullNanos(usedAt)
	return t, nil
}

// RotateRefreshToken marks the token oldHash used at now and stores next in
// the same family, in one transaction; next's family, user and application
// are taken from the old token. It returns ErrTokenSpent when oldHash was
// already used or its family revoked, and ErrNotFound when it does not
// exist. Of concurrent rotations of one token exactly one succeeds.
func (s *SQLite) RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time) error {
	const (
		// A correlated EXISTS looks the family up by key; "family_id IN
		// (SELECT id ... WHERE revoked_at IS NULL)" would scan every family.
		qUse = `UPDATE refresh_tokens SET used_at = ?
			WHERE hash = ? AND used_at IS NULL
			AND EXISTS (SELECT 1 FROM refresh_families f
				WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL)
			RETURNING family_id, user_id, app_id`
		qExists = `SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE hash = ?)`
		qInsert = `INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at,
			expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	)
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, qUse, nanos(now), oldHash).Scan(&next.FamilyID, &next.UserID, &next.AppID)
		if errors.Is(err, sql.ErrNoRows) {
			var exists bool
			if err := tx.QueryRowContext(ctx, qExists, oldHash).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return ErrTokenSpent
			}
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, qInsert, next.Hash, next.FamilyID, next.UserID, next.AppID,
			next.Scope, nanos(next.CreatedAt), nanos(next.ExpiresAt), nullNanos(next.UsedAt))
		return err
	})
	return writeErr("rotate refresh token", err)
}

// RevokeRefreshFamily revokes the family familyID at at. Revoking a revoked
// family keeps its first revocation time.
func (s *SQLite) RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) error {
	const q = `UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`
	res, err := s.exec(ctx, q, nanos(at), familyID)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("revoke refresh family", err)
}

// RevokeUserRefreshFamilies revokes every live family of the user userID
// at at.
func (s *SQLite) RevokeUserRefreshFamilies(ctx context.Context, userID string, at time.Time) error {
	const q = `UPDATE refresh_families SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`
	_, err := s.exec(ctx, q, nanos(at), userID)
	return writeErr("revoke user refresh families", err)
}
