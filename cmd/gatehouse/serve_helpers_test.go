package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer keeps the lines of a server's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
	l.b.WriteByte('\n')
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// scanServeLog reads serve's JSON log until r ends, keeping every line in
// log, and sends on addr (once) the base URL of its "gatehouse listening"
// line: with --addr 127.0.0.1:0 the kernel picks the port, so no port is
// ever raced for, and the server says which it got.
func scanServeLog(r io.Reader, log *lockedBuffer, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		log.add(line)
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "gatehouse listening" {
			select {
			case addr <- rec.Addr:
			default:
			}
		}
	}
	io.Copy(io.Discard, r) // a line too long for the scanner must not stall the server
}

// startServe runs `gatehouse serve` in-process on db, on a port the kernel
// picks, with serveArgs after serve's, until ctx ends. It returns once the
// server answers /readyz: the base URL, and the channel of Run's result.
func startServe(t *testing.T, ctx context.Context, db string, serveArgs ...string) (base string, done <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	app := newApp()
	app.ErrWriter = pw
	errc := make(chan error, 1)
	go func() {
		err := app.Run(ctx, append([]string{"gatehouse", "--db", db, "--log-format", "json", "--log-level", "info",
			"serve", "--addr", "127.0.0.1:0"}, serveArgs...))
		pw.Close()
		errc <- err
	}()
	log, addr := &lockedBuffer{}, make(chan string, 1)
	go scanServeLog(pr, log, addr)
	select {
	case base = <-addr:
	case err := <-errc:
		t.Fatalf("serve exited before listening: %v\n%s", err, log)
	case <-time.After(time.Minute):
		t.Fatalf("serve did not log where it listens in a minute\n%s", log)
	}
	mustBeReady(t, base, log)
	return base, errc
}

// mustBeReady fails t unless the server that logged it listens at base
// answers /readyz 200. The listener is bound before the line is logged, so
// the request waits in its backlog until the server serves it: there is
// nothing to poll.
func mustBeReady(t *testing.T, base string, log *lockedBuffer) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatalf("the server logged it listens on %s, but: %v\n%s", base, err, log)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s/readyz: %d\n%s", base, resp.StatusCode, log)
	}
}

// serveForTest is startServe until t ends, when serve is stopped as
// SIGTERM stops it and must return nil; it returns the base URL.
func serveForTest(t *testing.T, db string, serveArgs ...string) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	base, done := startServe(t, ctx, db, serveArgs...)
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return base
}
