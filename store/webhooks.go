package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Webhook is an endpoint that hears the audit events of Events. Secret is
// its signing secret as stored (sealed); PreviousSecret, until
// PreviousUntil, is the secret it had before its last rotation, which
// signs beside the new one.
type Webhook struct {
	ID             string
	URL            string
	Description    string
	Events         []string
	Disabled       bool
	Secret         []byte
	PreviousSecret []byte
	PreviousUntil  *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// The states of a webhook delivery.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// DeliveryRetention is how long a delivery row is kept after its event:
// past every retry (about a day) and long enough to read what happened.
// PurgeExpired deletes it then.
const DeliveryRetention = 7 * 24 * time.Hour

// WebhookDelivery is one audit event for one endpoint. EventID is also
// its id for the receiver (webhook-id), the same on every attempt.
// NextAttemptAt is set while it is pending; LastStatus is the HTTP status
// of the last attempt (0 when none answered), LastError what went wrong.
type WebhookDelivery struct {
	WebhookID     string
	EventID       string
	Event         string
	State         string
	Attempts      int
	NextAttemptAt *time.Time
	LastAttemptAt *time.Time
	LastStatus    int
	LastError     string
	DeliveredAt   *time.Time
	CreatedAt     time.Time
}

// DueDelivery is a claimed attempt of a delivery: the delivery (Attempts
// counts this one), its endpoint and its event.
type DueDelivery struct {
	WebhookDelivery
	Webhook Webhook
	Event   AuditEvent
}

// DeliveryOutcome is how an attempt ended, for FinishWebhookDelivery.
// State is the delivery's state after it; NextAttemptAt, for a pending
// one, is when to try again. Gone disables the endpoint too (it answered
// 410).
type DeliveryOutcome struct {
	WebhookID     string
	EventID       string
	Attempt       int
	State         string
	NextAttemptAt *time.Time
	Status        int
	Error         string
	At            time.Time
	Gone          bool
}

// qInsertDeliveries enqueues the deliveries of the audit event ?1 (action
// ?3, time ?2, as qInsertAuditEvent binds them) to every enabled endpoint
// subscribed to its action, due at once and kept until ?11. With no
// subscriber it is one read of webhook_events' primary key.
const qInsertDeliveries = `INSERT INTO webhook_deliveries (webhook_id, event_id, event, created_at,
	next_attempt_at, expires_at)
	SELECT we.webhook_id, ?1, ?3, ?2, ?2, ?11 FROM webhook_events we
	JOIN webhooks w ON w.id = we.webhook_id AND NOT w.disabled
	WHERE we.event = ?3`

// qAuditOutbox, on PostgreSQL, inserts the audit event and its deliveries
// in one statement (one round trip, all or nothing).
const qAuditOutbox = `WITH audit AS (` + qInsertAuditEvent + `) ` + qInsertDeliveries

// insertAudit inserts e and its deliveries in t: every audit event is
// written here, so that a change that committed is delivered. SQLite
// cannot put an INSERT in a WITH clause; its two statements cost no round
// trip.
func (s *DB) insertAudit(ctx context.Context, t tx, e AuditEvent) error {
	args := s.auditArgs(e)
	if s.postgres { // the same statement as AppendAuditEvent's
		_, err := t.exec(ctx, qAuditOutbox, args...)
		return err
	}
	if _, err := t.exec(ctx, qInsertAuditEvent, args[:10]...); err != nil {
		return err
	}
	_, err := t.exec(ctx, qInsertDeliveries, args...)
	return err
}

const webhookColumns = `id, url, description, disabled, secret, previous_secret, previous_until, created_at, updated_at`

func scanWebhook(r scanner) (Webhook, error) {
	var (
		w                    Webhook
		until                sql.NullInt64
		createdAt, updatedAt int64
		events               string
	)
	if err := r.Scan(&w.ID, &w.URL, &w.Description, &w.Disabled, &w.Secret, &w.PreviousSecret,
		&until, &createdAt, &updatedAt, &events); err != nil {
		return Webhook{}, err
	}
	w.PreviousUntil, w.CreatedAt, w.UpdatedAt = fromNullNanos(until), fromNanos(createdAt), fromNanos(updatedAt)
	w.Events = splitScopes(events)
	slices.Sort(w.Events)
	return w, nil
}

// qWebhookEvents is an endpoint's events, space-separated, as a column.
const qWebhookEvents = `(SELECT COALESCE(` + "string_agg" + `(event, ' '), '') FROM webhook_events WHERE webhook_id = webhooks.id)`

// webhookSelect selects webhookColumns and the events of webhooks.
func (s *DB) webhookSelect() string {
	agg := qWebhookEvents
	if !s.postgres {
		// SQLite names its aggregate group_concat.
		agg = strings.Replace(agg, "string_agg", "group_concat", 1)
	}
	return `SELECT ` + webhookColumns + `, ` + agg + ` FROM webhooks`
}

// CreateWebhook stores w and its events.
func (s *DB) CreateWebhook(ctx context.Context, w Webhook) error {
	const q = `INSERT INTO webhooks (` + webhookColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if !s.storableAll(append([]string{w.ID, w.URL, w.Description}, w.Events...)...) {
		return s.writeErr("insert webhook", ErrConflict)
	}
	err := s.inTx(ctx, func(t tx) error {
		if _, err := t.exec(ctx, q, w.ID, w.URL, w.Description, w.Disabled, w.Secret, w.PreviousSecret,
			nullNanos(w.PreviousUntil), nanos(w.CreatedAt), nanos(w.UpdatedAt)); err != nil {
			return err
		}
		return putWebhookEvents(ctx, t, w.ID, w.Events)
	})
	return s.writeErr("insert webhook", err)
}

// putWebhookEvents replaces the endpoint's events in t.
func putWebhookEvents(ctx context.Context, t tx, id string, events []string) error {
	const (
		qDelete = `DELETE FROM webhook_events WHERE webhook_id = ?`
		qInsert = `INSERT INTO webhook_events (event, webhook_id) VALUES (?, ?) ON CONFLICT DO NOTHING`
	)
	if _, err := t.exec(ctx, qDelete, id); err != nil {
		return err
	}
	for _, e := range events {
		if _, err := t.exec(ctx, qInsert, e, id); err != nil {
			return err
		}
	}
	return nil
}

// GetWebhook returns the endpoint id.
func (s *DB) GetWebhook(ctx context.Context, id string) (Webhook, error) {
	return getBy(ctx, s, "get webhook", s.webhookSelect()+` WHERE id = ?`, scanWebhook, id)
}

// ListWebhooks returns a page of the endpoints, oldest first.
func (s *DB) ListWebhooks(ctx context.Context, p Page) ([]Webhook, string, error) {
	after, afterID, limit, err := s.pageStart(p, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list webhooks: %w", err)
	}
	q := s.webhookSelect() + ` WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`
	out, next, err := readPage(ctx, s, limit, scanWebhook, func(w Webhook) (time.Time, string) { return w.CreatedAt, w.ID }, q, after, afterID)
	if err != nil {
		return nil, "", fmt.Errorf("list webhooks: %w", err)
	}
	return out, next, nil
}

// UpdateWebhook replaces the endpoint's URL, description, disabled flag,
// events and update time with w's; ErrNotFound when there is none.
func (s *DB) UpdateWebhook(ctx context.Context, w Webhook) error {
	const q = `UPDATE webhooks SET url = ?, description = ?, disabled = ?, updated_at = ? WHERE id = ?`
	if !s.storableAll(append([]string{w.ID, w.URL, w.Description}, w.Events...)...) {
		return s.writeErr("update webhook", ErrNotFound)
	}
	err := s.inTx(ctx, func(t tx) error {
		res, err := t.exec(ctx, q, w.URL, w.Description, w.Disabled, nanos(w.UpdatedAt), w.ID)
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		return putWebhookEvents(ctx, t, w.ID, w.Events)
	})
	return s.writeErr("update webhook", err)
}

// RotateWebhookSecret sets the endpoint's secret, keeping previous (the
// one it replaces) signing until until; ErrNotFound when there is none.
func (s *DB) RotateWebhookSecret(ctx context.Context, id string, secret, previous []byte, until, at time.Time) error {
	const q = `UPDATE webhooks SET secret = ?, previous_secret = ?, previous_until = ?, updated_at = ? WHERE id = ?`
	if !s.storable(id) {
		return s.writeErr("rotate webhook secret", ErrNotFound)
	}
	res, err := s.exec(ctx, q, secret, previous, nanos(until), nanos(at), id)
	if err == nil {
		err = mustAffect(res)
	}
	return s.writeErr("rotate webhook secret", err)
}

// DeleteWebhook deletes the endpoint, its events and its deliveries.
func (s *DB) DeleteWebhook(ctx context.Context, id string) error {
	const q = `DELETE FROM webhooks WHERE id = ?`
	return s.execOne(ctx, "delete webhook", q, id)
}

const deliveryColumns = `webhook_id, event_id, event, state, attempts, next_attempt_at, last_attempt_at,
	last_status, last_error, delivered_at, created_at`

func scanDelivery(r scanner) (WebhookDelivery, error) {
	var (
		d                         WebhookDelivery
		next, last, delivered, st sql.NullInt64
		createdAt                 int64
	)
	if err := r.Scan(&d.WebhookID, &d.EventID, &d.Event, &d.State, &d.Attempts, &next, &last,
		&st, &d.LastError, &delivered, &createdAt); err != nil {
		return WebhookDelivery{}, err
	}
	d.NextAttemptAt, d.LastAttemptAt, d.DeliveredAt = fromNullNanos(next), fromNullNanos(last), fromNullNanos(delivered)
	d.LastStatus, d.CreatedAt = int(st.Int64), fromNanos(createdAt)
	return d, nil
}

// ListWebhookDeliveries returns a page of the endpoint's deliveries,
// newest first; an unknown endpoint has none.
func (s *DB) ListWebhookDeliveries(ctx context.Context, webhookID string, p Page) ([]WebhookDelivery, string, error) {
	const q = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries
		WHERE webhook_id = ? AND (created_at, event_id) < (?, ?) ORDER BY created_at DESC, event_id DESC LIMIT ?`
	before, beforeID, limit, err := s.pageStart(p, math.MaxInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
	}
	if !s.storable(webhookID) {
		return []WebhookDelivery{}, "", nil
	}
	out, next, err := readPage(ctx, s, limit, scanDelivery, func(d WebhookDelivery) (time.Time, string) { return d.CreatedAt, d.EventID }, q, webhookID, before, beforeID)
	if err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
	}
	return out, next, nil
}

// RetryWebhookDelivery makes the delivery pending and due at at (its
// attempts kept) and returns it; ErrNotFound when there is none.
func (s *DB) RetryWebhookDelivery(ctx context.Context, webhookID, eventID string, at time.Time) (WebhookDelivery, error) {
	const q = `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?
		WHERE webhook_id = ? AND event_id = ? RETURNING ` + deliveryColumns
	if !s.storableAll(webhookID, eventID) {
		return WebhookDelivery{}, s.writeErr("retry webhook delivery", ErrNotFound)
	}
	d, err := scanDelivery(s.writeRow(ctx, q, nanos(at), webhookID, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return d, s.writeErr("retry webhook delivery", err)
}

// ClaimWebhookDeliveries claims up to limit deliveries due at now, each
// for one attempt: it counts the attempt and moves the delivery's next
// attempt to leaseUntil, so no other worker takes it meanwhile and, should
// this one die, another tries again then. On PostgreSQL, concurrent
// claims skip each other's rows (FOR UPDATE SKIP LOCKED); SQLite's one
// writer runs them one after the other.
func (s *DB) ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]DueDelivery, error) {
	q := `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?
		WHERE (webhook_id, event_id) IN (SELECT webhook_id, event_id FROM webhook_deliveries
			WHERE next_attempt_at <= ? AND state = 'pending' ORDER BY next_attempt_at LIMIT ?`
	if s.postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	q += `) RETURNING ` + deliveryColumns
	const (
		qRead = `SELECT ` + auditColumns + ` FROM audit_events WHERE id = ?`
		// Most polls find nothing due: a read says so without taking
		// the writer.
		qAny = `SELECT 1 FROM webhook_deliveries WHERE next_attempt_at <= ? LIMIT 1`
	)
	var one int
	switch err := s.readRow(ctx, qAny, nanos(now)).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	var claimed []WebhookDelivery
	err := s.inTx(ctx, func(t tx) error {
		rows, err := t.query(ctx, q, nanos(leaseUntil), nanos(now), nanos(now), limit)
		if err != nil {
			return err
		}
		claimed, err = scanAll(rows, scanDelivery)
		return err
	})
	if err != nil {
		return nil, s.writeErr("claim webhook deliveries", err)
	}
	out := make([]DueDelivery, 0, len(claimed))
	for _, d := range claimed {
		w, err := s.GetWebhook(ctx, d.WebhookID)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the claim, its deliveries with it
		}
		if err != nil {
			return nil, fmt.Errorf("claim webhook deliveries: %w", err)
		}
		e, err := scanAuditEvent(s.readRow(ctx, qRead, d.EventID))
		if err != nil {
			return nil, readErr("claim webhook deliveries", err)
		}
		out = append(out, DueDelivery{WebhookDelivery: d, Webhook: w, Event: e})
	}
	return out, nil
}

// FinishWebhookDelivery records the outcome of an attempt, unless the
// delivery has been claimed again since (its lease ran out): that claim's
// outcome counts. A Gone outcome disables the endpoint in the same
// transaction. It reports whether the outcome was recorded.
func (s *DB) FinishWebhookDelivery(ctx context.Context, o DeliveryOutcome) (bool, error) {
	const (
		q = `UPDATE webhook_deliveries SET state = ?, next_attempt_at = ?, last_status = ?, last_error = ?,
			delivered_at = ? WHERE webhook_id = ? AND event_id = ? AND attempts = ? AND state = 'pending'`
		qDisable = `UPDATE webhooks SET disabled = TRUE, updated_at = ? WHERE id = ?`
	)
	var delivered *time.Time
	if o.State == DeliveryDelivered {
		delivered = &o.At
	}
	var status any
	if o.Status != 0 {
		status = o.Status
	}
	recorded := false
	err := s.inTx(ctx, func(t tx) error {
		res, err := t.exec(ctx, q, o.State, nullNanos(o.NextAttemptAt), status, s.text(o.Error),
			nullNanos(delivered), o.WebhookID, o.EventID, o.Attempt)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		recorded = true
		if o.Gone {
			_, err = t.exec(ctx, qDisable, nanos(o.At), o.WebhookID)
		}
		return err
	})
	return recorded, s.writeErr("finish webhook delivery", err)
}

// CountPendingWebhookDeliveries counts the deliveries not yet delivered
// or failed (an index's count).
func (s *DB) CountPendingWebhookDeliveries(ctx context.Context) (int64, error) {
	const q = `SELECT COUNT(*) FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL`
	var n int64
	if err := s.readRow(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending webhook deliveries: %w", err)
	}
	return n, nil
}
