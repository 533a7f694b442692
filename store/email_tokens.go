package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

const emailTokenColumns = `hash, user_id, kind, address_key, created_at, expires_at, used_at`

func scanEmailToken(r scanner) (EmailToken, error) {
	var (
		t                    EmailToken
		userID               sql.NullString
		createdAt, expiresAt int64
		usedAt               sql.NullInt64
	)
	if err := r.Scan(&t.Hash, &userID, &t.Kind, &t.Address, &createdAt, &expiresAt, &usedAt); err != nil {
		return EmailToken{}, err
	}
	t.UserID = userID.String
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromNanos(createdAt), fromNanos(expiresAt), fromNullNanos(usedAt)
	return t, nil
}

// CreateEmailToken counts a mail to t.Address, voids the user's older
// unused tokens of its kind and stores t, all in one transaction;
// ErrMailLimited, storing nothing, when one of limits is reached. Sends are
// counted in mail_sends, whatever the kind, so the limits hold across the
// routes that mail. A t without UserID runs the same statements and stores
// a dummy that names no user (the same work for an address no user has).
// An unknown user is ErrNotFound.
func (s *DB) CreateEmailToken(ctx context.Context, t EmailToken, limits []MailLimit) error {
	const (
		// PostgreSQL runs the transaction READ COMMITTED: two nodes
		// counting the same address at once would both see room for one
		// more. A transaction-scoped advisory lock on the address makes
		// them take turns. SQLite's one writer already does.
		qLock  = `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`
		qCount = `SELECT count(*) FROM mail_sends WHERE address_key = ? AND sent_at > ?`
		qSend  = `INSERT INTO mail_sends (address_key, sent_at) VALUES (?, ?)`
		qVoid  = `UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND kind = ? AND used_at IS NULL`
		qToken = `INSERT INTO email_tokens (` + emailTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	)
	key := foldKey(t.Address)
	if !s.storableAll(key, t.UserID, t.Hash, t.Kind) {
		return s.writeErr("create email token", ErrNotFound)
	}
	at := nanos(t.CreatedAt)
	return s.writeErr("create email token", s.inTx(ctx, func(tx tx) error {
		if s.postgres {
			if _, err := tx.exec(ctx, qLock, key); err != nil {
				return err
			}
		}
		for _, l := range limits {
			var n int
			if err := tx.queryRow(ctx, qCount, key, nanos(t.CreatedAt.Add(-l.Window))).Scan(&n); err != nil {
				return err
			}
			if n >= l.Max {
				return ErrMailLimited
			}
		}
		if _, err := tx.exec(ctx, qSend, key, at); err != nil {
			return err
		}
		var user any // NULL for the dummy, which the void matches nothing of
		if t.UserID != "" {
			user = t.UserID
		}
		if _, err := tx.exec(ctx, qVoid, at, user, t.Kind); err != nil {
			return err
		}
		_, err := tx.exec(ctx, qToken, t.Hash, user, t.Kind, key, at, nanos(t.ExpiresAt), nullNanos(t.UsedAt))
		return err
	}))
}

// mailCountedAfter is the time after which a send counts toward one of
// limits at now: CreateEmailToken counts, for each limit, the sends after
// its time less the window, so a send at or before this time counts toward
// none of them, now or later, and PurgeExpired deletes it. With no limits
// no send counts.
func mailCountedAfter(now time.Time, limits []MailLimit) time.Time {
	after := now
	for _, l := range limits {
		if t := now.Add(-l.Window); t.Before(after) {
			after = t
		}
	}
	return after
}

// GetEmailToken finds a token by the SHA-256 of its secret, used or not.
func (s *DB) GetEmailToken(ctx context.Context, hash string) (EmailToken, error) {
	const q = `SELECT ` + emailTokenColumns + ` FROM email_tokens WHERE hash = ?`
	return getBy(ctx, s, "get email token", q, scanEmailToken, hash)
}

// SpendEmailToken marks a token used. Of two concurrent spends of one
// token exactly one succeeds; the other gets ErrTokenSpent.
func (s *DB) SpendEmailToken(ctx context.Context, hash string, at time.Time) error {
	const q = `UPDATE email_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`
	err := s.execOne(ctx, "spend email token", q, nanos(at), hash)
	if errors.Is(err, ErrNotFound) {
		// Either there is no such token or it was already used.
		if _, gerr := s.GetEmailToken(ctx, hash); gerr == nil {
			return s.writeErr("spend email token", ErrTokenSpent)
		}
	}
	return err
}

// SetEmailVerified sets the user's email_verified flag.
func (s *DB) SetEmailVerified(ctx context.Context, userID string, verified bool) error {
	const q = `UPDATE users SET email_verified = ? WHERE id = ?`
	return s.execOne(ctx, "set email verified", q, verified, userID)
}
