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

// PurgeBatch is the most rows one purge transaction deletes from a table.
// On SQLite a write transaction holds the one writer connection, so a
// backlog of millions of expired rows is deleted in short transactions,
// between which logins and refreshes get the writer: a batch of 500 takes
// a few milliseconds (BenchmarkPurgeExpired), about what a write queued
// behind the purge waits.
const PurgeBatch = 500

// PurgeExpired deletes what can no longer matter at now: the revocation-log
// entries, client-assertion jtis, refresh tokens, e-mail tokens, mfa
// tokens and webhook deliveries that expired before now, the refresh families left without
// tokens, and the mail sends that none of limits counts any more (see
// mailCountedAfter). It deletes in batches of PurgeBatch rows, each batch
// its own transaction that leaves the database consistent (a family goes
// with its last token): a purge cut short leaves the rest for the next.
func (s *DB) PurgeExpired(ctx context.Context, now time.Time, limits []MailLimit) error {
	for _, p := range purged {
		before := nanos(now)
		if p.mail {
			before = nanos(mailCountedAfter(now, limits))
		}
		q := s.batchDelete(p.table, p.where, "")
		err := s.purgeBatches(ctx, func(t tx) (int64, error) {
			res, err := t.exec(ctx, q, before, PurgeBatch)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		})
		if err != nil {
			return s.writeErr("purge expired "+p.table, err)
		}
	}
	return s.writeErr("purge expired refresh tokens", s.purgeBatches(ctx, func(t tx) (int64, error) {
		return s.purgeRefreshTokens(ctx, t, nanos(now))
	}))
}

// purged are the tables PurgeExpired deletes from by a time alone, each
// with its condition on the cutoff: the purge's time, or for mail sends
// (mail) the time after which a send counts. Refresh tokens take their
// families with them (purgeRefreshTokens).
var purged = []struct {
	table, where string
	mail         bool
}{
	{"revocations", "expires_at < ?", false},
	{"client_assertion_jtis", "expires_at < ?", false},
	{"email_tokens", "expires_at < ?", false},
	{"mfa_tokens", "expires_at < ?", false},
	{"mail_sends", "sent_at <= ?", true},
	{"webhook_deliveries", "expires_at < ?", false},
}

// qPurgeFamily deletes the family ?1 when it has no token left.
const qPurgeFamily = `DELETE FROM refresh_families
	WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = ?1)`

// purgeRefreshTokens deletes up to PurgeBatch refresh tokens that expired
// before the time before, and the families of theirs left without tokens.
// Only those families can be empty: a family is made with its first token
// and loses tokens only here. On PostgreSQL a rotation in flight cannot
// lose its family to this: it locks its old token before it touches the
// family or adds the successor, so the delete of that token waits for it
// and then skips the updated row, and the family keeps a token.
func (s *DB) purgeRefreshTokens(ctx context.Context, t tx, before int64) (int64, error) {
	// Two nodes purging at once could each delete one of a family's last
	// two tokens while the other's delete is not yet committed, each then
	// see a token left, and leave the family empty for good: on PostgreSQL
	// their batches take turns, and each sees what the last one deleted.
	// SQLite's one writer makes them take turns already.
	const qLock = `SELECT pg_advisory_xact_lock(hashtextextended('gatehouse refresh-token purge', 0))`
	if s.postgres {
		if _, err := t.exec(ctx, qLock); err != nil {
			return 0, err
		}
	}
	rows, err := t.query(ctx, s.purgeRefreshTokensQuery(), before, PurgeBatch)
	if err != nil {
		return 0, err
	}
	families, err := scanAll(rows, func(r scanner) (id string, err error) { return id, r.Scan(&id) })
	if err != nil {
		return 0, err
	}
	seen := make(map[string]bool, len(families))
	for _, id := range families {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := t.exec(ctx, qPurgeFamily, id); err != nil {
			return 0, err
		}
	}
	return int64(len(families)), nil
}

// purgeRefreshTokensQuery deletes a batch of expired refresh tokens and
// returns their families.
func (s *DB) purgeRefreshTokensQuery() string {
	return s.batchDelete("refresh_tokens", "expires_at < ?", " RETURNING family_id")
}

// purgeBatches runs batch, each time in a transaction of its own, until it
// deletes fewer than PurgeBatch rows or ctx ends.
func (s *DB) purgeBatches(ctx context.Context, batch func(t tx) (int64, error)) error {
	for {
		var n int64
		err := s.inTx(ctx, func(t tx) (err error) {
			n, err = batch(t)
			return err
		})
		if err != nil || n < PurgeBatch {
			return err
		}
	}
}

// batchDelete is the statement that deletes up to PurgeBatch rows of table
// matching where, whose placeholders come first, the LIMIT's last; returning
// is appended. Neither engine has DELETE … LIMIT (SQLite only when compiled
// with it), so a subquery picks the rows by the engine's own row address:
// SQLite's rowid, PostgreSQL's ctid (through an array, which PostgreSQL
// reads with a TID scan rather than a join).
func (s *DB) batchDelete(table, where, returning string) string {
	if s.postgres {
		return `DELETE FROM ` + table + ` WHERE ctid = ANY (ARRAY (SELECT ctid FROM ` + table +
			` WHERE ` + where + ` LIMIT ?))` + returning
	}
	return `DELETE FROM ` + table + ` WHERE rowid IN (SELECT rowid FROM ` + table +
		` WHERE ` + where + ` LIMIT ?)` + returning
}
