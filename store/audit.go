package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
)

// AppendAuditEvent stores e. An empty e.ID gets a random UUID and a zero
// e.Time the current time.
func (s *SQLite) AppendAuditEvent(ctx context.Context, e AuditEvent) error {
	const q = `INSERT INTO audit_events (id, time, action, outcome, actor_id, subject_id,
		client_ip, user_agent, dialect, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	_, err := s.exec(ctx, q, e.ID, nanos(e.Time), e.Action, e.Outcome, e.ActorID, e.SubjectID,
		e.ClientIP, e.UserAgent, e.Dialect, e.Detail)
	return writeErr("insert audit event", err)
}

// ListAuditEvents returns a page of the events matching f, newest first
// (ordered by time, then id, descending). Since is inclusive and Until
// exclusive.
func (s *SQLite) ListAuditEvents(ctx context.Context, f AuditFilter, p Page) ([]AuditEvent, string, error) {
	const (
		qSelect = `SELECT id, time, action, outcome, actor_id, subject_id, client_ip, user_agent,
			dialect, detail FROM audit_events WHERE (time, id) < (?, ?)`
		qOrder = ` ORDER BY time DESC, id DESC LIMIT ?`
	)
	before, beforeID, err := decodeCursor(p.After, math.MaxInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	limit := pageLimit(p)

	var q strings.Builder
	q.WriteString(qSelect)
	args := []any{before, beforeID}
	for _, c := range []struct {
		cond string
		arg  string
	}{
		{" AND actor_id = ?", f.ActorID},
		{" AND subject_id = ?", f.SubjectID},
		{" AND action = ?", f.Action},
	} {
		if c.arg != "" {
			q.WriteString(c.cond)
			args = append(args, c.arg)
		}
	}
	if !f.Since.IsZero() {
		q.WriteString(" AND time >= ?")
		args = append(args, nanos(f.Since))
	}
	if !f.Until.IsZero() {
		q.WriteString(" AND time < ?")
		args = append(args, nanos(f.Until))
	}
	q.WriteString(qOrder)
	args = append(args, limit+1)

	rows, err := s.readRows(ctx, q.String(), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	events := []AuditEvent{}
	for rows.Next() {
		var (
			e  AuditEvent
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
