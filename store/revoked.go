package store

import (
	"context"
	"fmt"
	"time"
)

// RevokeAccessToken puts jti on the deny-list until expiresAt. Revoking a
// listed jti again keeps the later expiry.
func (s *DB) RevokeAccessToken(ctx context.Context, jti string, expiresAt time.Time) error {
	const q = `INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?)
		ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE excluded.expires_at > revoked_access_tokens.expires_at`
	_, err := s.exec(ctx, q, jti, nanos(expiresAt))
	return s.writeErr("revoke access token", err)
}

// IsAccessTokenRevoked reports whether jti is on the deny-list.
func (s *DB) IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error) {
	const q = `SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?)`
	if !s.storable(jti) {
		return false, nil
	}
	var revoked bool
	if err := s.readRow(ctx, q, jti).Scan(&revoked); err != nil {
		return false, fmt.Errorf("is access token revoked: %w", err)
	}
	return revoked, nil
}

// PurgeExpired deletes the deny-list entries and refresh tokens that expired
// before now, and the refresh families left without tokens.
func (s *DB) PurgeExpired(ctx context.Context, now time.Time) error {
	const (
		qAccess   = `DELETE FROM revoked_access_tokens WHERE expires_at < ?`
		qJTIs     = `DELETE FROM client_assertion_jtis WHERE expires_at < ?`
		qTokens   = `DELETE FROM refresh_tokens WHERE expires_at < ?`
		qFamilies = `DELETE FROM refresh_families
			WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = refresh_families.id)`
	)
	err := s.inTx(ctx, func(tx tx) error {
		n := nanos(now)
		if _, err := tx.exec(ctx, qAccess, n); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, qJTIs, n); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, qTokens, n); err != nil {
			return err
		}
		_, err := tx.exec(ctx, qFamilies)
		return err
	})
	return s.writeErr("purge expired", err)
}
