package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// CreateRefreshToken stores t as the first token of the new family
// t.FamilyID. It returns ErrNotFound when the user or application does not
// exist and ErrConflict when the family or the hash exists.
func (p *Postgres) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	// One statement, so one round trip and its own transaction: the family
	// and its first token are stored together or not at all.
	const q = `WITH family AS (
			INSERT INTO refresh_families (id, user_id, app_id, created_at, successor_key) VALUES ($1, $2, $3, $4, $9)
			RETURNING id)
		INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at, expires_at, used_at)
		SELECT $5, id, $2, $3, $6, $4, $7, $8 FROM family`
	_, err := p.db.ExecContext(ctx, q, t.FamilyID, t.UserID, t.AppID, nanos(t.CreatedAt),
		t.Hash, t.Scope, nanos(t.ExpiresAt), nullNanos(t.UsedAt), t.FamilyKey)
	return writeErr("insert refresh token", err)
}

// GetRefreshToken returns the token with the given hash, used or not.
func (p *Postgres) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	const q = `SELECT t.hash, t.family_id, t.user_id, t.app_id, t.scope, t.created_at,
		t.expires_at, t.used_at, f.revoked_at IS NOT NULL, f.successor_key
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
		WHERE t.hash = $1`
	if !storable(hash) {
		return store.RefreshToken{}, readErr("get refresh token", sql.ErrNoRows)
	}
	var (
		t                    store.RefreshToken
		createdAt, expiresAt int64
		usedAt               sql.NullInt64
	)
	err := p.db.QueryRowContext(ctx, q, hash).Scan(&t.Hash, &t.FamilyID, &t.UserID, &t.AppID,
		&t.Scope, &createdAt, &expiresAt, &usedAt, &t.FamilyRevoked, &t.FamilyKey)
	if err != nil {
		return store.RefreshToken{}, readErr("get refresh token", err)
	}
	t.CreatedAt = fromNanos(createdAt)
	t.ExpiresAt = fromNanos(expiresAt)
	t.UsedAt = fromNullNanos(usedAt)
	return t, nil
}

// RotateRefreshToken marks the token oldHash used at now and stores next in
// the same family, atomically; next's family, user and application are
// taken from the old token. It returns ErrTokenSpent when oldHash was
// already used or its family revoked, and ErrNotFound when it does not
// exist.
//
// Of concurrent rotations of one token, on any number of nodes, exactly
// one succeeds. The conditional UPDATE and the INSERT are one statement
// (one round trip, one transaction): the UPDATE takes the old token's row
// lock; a second rotation's UPDATE of that row waits for the first to
// commit and, under READ COMMITTED, re-evaluates "used_at IS NULL" against
// the committed row, so it matches nothing and reports ErrTokenSpent. When
// the first statement fails instead (its INSERT broke a uniqueness rule),
// its UPDATE is undone and the second wins.
func (p *Postgres) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) error {
	const (
		// A correlated EXISTS looks the family up by key.
		qRotate = `WITH used AS (
				UPDATE refresh_tokens SET used_at = $1
				WHERE hash = $2 AND used_at IS NULL
				AND EXISTS (SELECT 1 FROM refresh_families f
					WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL)
				RETURNING family_id, user_id, app_id)
			INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at, expires_at, used_at)
			SELECT $3, family_id, user_id, app_id, $4, $5, $6, $7 FROM used`
		qExists = `SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE hash = $1)`
	)
	if !storable(oldHash) {
		return writeErr("rotate refresh token", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, qRotate, nanos(now), oldHash,
		next.Hash, next.Scope, nanos(next.CreatedAt), nanos(next.ExpiresAt), nullNanos(next.UsedAt))
	if err != nil {
		return writeErr("rotate refresh token", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return writeErr("rotate refresh token", err)
	}
	// Nothing rotated: a spent (or revoked) token, or no such token.
	var exists bool
	if err := p.db.QueryRowContext(ctx, qExists, oldHash).Scan(&exists); err != nil {
		return writeErr("rotate refresh token", err)
	}
	if exists {
		return writeErr("rotate refresh token", store.ErrTokenSpent)
	}
	return writeErr("rotate refresh token", store.ErrNotFound)
}

// RevokeRefreshFamily revokes the family familyID at at. Revoking a revoked
// family keeps its first revocation time.
func (p *Postgres) RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) error {
	const q = `UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`
	if !storable(familyID) {
		return writeErr("revoke refresh family", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, q, nanos(at), familyID)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("revoke refresh family", err)
}

// RevokeUserRefreshFamilies revokes every live family of the user userID
// at at.
func (p *Postgres) RevokeUserRefreshFamilies(ctx context.Context, userID string, at time.Time) error {
	const q = `UPDATE refresh_families SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`
	if !storable(userID) {
		return nil
	}
	_, err := p.db.ExecContext(ctx, q, nanos(at), userID)
	return writeErr("revoke user refresh families", err)
}
