package testserver

import (
	"context"
	"database/sql"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/store"
)

// Stall stalls a test's database on demand and ends the stall, as an
// operator's bad day would: on PostgreSQL a TCP proxy between gatehouse and
// the server stops forwarding (a network partition or a frozen server; the
// shared test cluster itself is never stopped), on SQLite another
// connection holds the write lock (a backup or a sqlite3 shell).
type Stall struct {
	// DB is the database gatehouse is to open: the PostgreSQL URL through
	// the proxy, or the SQLite file.
	DB string
	// Postgres tells which engine it is: on SQLite reads go on during a
	// stall (WAL), only writes wait.
	Postgres bool
	stall    func(tb testing.TB)
	resume   func(tb testing.TB)
}

// NewStall returns the Stall of db (a FreshDB), resumed when tb ends.
func NewStall(tb testing.TB, db string) *Stall {
	tb.Helper()
	if !store.IsPostgresURL(db) {
		var lock *sql.DB
		var conn *sql.Conn
		s := &Stall{DB: db}
		s.stall = func(tb testing.TB) {
			var err error
			if lock, err = sql.Open("sqlite", db); err == nil {
				if conn, err = lock.Conn(context.Background()); err == nil {
					_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
				}
			}
			if err != nil {
				tb.Fatalf("hold the write lock: %v", err)
			}
		}
		s.resume = func(tb testing.TB) {
			if conn == nil {
				return
			}
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				tb.Errorf("release the write lock: %v", err)
			}
			conn.Close()
			lock.Close()
			conn = nil
		}
		tb.Cleanup(func() { s.resume(tb) })
		return s
	}
	u, err := url.Parse(db)
	if err != nil {
		tb.Fatal(err)
	}
	p := newStallProxy(tb, u.Host)
	u.Host = p.ln.Addr().String()
	tb.Cleanup(p.close)
	return &Stall{DB: u.String(), Postgres: true,
		stall:  func(testing.TB) { p.setStalled(true) },
		resume: func(testing.TB) { p.setStalled(false) },
	}
}

// Stall starts the stall.
func (s *Stall) Stall(tb testing.TB) { tb.Helper(); s.stall(tb) }

// Resume ends it.
func (s *Stall) Resume(tb testing.TB) { tb.Helper(); s.resume(tb) }

// stallProxy forwards TCP connections to target until stalled; then it
// forwards nothing, in either direction, and connects nothing new. Ending
// a stall drops the connections that had something to forward during it
// (as a partition long enough for the peers to give up on them does), so
// no statement held during it reaches the server afterwards; connections
// that sat idle go on.
type stallProxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	cond    *sync.Cond
	stalled bool
	// peers maps each open connection to the other end of its pair (nil
	// until connected); held are those a stall held up.
	peers map[net.Conn]net.Conn
	held  map[net.Conn]bool
	wg    sync.WaitGroup
}

func newStallProxy(tb testing.TB, target string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target, peers: map[net.Conn]net.Conn{}, held: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
	return p
}

func (p *stallProxy) forward(client net.Conn) {
	p.mu.Lock()
	if p.peers == nil {
		p.mu.Unlock()
		client.Close()
		return
	}
	p.peers[client] = nil
	p.mu.Unlock()
	if !p.waitUnstalled(client) {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	if _, open := p.peers[client]; !open {
		p.mu.Unlock()
		server.Close()
		return
	}
	p.peers[client], p.peers[server] = server, client
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(server, client) })
	p.pipe(client, server)
	wg.Wait()
}

// waitUnstalled waits while the proxy is stalled, marking c held; false
// when c was dropped meanwhile.
func (p *stallProxy) waitUnstalled(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.stalled {
		p.held[c] = true
		p.cond.Wait()
	}
	_, open := p.peers[c]
	return open
}

func (p *stallProxy) pipe(dst, src net.Conn) {
	defer p.drop(src)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitUnstalled(src) {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// drop closes c and its peer.
func (p *stallProxy) drop(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropLocked(c)
}

func (p *stallProxy) dropLocked(c net.Conn) {
	peer := p.peers[c]
	for _, x := range []net.Conn{c, peer} {
		if x != nil {
			x.Close()
			delete(p.peers, x)
			delete(p.held, x)
		}
	}
}

func (p *stallProxy) setStalled(stalled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled && !stalled {
		for c := range p.held {
			p.dropLocked(c)
		}
	}
	p.stalled = stalled
	p.cond.Broadcast()
}

func (p *stallProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.stalled = false
	for c := range p.peers {
		p.dropLocked(c)
	}
	p.peers = nil
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}
