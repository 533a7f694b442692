package bench

import (
	"context"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/mail"
	"github.com/gatehouse-auth/gatehouse/store"
)

// sinkSession accepts and discards every message.
type sinkSession struct{}

func (sinkSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (sinkSession) Data(r io.Reader) error                 { _, err := io.Copy(io.Discard, r); return err }
func (sinkSession) Reset()                                 {}
func (sinkSession) Logout() error                          { return nil }

// startSink runs an SMTP server on loopback that discards what it gets.
func startSink(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return sinkSession{}, nil }))
	srv.Domain = "localhost"
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// BenchmarkForgotPassword times POST /v1/password/forgot for a known and
// an unknown address, alternating, and reports each median and their
// ratio: an enumeration by timing would compare them. The known user's
// mails really go out (to an SMTP sink on loopback), in the background as
// in production; the per-address limits are lifted so that every known
// request makes a token and a mail rather than being held back.
func BenchmarkForgotPassword(b *testing.B) {
	ctx := context.Background()
	sender, err := mail.NewSMTP("smtp://"+startSink(b), "gatehouse <noreply@bench.example>")
	if err != nil {
		b.Fatal(err)
	}
	c, inst := startInstance(b, auth.Config{Mailer: sender, MailLimits: []store.MailLimit{{Window: time.Minute, Max: 1 << 30}}})
	if _, err := inst.Service.CreateUser(ctx, auth.NewUser{Username: "known", Password: benchPassword, Email: "known@bench.example"}, "", auth.Origin{}); err != nil {
		b.Fatal(err)
	}
	var known, unknown []time.Duration
	i := 0
	for b.Loop() {
		addr, took := "known@bench.example", &known
		if i%2 == 1 {
			addr, took = "unknown@bench.example", &unknown
		}
		i++
		start := time.Now()
		r, err := c.ForgotPasswordWithResponse(ctx, client.PasswordForgotRequest{Email: client.Email(addr)})
		*took = append(*took, time.Since(start))
		if err != nil || r.JSON202 == nil {
			b.Fatalf("forgot: %v %d", err, r.StatusCode())
		}
	}
	inst.Service.WaitMail()
	if len(unknown) == 0 {
		return
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	mk, mu := median(known), median(unknown)
	b.ReportMetric(float64(mk.Nanoseconds()), "known-median-ns")
	b.ReportMetric(float64(mu.Nanoseconds()), "unknown-median-ns")
	b.ReportMetric(float64(mk)/float64(mu), "known/unknown")
}
