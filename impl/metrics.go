package impl

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

// Metrics are gatehouse's Prometheus metrics.
type Metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	logins       *prometheus.CounterVec
	lockouts     prometheus.Counter
	refreshReuse prometheus.Counter
	hashWait     prometheus.Histogram
}

// NewMetrics makes the metrics in a registry of their own, with the Go
// runtime's and the process's collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total", Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds", Help: "HTTP request latency by route template and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_logins_total", Help: "Password logins by dialect and outcome.",
		}, []string{"dialect", "outcome"}),
		lockouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_lockouts_total", Help: "Accounts locked after repeated failed logins.",
		}),
		refreshReuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_refresh_reuse_total", Help: "Spent refresh tokens used again; each revoked its family.",
		}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gatehouse_password_hash_queue_wait_seconds", Help: "Time a password hash waited for a hashing slot.",
			Buckets: []float64{.0001, .001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.logins, m.lockouts, m.refreshReuse, m.hashWait,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// RegisterGroupCommits exports the store's group commit of refresh-token
// rotations (stats reports groups and rotations so far, and whether the
// store groups at all): their ratio is the mean group size.
func (m *Metrics) RegisterGroupCommits(stats func() (groups, rotations int64, ok bool)) error {
	if _, _, ok := stats(); !ok {
		return nil
	}
	groups := func() float64 { g, _, _ := stats(); return float64(g) }
	rotations := func() float64 { _, r, _ := stats(); return float64(r) }
	return m.Register(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_refresh_rotation_groups_total", Help: "Write transactions that carried refresh-token rotations (SQLite's group commit).",
		}, groups),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_refresh_rotations_grouped_total", Help: "Refresh-token rotations those transactions carried.",
		}, rotations),
	)
}

// Register adds more collectors, such as the database pools'.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// AuditEvent counts what the metrics follow of the audit log; the auth
// service calls it for every event.
func (m *Metrics) AuditEvent(e store.AuditEvent) {
	switch e.Action {
	case "login":
		m.logins.WithLabelValues(e.Dialect, e.Outcome).Inc()
	case "lockout":
		m.lockouts.Inc()
	case "refresh.reuse":
		m.refreshReuse.Inc()
	}
}

// HashWait records a password hash's wait for a slot.
func (m *Metrics) HashWait(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// observe writes every request's response, counts and times it by route
// template, and logs one access line: request id, route, status, latency
// and client IP. Never a header, a query or a body: they carry secrets.
func observe(m *Metrics, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err) // write the response now, so its status is known
			}
			took := time.Since(start)
			route, method, status := routeLabel(c), c.Request().Method, c.Response().Status
			m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
			m.latency.WithLabelValues(route, method).Observe(took.Seconds())
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", method), slog.String("route", route), slog.Int("status", status),
				slog.Duration("latency", took), slog.String("client_ip", c.RealIP()),
				slog.Int64("bytes", c.Response().Size))
			return nil
		}
	}
}

// routeLabel is the route template, so ids do not explode the label set.
func routeLabel(c echo.Context) string {
	if p := c.Path(); p != "" && p != "/*" {
		return p
	}
	return "unmatched"
}

// GetMetrics serves the metrics in the Prometheus text format.
func (h *Handlers) GetMetrics(ctx context.Context, _ api.GetMetricsRequestObject) (api.GetMetricsResponseObject, error) {
	families, err := h.cfg.Metrics.registry.Gather()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return nil, err
		}
	}
	return api.GetMetrics200TextResponse(buf.String()), nil
}
