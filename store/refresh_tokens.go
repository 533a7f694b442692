package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// CreateRefreshToken stores t as the first token of the new family
// t.FamilyID and appends events to the audit log, in one transaction: a
// login's one write. It returns ErrNotFound when the user or application
// does not exist and ErrConflict when the family or the hash exists.
func (s *DB) CreateRefreshToken(ctx context.Context, t RefreshToken, events ...AuditEvent) error {
	const (
		// The family's last use is its login.
		qFamily = `INSERT INTO refresh_families (id, user_id, app_id, created_at, successor_key,
			last_used_at, client_ip, user_agent, amr) VALUES (?1, ?2, ?3, ?4, ?9, ?4, ?10, ?11, ?12)`
		qToken = `INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at,
			expires_at, used_at) VALUES (?5, ?1, ?2, ?3, ?6, ?4, ?7, ?8)`
		// On PostgreSQL the two INSERTs are one statement, so one round
		// trip fewer and still all or nothing. SQLite cannot put an
		// INSERT in a WITH clause; its transaction costs no round trips.
		qBoth = `WITH family AS (` + qFamily + ` RETURNING id)
			INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at, expires_at, used_at)
			SELECT ?5, id, ?2, ?3, ?6, ?4, ?7, ?8 FROM family`
	)
	amr := cmp.Or(t.AMR, "pwd") // the column's default, for callers that name none
	args := []any{t.FamilyID, t.UserID, t.AppID, nanos(t.CreatedAt),
		t.Hash, t.Scope, nanos(t.ExpiresAt), nullNanos(t.UsedAt), t.FamilyKey,
		s.text(t.ClientIP), s.text(t.UserAgent), amr}
	if s.postgres && len(events) == 0 {
		_, err := s.exec(ctx, qBoth, args...) // its own transaction
		return s.writeErr("insert refresh token", err)
	}
	err := s.inTx(ctx, func(tx tx) error {
		if s.postgres {
			if _, err := tx.exec(ctx, qBoth, args...); err != nil {
				return err
			}
		} else {
			if _, err := tx.exec(ctx, qFamily, args...); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, qToken, args[:8]...); err != nil { // ?9 and on are the family's only
				return err
			}
		}
		for _, e := range events {
			if err := s.insertAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	return s.writeErr("insert refresh token", err)
}

// refreshTokenColumns lists the columns of a token and its family
// (refresh_tokens t JOIN refresh_families f) tokenRow reads, in its order.
const refreshTokenColumns = `t.hash, t.family_id, t.user_id, t.app_id, t.scope, t.created_at,
	t.expires_at, t.used_at, f.revoked_at IS NOT NULL, f.successor_key, f.amr`

// tokenRow holds a row of refreshTokenColumns as scanned.
type tokenRow struct {
	t                    RefreshToken
	createdAt, expiresAt int64
	usedAt               sql.NullInt64
}

// dest returns the Scan destinations of refreshTokenColumns, in order.
func (r *tokenRow) dest() []any {
	t := &r.t
	return []any{&t.Hash, &t.FamilyID, &t.UserID, &t.AppID, &t.Scope, &r.createdAt,
		&r.expiresAt, &r.usedAt, &t.FamilyRevoked, &t.FamilyKey, &t.AMR}
}

// token returns the scanned token.
func (r *tokenRow) token() RefreshToken {
	t := r.t
	t.CreatedAt = fromNanos(r.createdAt)
	t.ExpiresAt = fromNanos(r.expiresAt)
	t.UsedAt = fromNullNanos(r.usedAt)
	return t
}

// GetRefreshToken returns the token with the given hash, used or not.
func (s *DB) GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error) {
	const q = `SELECT ` + refreshTokenColumns + `
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
		WHERE t.hash = ?`
	if !s.storable(hash) {
		return RefreshToken{}, readErr("get refresh token", sql.ErrNoRows)
	}
	var row tokenRow
	if err := s.readRow(ctx, q, hash).Scan(row.dest()...); err != nil {
		return RefreshToken{}, readErr("get refresh token", err)
	}
	return row.token(), nil
}

// qRefreshGrant reads a token, its family, its user, the user's role and
// its application in one statement: a refresh's one read.
var qRefreshGrant = `SELECT ` + refreshTokenColumns + `, ` + qualify("users", userColumns) + `, ` +
	qualify("applications", appColumns) + `, ` + qualify("roles", roleColumns) + `,
	applications.is_default = TRUE OR EXISTS (SELECT 1 FROM app_members m
		WHERE m.app_id = t.app_id AND m.user_id = t.user_id)
	FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
	JOIN users ON users.id = t.user_id
	JOIN applications ON applications.id = t.app_id
	JOIN roles ON roles.name = users.role
	WHERE t.hash = ?`

// GetRefreshGrant returns the token with the given hash, used or not, with
// its user, the user's role and its application, in one read.
func (s *DB) GetRefreshGrant(ctx context.Context, hash string) (RefreshGrant, error) {
	if !s.storable(hash) {
		return RefreshGrant{}, readErr("get refresh grant", sql.ErrNoRows)
	}
	var (
		t      tokenRow
		u      userRow
		app    appRow
		role   roleRow
		member bool
	)
	dest := append(append(append(t.dest(), u.dest()...), app.dest()...), role.dest()...)
	if err := s.readRow(ctx, qRefreshGrant, hash).Scan(append(dest, &member)...); err != nil {
		return RefreshGrant{}, readErr("get refresh grant", err)
	}
	return RefreshGrant{Token: t.token(), User: u.user(), Role: role.role(), App: app.application(), Member: member}, nil
}

// qualify returns the column list cols with each bare column name
// prefixed by table, for a join; expressions are left as they are.
func qualify(table, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		name := strings.TrimSpace(p)
		if name != "" && strings.Trim(name, "abcdefghijklmnopqrstuvwxyz_") == "" {
			parts[i] = " " + table + "." + name
		}
	}
	return strings.Join(parts, ",")
}

