package mail

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/mail/mailtest"
	"github.com/google/go-cmp/cmp"
	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

const (
	testFrom     = "Gatehouse <no-reply@example.com>"
	testTo       = "ann@example.org"
	testPassword = "s3cret-pa55"
	testToken    = "q6bG2x0Y8n4v0Jm7yQK3cZ1l9T5rW2eD8fH4aS6uP0o" // 256 bits, base64url
)

// testMessage is a message whose link needs escaping in HTML.
func testMessage() Message {
	return Message{
		To:        testTo,
		Username:  "ann",
		Link:      "https://id.example.com/verify?lang=en&token=" + testToken,
		Token:     testToken,
		ExpiresIn: 24 * time.Hour,
	}
}

// newTestSMTP builds a sender or fails the test.
func newTestSMTP(t *testing.T, rawURL string, opts ...Option) *SMTP {
	t.Helper()
	s, err := NewSMTP(rawURL, testFrom, opts...)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

// parsedMail is a delivered DATA, parsed.
type parsedMail = mailtest.Message

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	p, err := mailtest.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkErr fails the test unless err is an error that contains every one
// of want and none of secrets.
func checkErr(t *testing.T, err error, want []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q holds a secret", err)
		}
	}
}

// TestSendTransports delivers through real SMTP over loopback in every
// transport the URL can ask for, and checks what the server saw: TLS, AUTH,
// envelope and a parsable message.
func TestSendTransports(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := testTLS(t)
	type want struct {
		TLS      bool
		AuthMech string
		AuthUser string
		AuthTLS  bool
		From     string
		To       []string
	}
	cases := []struct {
		name   string
		server serverConfig
		url    func(ts *testServer) string
		name2  string // when set, dial ts but name this host in the URL
		want   want
	}{
		{
			name:   "plain without auth",
			server: serverConfig{},
			url:    func(ts *testServer) string { return "smtp://127.0.0.1:" + ts.port() },
			want:   want{},
		},
		{
			name:   "starttls offered is used",
			server: serverConfig{startTLS: serverTLS},
			url:    func(ts *testServer) string { return "smtp://127.0.0.1:" + ts.port() },
			want:   want{TLS: true},
		},
		{
			name:   "implicit tls",
			server: serverConfig{implicit: serverTLS},
			url:    func(ts *testServer) string { return "smtps://127.0.0.1:" + ts.port() },
			want:   want{TLS: true},
		},
		{
			name:   "credentials to loopback in clear text are allowed",
			server: serverConfig{user: "mailer", pass: testPassword},
			url:    func(ts *testServer) string { return "smtp://mailer:" + testPassword + "@127.0.0.1:" + ts.port() },
			want:   want{AuthMech: "PLAIN", AuthUser: "mailer"},
		},
		{
			name:   "credentials to loopback go over starttls when offered",
			server: serverConfig{startTLS: serverTLS, user: "mailer", pass: testPassword},
			url:    func(ts *testServer) string { return "smtp://mailer:" + testPassword + "@127.0.0.1:" + ts.port() },
			want:   want{TLS: true, AuthMech: "PLAIN", AuthUser: "mailer", AuthTLS: true},
		},
		{
			name:   "login mechanism over implicit tls",
			server: serverConfig{implicit: serverTLS, mechs: []string{"LOGIN"}, user: "mailer", pass: testPassword},
			url:    func(ts *testServer) string { return "smtps://mailer:" + testPassword + "@127.0.0.1:" + ts.port() },
			want:   want{TLS: true, AuthMech: "LOGIN", AuthUser: "mailer", AuthTLS: true},
		},
		{
			name:   "credentials to a non-loopback host over mandatory starttls",
			server: serverConfig{startTLS: serverTLS, user: "mailer", pass: testPassword},
			url:    func(ts *testServer) string { return "smtp://mailer:" + testPassword + "@mail.example.com:587" },
			name2:  "mail.example.com",
			want:   want{TLS: true, AuthMech: "PLAIN", AuthUser: "mailer", AuthTLS: true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, tc.server)
			s := newTestSMTP(t, tc.url(ts), WithTLSConfig(clientTLS))
			if tc.name2 != "" {
				s.dialAddr = ts.addr
			}
			if err := s.Send(t.Context(), KindVerify, testMessage()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := ts.recorded()
			if len(got) != 1 {
				t.Fatalf("got %d sessions, want 1", len(got))
			}
			tc.want.From, tc.want.To = "no-reply@example.com", []string{testTo}
			g := got[0]
			if diff := cmp.Diff(tc.want, want{
				TLS: g.TLS, AuthMech: g.AuthMech, AuthUser: g.AuthUser, AuthTLS: g.AuthTLS, From: g.From, To: g.To,
			}); diff != "" {
				t.Errorf("session (-want +got):\n%s", diff)
			}
			m := parseMail(t, g.Data)
			if m.To != "<"+testTo+">" {
				t.Errorf("To header %q", m.To)
			}
			if strings.Contains(string(g.Data), testPassword) {
				t.Error("the SMTP password is in the message")
			}
		})
	}
}

