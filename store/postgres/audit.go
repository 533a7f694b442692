package postgres

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/store"
)

// AppendAuditEvent stores e. An empty e.ID gets a random UUID and a zero
// e.Time the current time. Free-text fields that PostgreSQL's text cannot
// hold (invalid UTF-8 in a User-Agent, a NUL byte) are stored with those
// bytes replaced by U+FFFD, so the event is kept rather than lost.
func (p *Postgres) AppendAuditEvent(ctx context.Context, e store.AuditEvent) error {
	const q = `INSERT INTO audit_events (id, time, action, outcome, actor_id, subject_id,
		client_ip, user_agent, dialect, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	for _, f := range []*string{&e.Action, &e.Outcome, &e.ActorID, &e.SubjectID, &e.ClientIP, &e.UserAgent, &e.Dialect, &e.Detail} {
		*f = sanitize(*f)
	}
	_, err := p.db.ExecContext(ctx, q, e.ID, nanos(e.Time), e.Action, e.Outcome, e.ActorID, e.SubjectID,
		e.ClientIP, e.UserAgent, e.Dialect, e.Detail)
	return writeErr("insert audit event", err)
}

// sanitize makes s storable: invalid UTF-8 and NUL bytes become U+FFFD.
func sanitize(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// ListAuditEvents returns a page of the events matching f, newest first
// (ordered by time, then id, descending). Since is inclusive and Until
// exclusive.
func (p *Postgres) ListAuditEvents(ctx context.Context, f store.AuditFilter, pg store.Page) ([]store.AuditEvent, string, error) {
	const (
		qSelect = `SELECT id, time, action, outcome, actor_id, subject_id, client_ip, user_agent,
			dialect, detail FROM audit_events WHERE (time, id) < ($1, $2)`
		qOrder = ` ORDER BY time DESC, id DESC LIMIT `
	)
	before, beforeID, err := decodeCursor(pg.After, math.MaxInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	if !storable(beforeID) {
		return nil, "", fmt.Errorf("list audit events: %w", store.ErrBadCursor)
	}
	limit := pageLimit(pg)

	var q strings.Builder
	q.WriteString(qSelect)
	args := []any{before, beforeID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, c := range []struct {
		col string
		arg string
	}{
		{"actor_id", f.ActorID},
		{"subject_id", f.SubjectID},
		{"action", f.Action},
	} {
		if c.arg != "" {
			if !storable(c.arg) {
				return []store.AuditEvent{}, "", nil // no event holds it
			}
			q.WriteString(" AND " + c.col + " = " + arg(c.arg))
		}
	}
	if !f.Since.IsZero() {
		q.WriteString(" AND time >= " + arg(nanos(f.Since)))
	}
	if !f.Until.IsZero() {
		q.WriteString(" AND time < " + arg(nanos(f.Until)))
	}
	q.WriteString(qOrder + arg(limit+1))

	rows, err := p.db.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	events := []store.AuditEvent{}
	for rows.Next() {
		var (
			e  store.AuditEvent
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Action, &e.Outcome, &e.ActorID, &e.SubjectID,
			&e.ClientIP, &e.UserAgent, &e.Dialect, &e.Detail); err != nil {
			return nil, "", fmt.Errorf("list audit events: %w", err)
		}
		e.Time = fromNanos(at)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	if len(events) <= limit {
		return events, "", nil
	}
	events = events[:limit]
	last := events[limit-1]
	return events, encodeCursor(last.Time, last.ID), nil
}
