package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// DefaultTimeout bounds one Send (dial, TLS, AUTH and delivery) unless
// WithTimeout says otherwise.
const DefaultTimeout = 10 * time.Second

// DefaultProduct is the product name the templates show unless WithProduct
// says otherwise.
const DefaultProduct = "gatehouse"

// The ports used when the URL names none: submission with STARTTLS, and
// submission over implicit TLS (RFC 8314).
const (
	defaultSMTPPort  = 587
	defaultSMTPSPort = 465
)

// errCleartextAuth is returned when the credentials would cross the network
// in clear text: the connection is not encrypted and the host is not a
// loopback one.
var errCleartextAuth = errors.New("refusing to send SMTP credentials without TLS to a non-loopback host")

// Option configures an SMTP sender at construction.
type Option func(*options)

type options struct {
	timeout      time.Duration
	tlsConfig    *tls.Config
	templatesDir string
	product      string
}

// WithTimeout bounds each Send, from the dial to the end of delivery. A
// non-positive d keeps DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithTLSConfig sets the TLS configuration for STARTTLS and smtps://, for
// example a private CA pool. It is cloned; an empty ServerName is set to the
// URL's host.
func WithTLSConfig(c *tls.Config) Option {
	return func(o *options) { o.tlsConfig = c }
}

// WithTemplatesDir makes each template file found in dir (--mail-templates)
// replace the embedded one of the same name; the others stay embedded.
func WithTemplatesDir(dir string) Option {
	return func(o *options) { o.templatesDir = dir }
}

// WithProduct sets the product name the templates show; empty keeps
// DefaultProduct.
func WithProduct(name string) Option {
	return func(o *options) {
		if name != "" {
			o.product = name
		}
	}
}

// SMTP sends mail through one SMTP server. It is safe for concurrent use:
// each Send opens its own connection.
type SMTP struct {
	host      string // as in the URL, brackets stripped
	port      int
	implicit  bool // smtps://: TLS from the first byte
	user      string
	pass      string
	hasAuth   bool
	from      *netmail.Address
	timeout   time.Duration
	tlsConfig *tls.Config
	tmpl      *templates
	policy    transportPolicy

	// dialAddr, when set, is dialled instead of host:port. Tests use it to
	// reach a loopback server under a non-loopback name.
	dialAddr string
}

// NewSMTP returns a sender for rawURL (smtp://[user:pass@]host[:port] or
// smtps://...) that sends as from ("Name <addr>" or "addr"). The port
// defaults to 587 for smtp and 465 for smtps. It parses every template, so a
// broken override directory fails here. No error contains the password.
func NewSMTP(rawURL, from string, opts ...Option) (*SMTP, error) {
	o := options{timeout: DefaultTimeout, product: DefaultProduct}
	for _, opt := range opts {
		opt(&o)
	}
	s, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	if from == "" {
		return nil, errors.New("mail from: missing address")
	}
	if s.from, err = netmail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("mail from %q: %w", from, err)
	}
	s.timeout = o.timeout
	s.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if o.tlsConfig != nil {
		s.tlsConfig = o.tlsConfig.Clone()
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = s.host
	}
	s.policy = decideTransport(s.implicit, s.host, s.hasAuth)
	if s.tmpl, err = loadTemplates(o.templatesDir, o.product); err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	return s, nil
}

// parseSMTPURL validates the URL. Its errors show the URL only redacted, and
// a URL that does not parse is not shown at all when it may hold credentials.
func parseSMTPURL(rawURL string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var uerr *url.Error
		if !strings.Contains(rawURL, "@") && errors.As(err, &uerr) {
			return nil, fmt.Errorf("smtp url: %w", uerr.Err)
		}
		return nil, errors.New("smtp url: malformed (percent-encode special characters in the user name and password)")
	}
	shown := u.Redacted()
	s := &SMTP{host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.port = defaultSMTPPort
	case "smtps":
		s.port, s.implicit = defaultSMTPSPort, true
	default:
		return nil, fmt.Errorf("smtp url %s: unknown scheme %q (want smtp or smtps)", shown, u.Scheme)
	}
	if s.host == "" {
		return nil, fmt.Errorf("smtp url %s: missing host", shown)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("smtp url %s: bad port %q (want 1 to 65535)", shown, p)
		}
		s.port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("smtp url %s: want no path, query or fragment", shown)
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		s.hasAuth = s.user != ""
		if !s.hasAuth {
			return nil, fmt.Errorf("smtp url %s: credentials without a user name", shown)
		}
	}
	return s, nil
}

// transportPolicy is how one server is reached.
type transportPolicy struct {
	startTLS      gomail.TLSPolicy // ignored with implicit TLS
	cleartextAuth bool             // AUTH may go over an unencrypted connection
}

// decideTransport applies DESIGN.md's rule: STARTTLS whenever the server
// offers it, and credentials never in clear text except to a loopback host.
// So with credentials and a non-loopback host STARTTLS is mandatory, and the
// send fails before AUTH when the server does not offer it; without
// credentials a server with no STARTTLS is used in plain text.
func decideTransport(implicit bool, host string, hasAuth bool) transportPolicy {
	switch {
	case implicit:
		return transportPolicy{startTLS: gomail.NoTLS}
	case hasAuth && !isLoopback(host):
		return transportPolicy{startTLS: gomail.TLSMandatory}
	default:
		return transportPolicy{startTLS: gomail.TLSOpportunistic, cleartextAuth: hasAuth}
	}
}