// TestSendRefusesWithoutTLS sends credentials where TLS cannot be had:
// a non-loopback host whose server offers AUTH but no STARTTLS, and servers
// whose certificate the client does not trust. Each send fails before any
// AUTH command, with no fallback to clear text, and nothing is delivered.
func TestSendRefusesWithoutTLS(t *testing.T) {
	t.Parallel()
	serverTLS, _ := testTLS(t)
	cases := []struct {
		name    string
		server  serverConfig
		url     string
		wantErr string
	}{
		{"no starttls to a non-loopback host", serverConfig{},
			"smtp://mailer:" + testPassword + "@mail.example.com:587", "STARTTLS"},
		{"untrusted starttls certificate, loopback host", serverConfig{startTLS: serverTLS},
			"smtp://mailer:" + testPassword + "@127.0.0.1:587", "certificate"},
		{"untrusted smtps certificate", serverConfig{implicit: serverTLS},
			"smtps://mailer:" + testPassword + "@mail.example.com:465", "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.server.user, tc.server.pass = "mailer", testPassword
			ts := startServer(t, tc.server)
			s := newTestSMTP(t, tc.url) // the system roots: the test CA is unknown
			s.dialAddr = ts.addr        // reach the loopback server under the URL's name

			err := s.Send(t.Context(), KindReset, testMessage())
			checkErr(t, err, []string{tc.wantErr}, testPassword, testToken)
			for _, got := range ts.recorded() {
				if diff := cmp.Diff(session{}, got); diff != "" {
					t.Errorf("the server saw more than a greeting (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestDecideTransport is the decision table of the TLS and credentials
// policy.
func TestDecideTransport(t *testing.T) {
	t.Parallel()
	opportunistic := transportPolicy{startTLS: gomail.TLSOpportunistic}
	opportunisticAuth := transportPolicy{startTLS: gomail.TLSOpportunistic, cleartextAuth: true}
	mandatory := transportPolicy{startTLS: gomail.TLSMandatory}
	implicit := transportPolicy{startTLS: gomail.NoTLS}
	cases := []struct {
		host     string
		implicit bool
		hasAuth  bool
		want     transportPolicy
	}{
		{"mail.example.com", false, false, opportunistic},
		{"mail.example.com", false, true, mandatory},
		{"mail.example.com", true, true, implicit},
		{"mail.example.com", true, false, implicit},
		{"10.0.0.25", false, true, mandatory},
		{"192.168.1.25", false, true, mandatory},
		{"2001:db8::25", false, true, mandatory},
		{"localhost.example.com", false, true, mandatory},
		{"127.0.0.1", false, true, opportunisticAuth},
		{"127.0.0.53", false, true, opportunisticAuth},
		{"::1", false, true, opportunisticAuth},
		{"localhost", false, true, opportunisticAuth},
		{"LocalHost", false, true, opportunisticAuth},
		{"127.0.0.1", false, false, opportunistic},
	}
	for _, tc := range cases {
		got := decideTransport(tc.implicit, tc.host, tc.hasAuth)
		if got != tc.want {
			t.Errorf("decideTransport(implicit=%v, %q, auth=%v) = %+v, want %+v",
				tc.implicit, tc.host, tc.hasAuth, got, tc.want)
		}
	}
}

// TestGuardedAuth checks the last line of defence before AUTH: no
// credentials on an unencrypted connection unless allowed, and the choice
// of mechanism.
func TestGuardedAuth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		cleartextOK bool
		server      gosmtp.ServerInfo
		wantMech    string
		wantErr     error
	}{
		{"tls, plain and login offered", false, gosmtp.ServerInfo{Name: "h", TLS: true, Auth: []string{"LOGIN", "PLAIN"}}, "PLAIN", nil},
		{"tls, login only", false, gosmtp.ServerInfo{Name: "h", TLS: true, Auth: []string{"LOGIN", "XOAUTH2"}}, "LOGIN", nil},
		{"no tls, not allowed", false, gosmtp.ServerInfo{Name: "h", Auth: []string{"PLAIN"}}, "", errCleartextAuth},
		{"no tls, allowed", true, gosmtp.ServerInfo{Name: "h", Auth: []string{"PLAIN"}}, "PLAIN", nil},
		{"no known mechanism", false, gosmtp.ServerInfo{Name: "h", TLS: true, Auth: []string{"XOAUTH2"}}, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := &guardedAuth{user: "u", pass: testPassword, host: "h", cleartextOK: tc.cleartextOK}
			mech, resp, err := a.Start(&tc.server)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Start error %v, want %v", err, tc.wantErr)
				}
			case tc.wantMech == "":
				if err == nil {
					t.Fatalf("Start = %q, want an error", mech)
				}
			case err != nil:
				t.Fatalf("Start: %v", err)
			case mech != tc.wantMech:
				t.Fatalf("mechanism %q, want %q", mech, tc.wantMech)
			}
			if err != nil && (len(resp) > 0 || strings.Contains(err.Error(), testPassword)) {
				t.Errorf("a refused Start leaks credentials: resp %q, err %v", resp, err)
			}
		})
	}
}

// TestSendTimeout runs against servers that never answer: the send ends
// within the timeout with a context error, the connection is closed, and no
// goroutine of the sender is left. It is not parallel, so that the goroutine
// check sees only its own sends.
func TestSendTimeout(t *testing.T) {
	cases := []struct {
		name     string
		greeting string // written on accept, then silence
		timeout  time.Duration
		cancel   time.Duration // when set, the caller cancels after this
		wantErr  error
	}{
		{name: "no greeting", timeout: 300 * time.Millisecond, wantErr: context.DeadlineExceeded},
		{name: "greets then stalls", greeting: "220 localhost ESMTP\r\n", timeout: 300 * time.Millisecond, wantErr: context.DeadlineExceeded},
		{name: "caller cancels", timeout: time.Minute, cancel: 200 * time.Millisecond, wantErr: context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			closed := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					closed <- err
					return
				}
				defer c.Close()
				_, _ = io.WriteString(c, tc.greeting)
				// Read what the client says (EHLO) and never answer; the
				// read ends when the client closes its side.
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err = io.Copy(io.Discard, bufio.NewReader(c))
				closed <- err
			}()

			s := newTestSMTP(t, "smtp://"+ln.Addr().String(), WithTimeout(tc.timeout))
			ctx := t.Context()
			if tc.cancel > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tc.cancel, cancel)
			}
			start := time.Now()
			err = s.Send(ctx, KindInvite, testMessage())
			elapsed := time.Since(start)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Send error %v, want %v", err, tc.wantErr)
			}
			limit := tc.timeout + time.Second
			if tc.cancel > 0 {
				limit = tc.cancel + time.Second
			}
			if elapsed > limit {
				t.Errorf("Send took %v, want under %v", elapsed, limit)
			}
			select {
			case err := <-closed:
				if err != nil {
					t.Errorf("server side did not see the client close: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the client did not close its connection")
			}
			assertNoSenderGoroutines(t)
		})
	}
}

