package mail

import (
	"crypto/tls"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/gatehouse-auth/gatehouse/mail/mailtest"
)

// This file holds the test side of the wire: a real SMTP server
// (emersion/go-smtp) on 127.0.0.1 whose backend records every session, and
// a self-signed certificate for its TLS.

// session is what the test server saw on one connection.
type session struct {
	AuthAttempts int    // AUTH commands received, successful or not
	AuthMech     string // mechanism of the successful AUTH
	AuthUser     string // user of the successful AUTH, "" without one
	AuthTLS      bool   // TLS was active when AUTH succeeded
	TLS          bool   // TLS was active at MAIL FROM
	From         string // MAIL FROM
	To           []string
	Data         []byte
}

// serverConfig says what the test server offers.
type serverConfig struct {
	startTLS *tls.Config // offer STARTTLS with this config
	implicit *tls.Config // TLS from the first byte (smtps)
	mechs    []string    // AUTH mechanisms offered; nil offers PLAIN
	user     string      // when set, AUTH is required with user and pass
	pass     string
}

// testServer is a running recording server.
type testServer struct {
	addr string
	cfg  serverConfig

	mu       sync.Mutex
	sessions []*session
	byConn   map[*gosmtp.Conn]*session
}

// startServer starts a recording SMTP server on 127.0.0.1:0, stopped when
// the test ends.
func startServer(t *testing.T, cfg serverConfig) *testServer {
	t.Helper()
	if cfg.mechs == nil {
		cfg.mechs = []string{sasl.Plain}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.implicit != nil {
		ln = tls.NewListener(ln, cfg.implicit)
	}
	ts := &testServer{addr: ln.Addr().String(), cfg: cfg, byConn: map[*gosmtp.Conn]*session{}}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(ts.newSession))
	srv.AllowInsecureAuth = true // the client, not the server, must refuse
	srv.TLSConfig = cfg.startTLS
	mailtest.Serve(t, srv, ln, 5*time.Second)
	return ts
}

// port returns the server's port as a string.
func (ts *testServer) port() string {
	_, p, _ := net.SplitHostPort(ts.addr)
	return p
}

// recorded returns a copy of every session so far.
func (ts *testServer) recorded() []session {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make([]session, len(ts.sessions))
	for i, s := range ts.sessions {
		out[i] = *s
		out[i].To = slices.Clone(s.To)
		out[i].Data = slices.Clone(s.Data)
	}
	return out
}

func (ts *testServer) newSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	// go-smtp starts a new session after STARTTLS; record one per
	// connection.
	s, ok := ts.byConn[c]
	if !ok {
		s = &session{}
		ts.sessions = append(ts.sessions, s)
		ts.byConn[c] = s
	}
	return &backendSession{ts: ts, conn: c, rec: s}, nil
}

// backendSession implements gosmtp.AuthSession for one connection.
type backendSession struct {
	ts   *testServer
	conn *gosmtp.Conn
	rec  *session
}

func (b *backendSession) update(f func(*session)) {
	b.ts.mu.Lock()
	defer b.ts.mu.Unlock()
	f(b.rec)
}

func (b *backendSession) tlsActive() bool {
	_, ok := b.conn.TLSConnectionState()
	return ok
}

func (b *backendSession) AuthMechanisms() []string { return b.ts.cfg.mechs }

func (b *backendSession) Auth(mech string) (sasl.Server, error) {
	b.update(func(s *session) { s.AuthAttempts++ })
	check := func(user, pass string) error {
		if user != b.ts.cfg.user || pass != b.ts.cfg.pass {
			return gosmtp.ErrAuthFailed
		}
		tlsOn := b.tlsActive()
		b.update(func(s *session) { s.AuthMech, s.AuthUser, s.AuthTLS = mech, user, tlsOn })
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

func (b *backendSession) Mail(from string, _ *gosmtp.MailOptions) error {
	var authed bool
	tlsOn := b.tlsActive()
	b.update(func(s *session) { s.From, s.TLS, authed = from, tlsOn, s.AuthUser != "" })
	if b.ts.cfg.user != "" && !authed {
		return gosmtp.ErrAuthRequired
	}
	return nil
}

func (b *backendSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	b.update(func(s *session) { s.To = append(s.To, to) })
	return nil
}

func (b *backendSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	b.update(func(s *session) { s.Data = data })
	return nil
}

func (b *backendSession) Reset()        {}
func (b *backendSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl no longer
// provides: a user name and a password, each asked for in turn.
type loginServer struct {
	user    string
	gotUser bool
	check   func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch {
	case !l.gotUser && resp == nil: // no initial response
		return []byte("Username:"), false, nil
	case !l.gotUser:
		l.user, l.gotUser = string(resp), true
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// testTLS returns a server config with a fresh self-signed certificate for
// 127.0.0.1, ::1, localhost and mail.example.com, and a client config that
// trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	return mailtest.SelfSignedTLS(t)
}
