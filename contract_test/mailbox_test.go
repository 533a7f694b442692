package contract_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	netmail "net/mail"
	"regexp"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/gatehouse-auth/gatehouse/mail"
	"github.com/gatehouse-auth/gatehouse/mail/mailtest"
)

// This file holds the SMTP side of the account tests: a real SMTP server
// (emersion/go-smtp) on 127.0.0.1 that hands every delivered message to
// the test on a channel, and gatehouse's own SMTP sender pointed at it.

// delivered is one message the mailbox received, parsed.
type delivered struct {
	From     string   // envelope
	To       []string // envelope
	TLS      bool     // the session was encrypted when the message came
	Header   netmail.Header
	Subject  string
	Text     string // the text/plain part, decoded
	HTML     string // the text/html part, decoded
	Link     string // the link in the text part
	Token    string // the link's token
	Raw      string
	ParseErr error
}

// mailbox is a running recording SMTP server.
type mailbox struct {
	addr   string
	client *tls.Config // trusts the server's certificate, when it has one
	inbox  chan delivered
}

// startMailbox starts an SMTP server on 127.0.0.1:0, offering STARTTLS
// with a fresh self-signed certificate when startTLS is set; it stops when
// the test ends.
func startMailbox(t testing.TB, startTLS bool) *mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb := &mailbox{addr: ln.Addr().String(), inbox: make(chan delivered, 64)}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &mailSession{mb: mb, conn: c}, nil
	}))
	if startTLS {
		var server *tls.Config
		server, mb.client = mailtest.SelfSignedTLS(t)
		srv.TLSConfig = server
	}
	mailtest.Serve(t, srv, ln, 10*time.Second)
	return mb
}

// sender is gatehouse's SMTP sender for this mailbox.
func (mb *mailbox) sender(t testing.TB) mail.Sender {
	t.Helper()
	opts := []mail.Option{mail.WithTimeout(10 * time.Second)}
	if mb.client != nil {
		opts = append(opts, mail.WithTLSConfig(mb.client))
	}
	s, err := mail.NewSMTP("smtp://"+mb.addr, "gatehouse <noreply@gatehouse.test>", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// next waits for the next delivery. The wait ends on the delivery itself;
// the timer only turns a lost mail into a failure instead of a hang.
func (mb *mailbox) next(t testing.TB) delivered {
	t.Helper()
	select {
	case m := <-mb.inbox:
		if m.ParseErr != nil {
			t.Fatalf("delivered message: %v\n%s", m.ParseErr, m.Raw)
		}
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no mail delivered")
	}
	return delivered{}
}

// empty fails the test if a message is waiting. Call it after the server's
// mails in flight are done (Service.WaitMail).
func (mb *mailbox) empty(t testing.TB) {
	t.Helper()
	select {
	case m := <-mb.inbox:
		t.Errorf("unexpected mail to %v: %s", m.To, m.Subject)
	default:
	}
}

type mailSession struct {
	mb   *mailbox
	conn *gosmtp.Conn
	from string
	to   []string
}

func (s *mailSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, tlsOn := s.conn.TLSConnectionState()
	m := parseDelivered(string(data))
	m.From, m.To, m.TLS = s.from, s.to, tlsOn
	s.mb.inbox <- m
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

var linkRE = regexp.MustCompile(`https?://\S+\?token=([A-Za-z0-9_-]+)`)

// parseDelivered reads the message and the link in its text part.
func parseDelivered(raw string) delivered {
	d := delivered{Raw: raw}
	m, err := mailtest.Parse([]byte(raw))
	if err != nil {
		d.ParseErr = err
		return d
	}
	d.Header, d.Subject, d.Text, d.HTML = m.Header, m.Subject, m.Text, m.HTML
	if l := linkRE.FindStringSubmatch(d.Text); l != nil {
		d.Link, d.Token = l[0], l[1]
	} else {
		d.ParseErr = errors.New("no link with a token in the text part")
	}
	return d
}