// assertNoSenderGoroutines fails when, after a short grace, a goroutine is
// still inside go-mail or this package's sender.
func assertNoSenderGoroutines(t *testing.T) {
	t.Helper()
	var stacks string
	for range 50 {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "github.com/wneessen/go-mail") &&
			!strings.Contains(stacks, "gatehouse/mail.(*SMTP)") &&
			!strings.Contains(stacks, "gatehouse/mail.(*connSet)") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("a sender goroutine is left:\n%s", stacks)
}

// TestNewSMTPErrors gives bad URLs and From addresses: each fails at
// construction with a clear error that never holds the password.
func TestNewSMTPErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, url, from, want string
	}{
		{"unknown scheme", "http://u:" + testPassword + "@mail.example.com:25", testFrom, `unknown scheme "http"`},
		{"no scheme", "mail.example.com:25", testFrom, `unknown scheme "mail.example.com"`},
		{"missing host", "smtp://", testFrom, "missing host"},
		{"missing host with port", "smtp://u:" + testPassword + "@:25", testFrom, "missing host"},
		{"port zero", "smtp://mail.example.com:0", testFrom, `bad port "0"`},
		{"port too big", "smtp://u:" + testPassword + "@mail.example.com:65536", testFrom, `bad port "65536"`},
		{"port not a number", "smtp://mail.example.com:abc", testFrom, `invalid port ":abc"`},
		{"unparsable with credentials", "smtp://u:" + testPassword + "@mail.example.com:abc", testFrom, "malformed"},
		{"unescaped slash in password", "smtp://u:pa/" + testPassword + "@mail.example.com", testFrom, "smtp url"},
		{"path", "smtp://u:" + testPassword + "@mail.example.com/x", testFrom, "no path"},
		{"query", "smtp://mail.example.com?tls=off", testFrom, "no path, query"},
		{"empty user", "smtp://:" + testPassword + "@mail.example.com", testFrom, "credentials without a user name"},
		{"missing from", "smtp://mail.example.com", "", "mail from: missing address"},
		{"bad from", "smtp://mail.example.com", "Gatehouse no-reply", "mail from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewSMTP(tc.url, tc.from)
			checkErr(t, err, []string{tc.want}, testPassword)
		})
	}
}

