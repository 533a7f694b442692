package store

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// text returns v as a TEXT value can hold it: as it is, or (PostgreSQL)
// with invalid UTF-8 and NUL bytes replaced. For values recorded, never
// looked up (a client's user agent).
func (s *DB) text(v string) string {
	if s.storable(v) {
		return v
	}
	return strings.ReplaceAll(strings.ToValidUTF8(v, "\uFFFD"), "\x00", "\uFFFD")
}

// RevokeRefreshFamily revokes the family familyID at at and logs it as a
// revoked session until keepUntil, in one transaction. Revoking a revoked
// family keeps its first revocation time and logs nothing new; a family
// that does not exist is ErrNotFound.
func (s *DB) RevokeRefreshFamily(ctx context.Context, familyID string, at, keepUntil time.Time) error {
	const (
		q       = `UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id`
		qExists = `SELECT EXISTS (SELECT 1 FROM refresh_families WHERE id = ?)`
	)
	if !s.storable(familyID) {
		return s.writeErr("revoke refresh family", ErrNotFound)
	}
	ids, err := s.revokeFamilies(ctx, keepUntil, q, nanos(at), familyID)
	if err != nil || len(ids) == 1 {
		return s.writeErr("revoke refresh family", err)
	}
	var exists bool
	if err := s.writeRow(ctx, qExists, familyID).Scan(&exists); err != nil {
		return s.writeErr("revoke refresh family", err)
	}
	if !exists {
		return s.writeErr("revoke refresh family", ErrNotFound)
	}
	return nil
}

// RevokeUserRefreshFamilies revokes every live family of the user userID
// but except at at, logs each as a revoked session until keepUntil, and
// returns their ids.
func (s *DB) RevokeUserRefreshFamilies(ctx context.Context, userID, except string, at, keepUntil time.Time) ([]string, error) {
	const q = `UPDATE refresh_families SET revoked_at = ?
		WHERE user_id = ? AND revoked_at IS NULL AND id <> ? RETURNING id`
	if !s.storable(userID) {
		return nil, nil
	}
	ids, err := s.revokeFamilies(ctx, keepUntil, q, nanos(at), userID, s.text(except))
	return ids, s.writeErr("revoke user refresh families", err)
}

// RevokeUserRefreshFamily revokes the live family familyID of the user
// userID as RevokeRefreshFamily does. It is ErrNotFound when the user has
// no such live family, another user's included.
func (s *DB) RevokeUserRefreshFamily(ctx context.Context, userID, familyID string, at, keepUntil time.Time) error {
	const q = `UPDATE refresh_families SET revoked_at = ?
		WHERE id = ? AND user_id = ? AND revoked_at IS NULL RETURNING id`
	if !s.storableAll(userID, familyID) {
		return s.writeErr("revoke session", ErrNotFound)
	}
	ids, err := s.revokeFamilies(ctx, keepUntil, q, nanos(at), familyID, userID)
	if err == nil && len(ids) == 0 {
		err = ErrNotFound
	}
	return s.writeErr("revoke session", err)
}

// revokeFamilies runs the UPDATE q, which revokes families and returns
// their ids, and logs each id as a revoked session until keepUntil, in
// one transaction.
func (s *DB) revokeFamilies(ctx context.Context, keepUntil time.Time, q string, args ...any) ([]string, error) {
	var ids []string
	err := s.inTx(ctx, func(t tx) error {
		var err error
		ids, err = revokeFamiliesIn(ctx, t, keepUntil, q, args...)
		return err
	})
	return ids, err
}

// revokeFamiliesIn is revokeFamilies within the transaction t, for a
// write that ends sessions with another change (a member removed, an
// application deleted).
func revokeFamiliesIn(ctx context.Context, t tx, keepUntil time.Time, q string, args ...any) ([]string, error) {
	const qLog = `INSERT INTO revocations (kind, id, expires_at) VALUES ('sid', ?, ?)`
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	ids, err := scanAll(rows, func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := t.exec(ctx, qLog, id, nanos(keepUntil)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// ListSessions lists the user's live sessions at now, oldest first: its
// families that are not revoked and whose current (unused) refresh token
// has not expired. A family never forks, so it has one current token.
func (s *DB) ListSessions(ctx context.Context, userID string, now time.Time) ([]Session, error) {
	const q = `SELECT f.id, f.app_id, f.created_at, COALESCE(f.last_used_at, f.created_at),
		t.expires_at, f.client_ip, f.user_agent, f.amr
		FROM refresh_families f JOIN refresh_tokens t ON t.family_id = f.id AND t.used_at IS NULL
		WHERE f.user_id = ? AND f.revoked_at IS NULL AND t.expires_at > ?
		ORDER BY f.created_at, f.id`
	if !s.storable(userID) {
		return []Session{}, nil
	}
	rows, err := s.readRows(ctx, q, userID, nanos(now))
	if err != nil {
		return nil, readErr("list sessions", err)
	}
	out, err := scanAll(rows, func(r scanner) (Session, error) {
		var (
			v                   Session
			created, used, exps int64
		)
		err := r.Scan(&v.ID, &v.AppID, &created, &used, &exps, &v.ClientIP, &v.UserAgent, &v.AMR)
		v.CreatedAt, v.LastUsedAt, v.ExpiresAt = fromNanos(created), fromNanos(used), fromNanos(exps)
		return v, err
	})
	return out, readErr("list sessions", err)
}

// TouchRefreshFamily records use as the family's last use.
func (s *DB) TouchRefreshFamily(ctx context.Context, familyID string, use RefreshUse) error {
	return s.execOne(ctx, "touch refresh family", qTouchRefreshFamily, nanos(use.At), s.text(use.ClientIP), s.text(use.UserAgent), familyID)
}

// RevocationsSince returns the log's entries after cursor and the next
// cursor. On SQLite the cursor is the last seq read: the one writer
// connection commits the rows in seq order. On PostgreSQL, where nodes
// write at once and a lower seq may commit after a higher one is read,
// it is the xmin of a snapshot taken before the read: every row of a
// transaction below it had settled by then, so is in the read; rows of
// later transactions are read (again) next time.
func (s *DB) RevocationsSince(ctx context.Context, cursor int64) ([]Revocation, int64, error) {
	const (
		qSQLite = `SELECT seq, kind, id, expires_at FROM revocations WHERE seq > ? ORDER BY seq`
		qXmin   = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
		qPG     = `SELECT 0, kind, id, expires_at FROM revocations WHERE xid >= ?::text::xid8`
	)
	q, arg, next := qSQLite, any(cursor), cursor
	if s.postgres {
		// Each statement of READ COMMITTED has its own snapshot: the
		// read's is no older than the xmin's.
		if err := s.readRow(ctx, qXmin).Scan(&next); err != nil {
			return nil, cursor, readErr("read revocations", err)
		}
		q, arg = qPG, strconv.FormatInt(cursor, 10)
	}
	rows, err := s.readRows(ctx, q, arg)
	if err != nil {
		return nil, cursor, readErr("read revocations", err)
	}
	out, err := scanAll(rows, func(r scanner) (Revocation, error) {
		var (
			v        Revocation
			seq, exp int64
		)
		err := r.Scan(&seq, &v.Kind, &v.ID, &exp)
		v.ExpiresAt = fromNanos(exp)
		if !s.postgres {
			next = max(next, seq)
		}
		return v, err
	})
	if err != nil {
		return nil, cursor, readErr("read revocations", err)
	}
	return out, next, nil
}
