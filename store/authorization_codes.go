package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// AuthorizationCode is a code of the authorization code flow and what it
// is bound to. Hash is the hex SHA-256 of the code; the code itself is
// never stored. FamilyID is the session its exchange started, so that a
// second use revokes it.
type AuthorizationCode struct {
	Hash          string
	AppID         string
	UserID        string
	RedirectURI   string
	CodeChallenge string
	Nonce         string
	Scope         string
	AuthTime      time.Time
	AMR           string // space-separated, as a family keeps it
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        *time.Time
	FamilyID      string
}

const codeColumns = `hash, app_id, user_id, redirect_uri, code_challenge, nonce, scope, auth_time, amr,
	created_at, expires_at, used_at, family_id`

func scanAuthorizationCode(r scanner) (AuthorizationCode, error) {
	var (
		c                              AuthorizationCode
		authTime, createdAt, expiresAt int64
		usedAt                         sql.NullInt64
	)
	if err := r.Scan(&c.Hash, &c.AppID, &c.UserID, &c.RedirectURI, &c.CodeChallenge, &c.Nonce, &c.Scope, &authTime, &c.AMR,
		&createdAt, &expiresAt, &usedAt, &c.FamilyID); err != nil {
		return AuthorizationCode{}, err
	}
	c.AuthTime, c.CreatedAt, c.ExpiresAt, c.UsedAt = fromNanos(authTime), fromNanos(createdAt), fromNanos(expiresAt), fromNullNanos(usedAt)
	return c, nil
}

// CreateAuthorizationCode stores c, first deleting codes expired before
// c.CreatedAt. An unknown application or user is ErrNotFound.
func (s *DB) CreateAuthorizationCode(ctx context.Context, c AuthorizationCode) error {
	const (
		qPurge  = `DELETE FROM authorization_codes WHERE expires_at < ?`
		qInsert = `INSERT INTO authorization_codes (` + codeColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '')`
	)
	if !s.storableAll(c.Hash, c.AppID, c.UserID, c.RedirectURI, c.Nonce, c.Scope) {
		return s.writeErr("insert authorization code", ErrNotFound)
	}
	err := s.inTx(ctx, func(t tx) error {
		if _, err := t.exec(ctx, qPurge, nanos(c.CreatedAt)); err != nil {
			return err
		}
		_, err := t.exec(ctx, qInsert, c.Hash, c.AppID, c.UserID, c.RedirectURI, c.CodeChallenge, c.Nonce, c.Scope,
			nanos(c.AuthTime), c.AMR, nanos(c.CreatedAt), nanos(c.ExpiresAt))
		return err
	})
	return s.writeErr("insert authorization code", err)
}

// SpendAuthorizationCode marks the code hash used at at by the session
// familyID, which its exchange starts, and returns it. Of concurrent
// spends of one code exactly one succeeds; the others, and every later
// one, get the code (with the first's FamilyID) and ErrTokenSpent, so the
// caller can revoke what the first issued. An unknown code is
// ErrNotFound.
func (s *DB) SpendAuthorizationCode(ctx context.Context, hash, familyID string, at time.Time) (AuthorizationCode, error) {
	const (
		qSpend = `UPDATE authorization_codes SET used_at = ?, family_id = ? WHERE hash = ? AND used_at IS NULL RETURNING ` + codeColumns
		qGet   = `SELECT ` + codeColumns + ` FROM authorization_codes WHERE hash = ?`
	)
	if !s.storable(hash) {
		return AuthorizationCode{}, s.writeErr("spend authorization code", ErrNotFound)
	}
	c, err := scanAuthorizationCode(s.writeRow(ctx, qSpend, nanos(at), familyID, hash))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return AuthorizationCode{}, s.writeErr("spend authorization code", err)
	}
	c, err = scanAuthorizationCode(s.writeRow(ctx, qGet, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return AuthorizationCode{}, s.writeErr("spend authorization code", ErrNotFound)
	}
	if err != nil {
		return AuthorizationCode{}, s.writeErr("spend authorization code", err)
	}
	return c, s.writeErr("spend authorization code", ErrTokenSpent)
}
