package store

import (
	"context"
	"fmt"
	"time"
)

// RevokeAccessToken logs jti as a revoked access token until expiresAt.
func (s *DB) RevokeAccessToken(ctx context.Context, jti string, expiresAt time.Time) error {
	const q = `INSERT INTO revocations (kind, id, expires_at) VALUES ('jti', ?, ?)`
	_, err := s.exec(ctx, q, s.text(jti), nanos(expiresAt))
	return s.writeErr("revoke access token", err)
}

// IsAccessTokenRevoked reports whether jti is in the revocation log.
func (s *DB) IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error) {
	const q = `SELECT EXISTS (SELECT 1 FROM revocations WHERE id = ? AND kind = 'jti')`
	if !s.storable(jti) {
		return false, nil
	}
	var revoked bool
	if err := s.readRow(ctx, q, jti).Scan(&revoked); err != nil {
		return false, fmt.Errorf("is access token revoked: %w", err)
	}
	return revoked, nil
}

// PurgeExpired deletes the revocation-log entries and refresh tokens that
// expired before now, and the refresh families left without tokens.
func (s *DB) PurgeExpired(ctx context.Context, now time.Time) error {
	const (
		qLog      = `DELETE FROM revocations WHERE expires_at < ?`
		qJTIs     = `DELETE FROM client_assertion_jtis WHERE expires_at < ?`
		qTokens   = `DELETE FROM refresh_tokens WHERE expires_at < ?`
		qFamilies = `DELETE FROM refresh_families
			WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = refresh_families.id)`
	)
	err := s.inTx(ctx, func(tx tx) error {
		n := nanos(now)
		if _, err := tx.exec(ctx, qLog, n); err != nil {
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
