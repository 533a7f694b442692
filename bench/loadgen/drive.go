package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// op sends one request and checks its answer. status is the HTTP status
// (0 when there was none); err is non-nil when the answer is not the one
// expected. An op belongs to one worker and may keep state across calls
// (a refresh token chain).
type op func(ctx context.Context) (status int, hdr http.Header, err error)

// roundResult is one timed round of one target.
type roundResult struct {
	Requests  int           `json:"requests"`
	OK        int           `json:"ok"`
	Errors    int           `json:"errors"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	RPS       float64       `json:"rps"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	Statuses  map[int]int   `json:"statuses"`
	Refused   int           `json:"refused"`          // acceptable refusals (the flood's 503 with Retry-After); not errors
	Transport int           `json:"transport_errors"` // no HTTP answer: refused connection, reset, timeout
	Samples   []string      `json:"error_samples,omitempty"`
}

// run drives ops (one goroutine each) for d and measures every request
// started before d ran out; label names it on the progress line. An answer
// that is not the expected one is an error, unless refusal (when not nil)
// accepts it as a refusal.
func run(ctx context.Context, ops []op, d time.Duration, label string, refusal func(status int, hdr http.Header) bool) roundResult {
	type workerOut struct {
		lat               []time.Duration
		ok, errs, refused int
		transport         int
		statuses          map[int]int
		samples           []string
	}
	var (
		done  atomic.Int64
		wg    sync.WaitGroup
		outs  = make([]workerOut, len(ops))
		start = time.Now()
		stop  = start.Add(d)
	)
	stopProgress := progress(label, d, start, &done)
	for i, o := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &outs[i]
			w.statuses = map[int]int{}
			w.lat = make([]time.Duration, 0, 1024)
			for time.Now().Before(stop) && ctx.Err() == nil {
				t0 := time.Now()
				status, hdr, err := o(ctx)
				w.lat = append(w.lat, time.Since(t0))
				done.Add(1)
				if status != 0 {
					w.statuses[status]++
				}
				switch {
				case err == nil:
					w.ok++
				case refusal != nil && status != 0 && refusal(status, hdr):
					w.refused++
				default:
					w.errs++
					if status == 0 {
						w.transport++
					}
					if len(w.samples) < 3 {
						w.samples = append(w.samples, err.Error())
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()

	r := roundResult{Elapsed: elapsed, Statuses: map[int]int{}}
	var lat []time.Duration
	for _, w := range outs {
		lat = append(lat, w.lat...)
		r.OK += w.ok
		r.Errors += w.errs
		r.Transport += w.transport
		r.Refused += w.refused
		for s, n := range w.statuses {
			r.Statuses[s] += n
		}
		for _, s := range w.samples {
			if len(r.Samples) < 5 && !slices.Contains(r.Samples, s) {
				r.Samples = append(r.Samples, s)
			}
		}
	}
	r.Requests = len(lat)
	r.RPS = float64(r.OK) / elapsed.Seconds()
	slices.Sort(lat)
	r.P50, r.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return r
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

var stderrIsTTY = func() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}()

// progress redraws one status line on a terminal every 250 ms while a
// round runs; elsewhere it prints nothing (run's caller prints a line per
// round).
func progress(label string, d time.Duration, start time.Time, done *atomic.Int64) func() {
	if !stderrIsTTY {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				fmt.Fprint(os.Stderr, "\r\033[K")
				return
			case <-t.C:
				el := time.Since(start)
				fmt.Fprintf(os.Stderr, "\r\033[K  %s  %4.1fs/%.0fs  %d requests  %.0f/s", label,
					el.Seconds(), d.Seconds(), done.Load(), float64(done.Load())/el.Seconds())
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// newClient is the load generator's HTTP client: keep-alive connections,
// enough idle ones for every worker, a timeout well above the server's
// 5 s hash queue limit.
func newClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns + 16,
			MaxIdleConnsPerHost: conns + 16,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// call sends a request and reads the whole answer.
func call(ctx context.Context, c *http.Client, method, url, contentType, body string, hdr map[string]string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, resp.Header, nil, fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// expect turns an unexpected status into an error that quotes the body.
func expect(status int, body []byte, want int) error {
	if status == want {
		return nil
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return fmt.Errorf("status %d: %s", status, s)
}

// summary folds the rounds of one target: medians of rps, p50 and p99,
// sums of the counts.
type summary struct {
	RPS       float64       `json:"rps"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"`
	Transport int           `json:"transport_errors"`
	Statuses  map[int]int   `json:"statuses"`
	Samples   []string      `json:"error_samples,omitempty"`
	Rounds    []roundResult `json:"rounds"`
}

func summarize(rounds []roundResult) summary {
	s := summary{Rounds: rounds, Statuses: map[int]int{}}
	var rps []float64
	var p50, p99 []time.Duration
	for _, r := range rounds {
		rps = append(rps, r.RPS)
		p50 = append(p50, r.P50)
		p99 = append(p99, r.P99)
		s.Requests += r.Requests
		s.Errors += r.Errors
		s.Transport += r.Transport
		for k, v := range r.Statuses {
			s.Statuses[k] += v
		}
		for _, x := range r.Samples {
			if len(s.Samples) < 5 && !slices.Contains(s.Samples, x) {
				s.Samples = append(s.Samples, x)
			}
		}
	}
	sort.Float64s(rps)
	slices.Sort(p50)
	slices.Sort(p99)
	if n := len(rounds); n > 0 {
		s.RPS = medianF(rps)
		s.P50, s.P99 = medianD(p50), medianD(p99)
	}
	return s
}

func medianF(x []float64) float64 {
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

func medianD(x []time.Duration) time.Duration {
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

var errNoToken = errors.New("no token in the answer")
