package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
)

// qInsertAuditEvent inserts the event auditArgs gives.
const qInsertAuditEvent = `INSERT INTO audit_events (id, time, action, outcome, actor_id, subject_id,
	client_ip, user_agent, dialect, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// auditColumns are an audit event's columns, in scanAuditEvent's order.
const auditColumns = `id, time, action, outcome, actor_id, subject_id, client_ip, user_agent, dialect, detail`

// AppendAuditEvent stores e and enqueues its webhook deliveries, in one
// transaction (insertAudit). An empty e.ID gets a random UUID and a zero
// e.Time the current time. Free-text fields that the engine's text cannot
// hold (on PostgreSQL, invalid UTF-8 in a User-Agent, a NUL byte) are
// stored with those bytes replaced by U+FFFD, so the event is kept rather
// than lost.
func (s *DB) AppendAuditEvent(ctx context.Context, e AuditEvent) error {
	if s.postgres {
		_, err := s.exec(ctx, qAuditOutbox, s.auditArgs(e)...) // one statement: its own transaction
		return s.writeErr("insert audit event", err)
	}
	return s.writeErr("insert audit event", s.inTx(ctx, func(t tx) error { return s.insertAudit(ctx, t, e) }))
}

// auditArgs returns qAuditOutbox's arguments for e, filled in and made
// storable as AppendAuditEvent describes: qInsertAuditEvent's ten, then
// when its deliveries expire.
func (s *DB) auditArgs(e AuditEvent) []any {
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	for _, f := range []*string{&e.Action, &e.Outcome, &e.ActorID, &e.SubjectID, &e.ClientIP, &e.UserAgent, &e.Dialect, &e.Detail} {
		if !s.storable(*f) {
			*f = strings.ReplaceAll(strings.ToValidUTF8(*f, "\uFFFD"), "\x00", "\uFFFD")
		}
	}
	return []any{e.ID, nanos(e.Time), e.Action, e.Outcome, e.ActorID, e.SubjectID,
		e.ClientIP, e.UserAgent, e.Dialect, e.Detail, nanos(e.Time.Add(DeliveryRetention))}
}

// scanAuditEvent reads one row of the columns ListAuditEvents selects.
func scanAuditEvent(r scanner) (AuditEvent, error) {
	var (
		e  AuditEvent
		at int64
	)
	if err := r.Scan(&e.ID, &at, &e.Action, &e.Outcome, &e.ActorID, &e.SubjectID,
		&e.ClientIP, &e.UserAgent, &e.Dialect, &e.Detail); err != nil {
		return AuditEvent{}, err
	}
	e.Time = fromNanos(at)
	return e, nil
}

// ListAuditEvents returns a page of the events matching f, newest first
// (ordered by time, then id, descending). Since is inclusive and Until
// exclusive.
func (s *DB) ListAuditEvents(ctx context.Context, f AuditFilter, p Page) ([]AuditEvent, string, error) {
	const (
		qSelect = `SELECT ` + auditColumns + ` FROM audit_events WHERE (time, id) < (?, ?)`
		qOrder  = ` ORDER BY time DESC, id DESC LIMIT ?`
	)
	before, beforeID, limit, err := s.pageStart(p, math.MaxInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}

	// The filters make at most 2⁵ query texts, each prepared (or rebound)
	// once.
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
			if !s.storable(c.arg) {
				return []AuditEvent{}, "", nil // no event holds it
			}
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

	events, next, err := readPage(ctx, s, limit, scanAuditEvent, func(e AuditEvent) (time.Time, string) { return e.Time, e.ID }, q.String(), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	return events, next, nil
}
