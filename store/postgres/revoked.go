package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RevokeAccessToken puts jti on the deny-list until expiresAt. Revoking a
// listed jti again keeps the later expiry.
func (p *Postgres) RevokeAccessToken(ctx context.Context, jti string, expiresAt time.Time) error {
	const q = `INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO UPDATE
		SET expires_at = GREATEST(revoked_access_tokens.expires_at, excluded.expires_at)`
	_, err := p.db.ExecContext(ctx, q, jti, nanos(expiresAt))
	return writeErr("revoke access token", err)
}

// IsAccessTokenRevoked reports whether jti is on the deny-list.
func (p *Postgres) IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error) {
	const q = `SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1)`
	if !storable(jti) {
		return false, nil
	}
	var revoked bool
	if err := p.db.QueryRowContext(ctx, q, jti).Scan(&revoked); err != nil {
		return false, fmt.Errorf("is access token revoked: %w", err)
	}
	return revoked, nil
}

// PurgeExpired deletes the deny-list entries and refresh tokens that expired
// before now, and the refresh families left without tokens.
func (p *Postgres) PurgeExpired(ctx context.Context, now time.Time) error {
	const (
		qAccess   = `DELETE FROM revoked_access_tokens WHERE expires_at < $1`
		qTokens   = `DELETE FROM refresh_tokens WHERE expires_at < $1`
		qFamilies = `DELETE FROM refresh_families
			WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = refresh_families.id)`
	)
	err := p.inTx(ctx, func(tx *sql.Tx) error {
		n := nanos(now)
		if _, err := tx.ExecContext(ctx, qAccess, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, qTokens, n); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, qFamilies)
		return err
	})
	return writeErr("purge expired", err)
}