// The statements of a rotation. A correlated EXISTS looks the family up
// by key; "family_id IN (SELECT id ... WHERE revoked_at IS NULL)" would
// scan every family.
const (
	qUseRefreshToken = `UPDATE refresh_tokens SET used_at = ?
		WHERE hash = ? AND used_at IS NULL
		AND EXISTS (SELECT 1 FROM refresh_families f
			WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL)
		RETURNING family_id, user_id, app_id`
	qInsertRefreshToken = `INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at,
		expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	// The session's last use moves with every rotation.
	qTouchRefreshFamily = `UPDATE refresh_families SET last_used_at = ?, client_ip = ?, user_agent = ? WHERE id = ?`
)

// RotateRefreshToken marks the token oldHash used at now and stores next in
// the same family, atomically; next's family, user and application are
// taken from the old token. It returns ErrTokenSpent when oldHash was
// already used or its family revoked, and ErrNotFound when it does not
// exist. Of concurrent rotations of one token, on any number of nodes,
// exactly one succeeds.
func (s *DB) RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time) error {
	const (
		qRotate = `WITH used AS (` + qUseRefreshToken + `),
			touched AS (UPDATE refresh_families SET last_used_at = ?, client_ip = ?, user_agent = ?
				FROM used WHERE refresh_families.id = used.family_id)
			INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at, expires_at, used_at)
			SELECT ?, family_id, user_id, app_id, ?, ?, ?, ? FROM used`
		qExists = `SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE hash = ?)`
	)
	if !s.storable(oldHash) {
		return s.writeErr("rotate refresh token", ErrNotFound)
	}
	next.ClientIP, next.UserAgent = s.text(next.ClientIP), s.text(next.UserAgent)
	rotated := false
	var err error
	if s.postgres {
		var res sql.Result
		res, err = s.exec(ctx, qRotate, nanos(now), oldHash, nanos(now), next.ClientIP, next.UserAgent,
			next.Hash, next.Scope, nanos(next.CreatedAt), nanos(next.ExpiresAt), nullNanos(next.UsedAt))
		if err == nil {
			var n int64
			n, err = res.RowsAffected()
			rotated = n == 1
		}
	} else {
		// The wait for the group is bounded as a transaction is: a
		// rotation whose deadline passed before its group began is
		// dropped, never carried out.
		rctx, cancel := s.bounded(ctx)
		rotated, err = s.rotateGrouped(&rotation{ctx: rctx, oldHash: oldHash, next: next, now: now})
		err = s.unavailable(rctx, err)
		cancel()
	}
	if err != nil || rotated {
		return s.writeErr("rotate refresh token", err)
	}
	// Nothing rotated: a spent (or revoked) token, or no such token.
	var exists bool
	if err := s.writeRow(ctx, qExists, oldHash).Scan(&exists); err != nil {
		return s.writeErr("rotate refresh token", err)
	}
	if exists {
		return s.writeErr("rotate refresh token", ErrTokenSpent)
	}
	return s.writeErr("rotate refresh token", ErrNotFound)
}

// rotateIn runs r's statements in t (SQLite) and notes whether it rotated:
// a token already spent, revoked or missing changes nothing.
func (s *DB) rotateIn(ctx context.Context, t tx, r *rotation) error {
	r.rotated = false
	next := r.next
	err := t.queryRow(ctx, qUseRefreshToken, nanos(r.now), r.oldHash).Scan(&next.FamilyID, &next.UserID, &next.AppID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, qTouchRefreshFamily, nanos(r.now), next.ClientIP, next.UserAgent, next.FamilyID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, qInsertRefreshToken, next.Hash, next.FamilyID, next.UserID, next.AppID,
		next.Scope, nanos(next.CreatedAt), nanos(next.ExpiresAt), nullNanos(next.UsedAt)); err != nil {
		return err
	}
	r.rotated = true
	return nil
}