// TestNewSMTPDefaults checks the default ports and the TLS server name.
func TestNewSMTPDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url      string
		wantPort int
		wantImpl bool
	}{
		{"smtp://mail.example.com", 587, false},
		{"smtps://mail.example.com", 465, true},
		{"smtp://mail.example.com:25/", 25, false},
		{"smtps://[::1]:2465", 2465, true},
	}
	for _, tc := range cases {
		s, err := NewSMTP(tc.url, testFrom, WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS13}))
		if err != nil {
			t.Fatalf("NewSMTP(%q): %v", tc.url, err)
		}
		if s.port != tc.wantPort || s.implicit != tc.wantImpl || s.tlsConfig.ServerName != s.host ||
			s.tlsConfig.MinVersion != tls.VersionTLS13 || s.timeout != DefaultTimeout {
			t.Errorf("NewSMTP(%q): port %d implicit %v server name %q min %x timeout %v",
				tc.url, s.port, s.implicit, s.tlsConfig.ServerName, s.tlsConfig.MinVersion, s.timeout)
		}
	}
}

// TestDisabled checks the sender for a server without --smtp-url.
func TestDisabled(t *testing.T) {
	t.Parallel()
	var s Sender = Disabled{}
	if err := s.Send(t.Context(), KindVerify, testMessage()); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("Disabled.Send = %v, want ErrNotConfigured", err)
	}
}
