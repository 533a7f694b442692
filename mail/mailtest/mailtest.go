// Package mailtest holds what the tests of mail and of the server share to
// check mail delivered over real SMTP: running a loopback SMTP server, a
// self-signed certificate for it, and a parser for the
// multipart/alternative messages mail sends.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// Serve runs srv on ln as a loopback test server (domain localhost, read
// and write timeouts of timeout) until the test ends, then closes it and
// waits for it to stop.
func Serve(t testing.TB, srv *gosmtp.Server, ln net.Listener, timeout time.Duration) {
	t.Helper()
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = timeout, timeout
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		// srv.Close closes only the listeners Serve has registered: if the
		// test ends before that goroutine ran, closing ln is what ends it.
		_ = srv.Close()
		_ = ln.Close()
		<-done
	})
}

// SelfSignedTLS returns a server config with a fresh self-signed
// certificate for 127.0.0.1, ::1, localhost and mail.example.com, and a
// client config that trusts it.
func SelfSignedTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gatehouse mail test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost", "mail.example.com"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}

// Message is a delivered DATA, parsed with net/mail and mime/multipart.
type Message struct {
	Header     netmail.Header
	From, To   string // the header fields
	Subject    string // decoded
	Text, HTML string // the parts, quoted-printable decoded
}

// Parse reads a multipart/alternative message with a UTF-8 text/plain and
// text/html part.
func Parse(data []byte) (Message, error) {
	msg, err := netmail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		return Message{}, fmt.Errorf("read message: %w", err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, fmt.Errorf("decode subject: %w", err)
	}
	p := Message{Header: msg.Header, From: msg.Header.Get("From"), To: msg.Header.Get("To"), Subject: subject}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		return Message{}, fmt.Errorf("content type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Message{}, fmt.Errorf("next part: %w", err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return Message{}, fmt.Errorf("read part: %w", err)
		}
		pt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return Message{}, fmt.Errorf("part content type: %w", err)
		}
		if cs := strings.ToLower(pparams["charset"]); cs != "utf-8" {
			return Message{}, fmt.Errorf("part %s charset %q, want utf-8", pt, cs)
		}
		switch pt {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		default:
			return Message{}, fmt.Errorf("unexpected part %s", pt)
		}
	}
	if p.Text == "" || p.HTML == "" {
		return Message{}, fmt.Errorf("want a text/plain and a text/html part, got text %d bytes, html %d bytes", len(p.Text), len(p.HTML))
	}
	return p, nil
}
