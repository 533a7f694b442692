package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-auth/gatehouse/store"
)

// Store is what the worker needs of the store.
type Store interface {
	ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.DueDelivery, error)
	FinishWebhookDelivery(ctx context.Context, o store.DeliveryOutcome) (bool, error)
	CountPendingWebhookDeliveries(ctx context.Context) (int64, error)
}

// Defaults of Config.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultPollInterval = time.Second
	DefaultBatch        = 32
)

// Backoff is the wait after each failed attempt (Standard Webhooks'
// schedule): after the last, about 27 hours after the first attempt,
// the delivery has failed. Each wait is drawn within ±20% of its value
// (jitter), so endpoints that failed together are not retried together.
var Backoff = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Config configures a Worker; zero values take the defaults.
type Config struct {
	Guard Guard
	// Timeout bounds each attempt (DefaultTimeout). A claimed attempt
	// that no worker finished within twice the timeout (its node died)
	// is claimed again.
	Timeout time.Duration
	// PollInterval is how often Run looks for due deliveries.
	PollInterval time.Duration
	// Batch is the most deliveries one pass claims and sends at once.
	Batch int
	// Secrets returns the signing keys of an endpoint at now: its
	// secret's, and its previous secret's during a rotation.
	Secrets func(w store.Webhook, now time.Time) ([][]byte, error)
	// Audit records that an endpoint was disabled for answering 410.
	Audit func(ctx context.Context, e store.AuditEvent)
	// Now is the clock of attempts and backoff, Jitter draws a number in
	// [0, 1) for the backoff's jitter; both injected for tests.
	Now    func() time.Time
	Jitter func() float64
	Logger *slog.Logger
}

// Worker claims due deliveries and sends them. Every node runs one; the
// store's claims keep two from sending one attempt.
type Worker struct {
	st      Store
	cfg     Config
	client  *http.Client
	metrics *Metrics
}

// Metrics are the worker's Prometheus collectors.
type Metrics struct {
	// Pending counts the deliveries in the database still to be made
	// (every node's), as of this node's last pass.
	Pending prometheus.Gauge
	// Attempts counts this node's attempts by outcome: delivered, retry
	// (it failed and is tried again) and failed (for good).
	Attempts *prometheus.CounterVec
	// Latency is how long after its event a delivery succeeded.
	Latency prometheus.Histogram
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Pending, m.Attempts, m.Latency}
}

// New returns a worker over st.
func New(st Store, cfg Config) *Worker {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Audit == nil {
		cfg.Audit = func(context.Context, store.AuditEvent) {}
	}
	// No proxy: a proxy would dial the address, not the guard.
	transport := &http.Transport{
		DialContext:         cfg.Guard.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.Timeout,
	}
	return &Worker{
		st:  st,
		cfg: cfg,
		client: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			// A redirect is the endpoint's answer, not a place to go:
			// following it would leave the checked URL.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		metrics: &Metrics{
			Pending: prometheus.NewGauge(prometheus.GaugeOpts{
				Name: "gatehouse_webhook_deliveries_pending", Help: "Webhook deliveries not yet delivered or failed (every node's), as of this node's last look.",
			}),
			Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "gatehouse_webhook_attempts_total", Help: "Webhook delivery attempts this node made, by outcome (delivered, retry, failed).",
			}, []string{"outcome"}),
			Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
				Name: "gatehouse_webhook_delivery_latency_seconds", Help: "Seconds from an audit event to its successful delivery.",
				Buckets: []float64{.01, .05, .1, .5, 1, 5, 30, 300, 3600, 86400},
			}),
		},
	}
}

// Metrics returns the worker's collectors.
func (w *Worker) Metrics() *Metrics { return w.metrics }

// Run delivers what is due until ctx ends, looking every PollInterval,
// and again at once after a full batch.
func (w *Worker) Run(ctx context.Context) {
	tick := time.NewTicker(w.cfg.PollInterval)
	defer tick.Stop()
	for {
		n, err := w.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			w.cfg.Logger.WarnContext(ctx, "webhook deliveries not claimed; trying again at the next poll", "err", err)
		}
		if n == w.cfg.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// refreshCounts sets the pending gauge from the database.
func (w *Worker) refreshCounts(ctx context.Context) {
	if n, err := w.st.CountPendingWebhookDeliveries(ctx); err == nil {
		w.metrics.Pending.Set(float64(n)) // else it keeps its last value
	}
}

// DeliverDue claims the deliveries due now (up to Batch), sends them
// concurrently, records each outcome and then the pending gauge; it
// returns how many it claimed.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	now := w.cfg.Now()
	due, err := w.st.ClaimWebhookDeliveries(ctx, now, now.Add(2*w.cfg.Timeout), w.cfg.Batch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, d := range due {
		wg.Go(func() { w.attempt(ctx, d) })
	}
	wg.Wait()
	w.refreshCounts(ctx)
	return len(due), nil
}

// Payload is a delivery's body: the event's action as its type, its time,
// and the audit event itself (which never holds a secret).
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Event     `json:"data"`
}

