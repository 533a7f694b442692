package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// splitScopes reads a space-separated scope column; nil when empty.
func splitScopes(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Fields(s)
}

const secretColumns = `id, app_id, hash, created_at, expires_at`

func scanApplicationSecret(r scanner) (ApplicationSecret, error) {
	var (
		sec       ApplicationSecret
		createdAt int64
		expiresAt sql.NullInt64
	)
	if err := r.Scan(&sec.ID, &sec.AppID, &sec.Hash, &createdAt, &expiresAt); err != nil {
		return ApplicationSecret{}, err
	}
	sec.CreatedAt, sec.ExpiresAt = fromNanos(createdAt), fromNullNanos(expiresAt)
	return sec, nil
}

// makeConfidential makes the application confidential: it was issued
// credentials.
const makeConfidential = `UPDATE applications SET client_type = 'confidential' WHERE id = ?`

// CreateApplicationSecret stores sec and makes its application
// confidential. An unknown application is ErrNotFound.
func (s *DB) CreateApplicationSecret(ctx context.Context, sec ApplicationSecret) error {
	const q = `INSERT INTO application_secrets (` + secretColumns + `) VALUES (?, ?, ?, ?, ?)`
	if !s.storableAll(sec.ID, sec.AppID) {
		return s.writeErr("insert application secret", ErrNotFound)
	}
	err := s.inTx(ctx, func(t tx) error {
		if _, err := t.exec(ctx, q, sec.ID, sec.AppID, sec.Hash, nanos(sec.CreatedAt), nullNanos(sec.ExpiresAt)); err != nil {
			return err
		}
		_, err := t.exec(ctx, makeConfidential, sec.AppID)
		return err
	})
	return s.writeErr("insert application secret", err)
}

// ListApplicationSecrets lists the application's secrets, expired ones
// included, oldest first; an unknown application has none.
func (s *DB) ListApplicationSecrets(ctx context.Context, appID string) ([]ApplicationSecret, error) {
	const q = `SELECT ` + secretColumns + ` FROM application_secrets WHERE app_id = ? ORDER BY created_at, id`
	if !s.storable(appID) {
		return []ApplicationSecret{}, nil
	}
	rows, err := s.readRows(ctx, q, appID)
	if err != nil {
		return nil, fmt.Errorf("list application secrets: %w", err)
	}
	out, err := scanAll(rows, scanApplicationSecret)
	if err != nil {
		return nil, fmt.Errorf("list application secrets: %w", err)
	}
	return out, nil
}

// DeleteApplicationSecret deletes the application's secret id; ErrNotFound
// when the application has no such secret.
func (s *DB) DeleteApplicationSecret(ctx context.Context, appID, id string) error {
	const q = `DELETE FROM application_secrets WHERE app_id = ? AND id = ?`
	return s.execOne(ctx, "delete application secret", q, appID, id)
}

// GetApplicationJWKS reads the application's JWK Set as JSON text, "" when
// none was put.
func (s *DB) GetApplicationJWKS(ctx context.Context, appID string) (string, error) {
	const q = `SELECT jwks FROM applications WHERE id = ?`
	return getBy(ctx, s, "get application jwks", q, func(r scanner) (string, error) {
		var v string
		err := r.Scan(&v)
		return v, err
	}, appID)
}

// PutApplicationJWKS replaces the application's JWK Set; a set with keys
// makes the application confidential.
func (s *DB) PutApplicationJWKS(ctx context.Context, appID, jwks string) error {
	const q = `UPDATE applications SET jwks = ?,
		client_type = CASE WHEN ? NOT IN ('', '[]', 'null') THEN 'confidential' ELSE client_type END WHERE id = ?`
	if !s.storableAll(appID, jwks) {
		return s.writeErr("put application jwks", ErrNotFound)
	}
	res, err := s.exec(ctx, q, jwks, jwks, appID)
	if err == nil {
		err = mustAffect(res)
	}
	return s.writeErr("put application jwks", err)
}

// UseClientAssertion records jti for the application until expiresAt, or
// returns ErrConflict when it is recorded already: of two concurrent uses
// of one assertion exactly one succeeds.
func (s *DB) UseClientAssertion(ctx context.Context, appID, jti string, expiresAt time.Time) error {
	const q = `INSERT INTO client_assertion_jtis (app_id, jti, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (app_id, jti) DO NOTHING`
	if !s.storableAll(appID, jti) {
		return s.writeErr("use client assertion", ErrConflict)
	}
	res, err := s.exec(ctx, q, appID, jti, nanos(expiresAt))
	if err != nil {
		return s.writeErr("use client assertion", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return s.writeErr("use client assertion", cmpErr(err, ErrConflict))
	}
	return nil
}

// cmpErr is err, or def when err is nil.
func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