// isLoopback reports whether host is "localhost" or a loopback IP address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send renders the message of kind and delivers it, within the sender's
// timeout and ctx. Errors name the kind and the step that failed; they hold
// neither the link, the token nor the password. When the deadline or ctx
// ends the send, the error wraps ctx's error.
func (s *SMTP) Send(ctx context.Context, kind Kind, m Message) error {
	msg, err := s.compose(kind, m)
	if err != nil {
		return fmt.Errorf("send %s mail: %w", kind, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.deliver(ctx, msg); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("send %s mail: %w (%w)", kind, ctxErr, err)
		}
		return fmt.Errorf("send %s mail: %w", kind, err)
	}
	return nil
}

// compose renders the templates into a go-mail message.
func (s *SMTP) compose(kind Kind, m Message) (*gomail.Msg, error) {
	r, err := s.tmpl.render(kind, m)
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(s.from.Name, s.from.Address); err != nil {
		return nil, fmt.Errorf("set from: %w", err)
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("parse recipient: %w", err)
	}
	if err := msg.AddToFormat(to.Name, to.Address); err != nil {
		return nil, fmt.Errorf("set recipient: %w", err)
	}
	msg.Subject(r.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	return msg, nil
}

// deliver dials, negotiates TLS, authenticates and sends msg on a
// connection of its own. Every connection it opens is closed when it
// returns, and at once when ctx ends, which unblocks any read or write.
func (s *SMTP) deliver(ctx context.Context, msg *gomail.Msg) error {
	var conns connSet
	defer conns.closeAll()
	stop := context.AfterFunc(ctx, conns.closeAll)
	defer stop()

	opts := []gomail.Option{
		gomail.WithPort(s.port),
		// go-mail's own per-command deadline is only a backstop: ctx ends
		// first and closes the connection, so the error is ctx's.
		gomail.WithTimeout(s.timeout + time.Second),
		gomail.WithTLSConfig(s.tlsConfig),
		gomail.WithTLSPolicy(s.policy.startTLS),
		gomail.WithDialContextFunc(s.dialer(&conns)),
	}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	}
	if s.hasAuth {
		opts = append(opts, gomail.WithSMTPAuthCustom(&guardedAuth{
			user: s.user, pass: s.pass, host: s.host, cleartextOK: s.policy.cleartextAuth,
		}))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// dialer returns the dial function of one delivery: TCP, then the TLS
// handshake for smtps://, each connection recorded in conns.
func (s *SMTP) dialer(conns *connSet) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if s.dialAddr != "" {
			addr = s.dialAddr
		}
		var d net.Dialer
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if !conns.add(raw) {
			return nil, net.ErrClosed
		}
		if !s.implicit {
			return raw, nil
		}
		tc := tls.Client(raw, s.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return tc, nil
	}
}

// connSet is the connections of one delivery.
type connSet struct {
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

// add records c, or closes it and reports false when the set is closed.
func (cs *connSet) add(c net.Conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		_ = c.Close()
		return false
	}
	cs.conns = append(cs.conns, c)
	return true
}

// closeAll closes the raw connections, so that a blocked read or write
// returns, and refuses later ones.
func (cs *connSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	for _, c := range cs.conns {
		_ = c.Close()
	}
	cs.conns = nil
}

// authMechanisms are the SASL mechanisms guardedAuth offers, best first.
var authMechanisms = []string{"PLAIN", "LOGIN"}

// guardedAuth picks PLAIN or LOGIN among those the server offers, and
// refuses to start unless the connection is encrypted or cleartext AUTH is
// allowed (a loopback host). It backs up the mandatory STARTTLS policy: the
// credentials cannot leave in clear text even if that policy were lifted.
type guardedAuth struct {
	user, pass, host string
	cleartextOK      bool
	inner            gosmtp.Auth
}

// Start implements smtp.Auth.
func (a *guardedAuth) Start(server *gosmtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !a.cleartextOK {
		return "", nil, errCleartextAuth
	}
	for _, mech := range authMechanisms {
		if !slices.Contains(server.Auth, mech) {
			continue
		}
		// The check above is ours; the inner mechanisms' own TLS check
		// knows nothing of loopback IPs other than 127.0.0.1 and ::1.
		switch mech {
		case "PLAIN":
			a.inner = gosmtp.PlainAuth("", a.user, a.pass, a.host, true)
		case "LOGIN":
			a.inner = gosmtp.LoginAuth(a.user, a.pass, a.host, true)
		}
		return a.inner.Start(server)
	}
	return "", nil, fmt.Errorf("server offers none of the AUTH mechanisms %s (it offers %s)",
		strings.Join(authMechanisms, ", "), strings.Join(server.Auth, ", "))
}

// Next implements smtp.Auth.
func (a *guardedAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if a.inner == nil {
		return nil, errors.New("smtp auth not started")
	}
	return a.inner.Next(fromServer, more)
}