// Event is an audit event as the API shows it.
type Event struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	Action    string    `json:"action"`
	Outcome   string    `json:"outcome"`
	ActorID   string    `json:"actor_id,omitempty"`
	SubjectID string    `json:"subject_id,omitempty"`
	ClientIP  string    `json:"client_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Dialect   string    `json:"dialect,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// body is d's payload.
func body(d store.DueDelivery) ([]byte, error) {
	e := d.Event
	return json.Marshal(Payload{Type: e.Action, Timestamp: e.Time.UTC(), Data: Event{
		ID: e.ID, Time: e.Time.UTC(), Action: e.Action, Outcome: e.Outcome, ActorID: e.ActorID, SubjectID: e.SubjectID,
		ClientIP: e.ClientIP, UserAgent: e.UserAgent, Dialect: e.Dialect, Detail: e.Detail,
	}})
}

// attempt sends d once and records the outcome.
func (w *Worker) attempt(ctx context.Context, d store.DueDelivery) {
	status, retryAfter, err := w.send(ctx, d)
	now := w.cfg.Now()
	o := store.DeliveryOutcome{WebhookID: d.WebhookID, EventID: d.EventID, Attempt: d.Attempts, Status: status, At: now}
	switch {
	case err == nil && status >= 200 && status < 300:
		o.State = store.DeliveryDelivered
	case err == nil && status == http.StatusGone:
		o.State, o.Gone, o.Error = store.DeliveryFailed, true, "410 Gone: the endpoint is disabled"
	default:
		o.Error = fmt.Sprintf("status %d", status)
		if err != nil {
			o.Error = err.Error()
		}
		if d.Attempts > len(Backoff) {
			o.State = store.DeliveryFailed
			break
		}
		wait := time.Duration(float64(Backoff[d.Attempts-1]) * (0.8 + 0.4*w.cfg.Jitter()))
		wait = max(wait, min(retryAfter, Backoff[len(Backoff)-1]))
		next := now.Add(wait)
		o.State, o.NextAttemptAt = store.DeliveryPending, &next
	}
	recorded, ferr := w.st.FinishWebhookDelivery(context.WithoutCancel(ctx), o)
	if ferr != nil {
		w.cfg.Logger.WarnContext(ctx, "webhook attempt not recorded; it is tried again when its lease ends",
			"webhook_id", d.WebhookID, "event_id", d.EventID, "err", ferr)
		return
	}
	if !recorded {
		return // claimed again meanwhile: that attempt's outcome counts
	}
	outcome := o.State
	if outcome == store.DeliveryPending {
		outcome = "retry"
	}
	w.metrics.Attempts.WithLabelValues(outcome).Inc()
	if o.State == store.DeliveryDelivered {
		w.metrics.Latency.Observe(now.Sub(d.Event.Time).Seconds())
	}
	if o.Gone {
		w.cfg.Audit(context.WithoutCancel(ctx), store.AuditEvent{
			Action: "webhook.disable", Outcome: "success", SubjectID: d.WebhookID, Detail: "the endpoint answered 410 Gone",
		})
	}
}

// send posts d to its endpoint, signed, and returns the status and the
// Retry-After the endpoint asked for.
func (w *Worker) send(ctx context.Context, d store.DueDelivery) (int, time.Duration, error) {
	payload, err := body(d)
	if err != nil {
		return 0, 0, err
	}
	now := w.cfg.Now()
	keys, err := w.cfg.Secrets(d.Webhook, now)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Webhook.URL, bytes.NewReader(payload))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gatehouse-webhooks")
	req.Header.Set("webhook-id", d.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", Signature(keys, d.EventID, now, payload))
	resp, err := w.client.Do(req)
	if err != nil {
		// The URL is the endpoint's, which an error need not repeat (its
		// query may hold the receiver's own token).
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var retryAfter time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, retryAfter, nil
}
