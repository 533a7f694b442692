package store

import (
	"context"
	"time"
)

// Overview is the count of accounts and live sessions at a time.
type Overview struct {
	Users         int
	DisabledUsers int
	// LockedUsers are locked by failed logins at the time.
	LockedUsers int
	// LiveSessions are the families ListSessions would list at the
	// time, of every user.
	LiveSessions int
}

// overviewStore is the part of Store for the console's overview.
type overviewStore interface {
	// CountOverview counts the accounts and the live sessions at now.
	CountOverview(ctx context.Context, now time.Time) (Overview, error)
}

// qCountOverview counts in one read, so the figures agree with each
// other. A session is live as ListSessions says.
const qCountOverview = `SELECT
	(SELECT COUNT(*) FROM users),
	(SELECT COUNT(*) FROM users WHERE disabled),
	(SELECT COUNT(*) FROM users WHERE locked_until > ?1),
	(SELECT COUNT(*) FROM refresh_families f JOIN refresh_tokens t ON t.family_id = f.id AND t.used_at IS NULL
		WHERE f.revoked_at IS NULL AND t.expires_at > ?1)`

// CountOverview counts the accounts and the live sessions at now.
func (s *DB) CountOverview(ctx context.Context, now time.Time) (Overview, error) {
	var o Overview
	err := s.readRow(ctx, qCountOverview, nanos(now)).Scan(&o.Users, &o.DisabledUsers, &o.LockedUsers, &o.LiveSessions)
	return o, readErr("count overview", err)
}
