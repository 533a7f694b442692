package mail

import (
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRenderedMessages sends each kind over SMTP and reads the delivered
// DATA back: headers, both parts, the link and the token where they belong,
// HTML escaping, and no secret where it does not belong.
func TestRenderedMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind        Kind
		product     string
		expiresIn   time.Duration
		wantSubject string
		wantExpiry  string
	}{
		{KindVerify, "", 24 * time.Hour, "Confirm your e-mail address for gatehouse", "24 hours"},
		{KindReset, "", time.Hour, "Reset your gatehouse password", "1 hour"},
		{KindInvite, "Acme ID", 7 * 24 * time.Hour, "You are invited to Acme ID", "7 days"},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, serverConfig{user: "mailer", pass: testPassword})
			s := newTestSMTP(t, "smtp://mailer:"+testPassword+"@127.0.0.1:"+ts.port(), WithProduct(tc.product))
			m := testMessage()
			m.Username = `ann<b>&"x"`
			m.ExpiresIn = tc.expiresIn
			m.To = "Ann Example <" + testTo + ">"
			if err := s.Send(t.Context(), tc.kind, m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			data := ts.recorded()[0].Data
			got := parseMail(t, data)

			product := tc.product
			if product == "" {
				product = DefaultProduct
			}
			type headers struct{ From, To, Subject string }
			if diff := cmp.Diff(headers{
				From:    `"Gatehouse" <no-reply@example.com>`,
				To:      `"Ann Example" <` + testTo + `>`,
				Subject: tc.wantSubject,
			}, headers{got.From, got.To, got.Subject}); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}

			// Text part: the link, the token alone on its line, the
			// expiry, the product and the raw username.
			textLines := strings.Split(strings.ReplaceAll(got.Text, "\r\n", "\n"), "\n")
			for _, line := range []string{m.Link, m.Token, "-- ", product} {
				if !contains(textLines, line) {
					t.Errorf("text part has no line %q:\n%s", line, got.Text)
				}
			}
			for _, s := range []string{"expire in " + tc.wantExpiry, m.Username} {
				if !strings.Contains(got.Text, s) {
					t.Errorf("text part lacks %q:\n%s", s, got.Text)
				}
			}

			// HTML part: every href is the link, attribute-escaped, and
			// the username is escaped as text.
			if !strings.Contains(got.HTML, `href="https://id.example.com/verify?lang=en&amp;token=`+testToken+`"`) {
				t.Errorf("html part lacks the escaped link:\n%s", got.HTML)
			}
			hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(got.HTML, -1)
			if len(hrefs) == 0 {
				t.Fatalf("html part has no link:\n%s", got.HTML)
			}
			for _, h := range hrefs {
				if u := html.UnescapeString(h[1]); u != m.Link {
					t.Errorf("href %q, want %q", u, m.Link)
				}
			}
			if strings.Contains(got.HTML, "<b>") || !strings.Contains(got.HTML, "ann&lt;b&gt;&amp;&#34;x&#34;") {
				t.Errorf("html part does not escape the username:\n%s", got.HTML)
			}
			for _, s := range []string{"<!DOCTYPE html>", `<html lang="en">`, "<title>" + html.EscapeString(tc.wantSubject) + "</title>", tc.wantExpiry} {
				if !strings.Contains(got.HTML, s) {
					t.Errorf("html part lacks %q", s)
				}
			}
			if regexp.MustCompile(`(?i)<(img|script|link)\b|src=|url\(`).MatchString(got.HTML) {
				t.Errorf("html part loads external assets or runs script:\n%s", got.HTML)
			}

			// Nothing secret outside the body: no password anywhere, and
			// the token only in the two parts, never in a header.
			if strings.Contains(string(data), testPassword) {
				t.Error("the SMTP password is in the message")
			}
			for name, values := range got.Header {
				for _, v := range values {
					if strings.Contains(v, m.Token) {
						t.Errorf("header %s holds the token", name)
					}
				}
			}
			for _, name := range []string{"User-Agent", "X-Mailer"} {
				if v := got.Header.Get(name); v != "" {
					t.Errorf("header %s: %q, want none", name, v)
				}
			}
			if got.Header.Get("Message-Id") == "" || got.Header.Get("Date") == "" {
				t.Error("message lacks Message-ID or Date")
			}
		})
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestTemplatesOverride replaces one file in the override directory: that
// file's text is used, and every other file stays embedded.
func TestTemplatesOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "reset.txt", `{{define "subject"}}New password for {{.Product}}{{end}}
{{define "content"}}Custom reset for {{.Username}}: {{.Link}}{{end}}
{{define "note"}}Custom note.{{end}}`)
	writeFile(t, dir, "README.md", "notes for the operator, ignored") // not a template name pattern

	ts := startServer(t, serverConfig{})
	s := newTestSMTP(t, "smtp://127.0.0.1:"+ts.port(), WithTemplatesDir(dir))
	for _, k := range []Kind{KindReset, KindVerify} {
		if err := s.Send(t.Context(), k, testMessage()); err != nil {
			t.Fatalf("Send %s: %v", k, err)
		}
	}
	sessions := ts.recorded()
	reset, verify := parseMail(t, sessions[0].Data), parseMail(t, sessions[1].Data)

	embedded := newTestSMTP(t, "smtp://127.0.0.1:25")
	wantVerify, err := embedded.tmpl.render(KindVerify, testMessage())
	if err != nil {
		t.Fatal(err)
	}
	wantReset, err := embedded.tmpl.render(KindReset, testMessage())
	if err != nil {
		t.Fatal(err)
	}

	if reset.Subject != "New password for gatehouse" {
		t.Errorf("reset subject %q", reset.Subject)
	}
	if !strings.Contains(reset.Text, "Custom reset for ann: "+testMessage().Link) || !strings.Contains(reset.Text, "Custom note.") {
		t.Errorf("reset text is not the override:\n%s", reset.Text)
	}
	if !strings.Contains(reset.Text, "\r\n"+testToken+"\r\n") {
		t.Errorf("reset text lost the embedded layout's token line:\n%s", reset.Text)
	}
	// The HTML title shows the subject, which the override changed.
	wantResetHTML := strings.Replace(wantReset.HTML, wantReset.Subject, "New password for gatehouse", 1)
	if diff := cmp.Diff(crlf(wantResetHTML), reset.HTML); diff != "" {
		t.Errorf("reset html is not the embedded one (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(rendered{wantVerify.Subject, crlf(wantVerify.Text), crlf(wantVerify.HTML)},
		rendered{verify.Subject, verify.Text, verify.HTML}); diff != "" {
		t.Errorf("verify is not the embedded one (-want +got):\n%s", diff)
	}
}

// crlf turns line ends into the CRLF that SMTP delivers.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func writeFile(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTemplatesDirErrors gives broken override directories: each fails at
// construction and names the file and the problem.
func TestTemplatesDirErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"parse error", map[string]string{"verify.html": `{{define "content"}}<p>{{.Username}</p>{{end}}`},
			[]string{"parse template", "verify.html:1"}},
		{"parse error in the layout", map[string]string{"layout.txt": "{{if .Link}}no end"},
			[]string{"parse template", "layout.txt"}},
		{"missing block", map[string]string{"invite.html": `{{define "content"}}x{{end}}{{define "note"}}y{{end}}`},
			[]string{"invite.html", `missing {{define "action"}}`}},
		{"unknown field", map[string]string{"reset.txt": `{{define "subject"}}{{.Nope}}{{end}}{{define "content"}}{{end}}{{define "note"}}{{end}}`},
			[]string{"try templates of reset", "Nope"}},
		{"subject on two lines", map[string]string{"verify.txt": "{{define \"subject\"}}a\nb{{end}}{{define \"content\"}}{{end}}{{define \"note\"}}{{end}}"},
			[]string{"subject", "one line"}},
		{"misspelt file", map[string]string{"verfy.txt": "x"},
			[]string{"unknown template verfy.txt"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, text := range tc.files {
				writeFile(t, dir, name, text)
			}
			_, err := NewSMTP("smtp://127.0.0.1:25", testFrom, WithTemplatesDir(dir))
			checkErr(t, err, tc.want)
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		_, err := NewSMTP("smtp://127.0.0.1:25", testFrom, WithTemplatesDir(filepath.Join(t.TempDir(), "nope")))
		checkErr(t, err, []string{"templates directory"})
	})
}

// TestSendRejectsBadMessage checks the message before any connection: the
// server sees nothing, and the error holds neither link nor token.
func TestSendRejectsBadMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		kind   Kind
		change func(*Message)
		want   string
	}{
		{"unknown kind", "welcome", func(*Message) {}, `unknown mail kind "welcome"`},
		{"no token", KindVerify, func(m *Message) { m.Token = "" }, "no token"},
		{"no expiry", KindReset, func(m *Message) { m.ExpiresIn = 0 }, "expiry must be positive"},
		{"relative link", KindInvite, func(m *Message) { m.Link = "/verify?token=" + testToken }, "absolute http or https"},
		{"script link", KindInvite, func(m *Message) { m.Link = "javascript:alert('" + testToken + "')" }, "absolute http or https"},
		{"bad recipient", KindVerify, func(m *Message) { m.To = "ann at example.org" }, "parse recipient"},
	}
	ts := startServer(t, serverConfig{})
	s := newTestSMTP(t, "smtp://127.0.0.1:"+ts.port())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := testMessage()
			tc.change(&m)
			checkErr(t, s.Send(t.Context(), tc.kind, m), []string{tc.want}, testToken, m.Link)
		})
	}
	if n := len(ts.recorded()); n != 0 {
		t.Errorf("the server saw %d sessions, want none", n)
	}
}

// TestHumanDuration checks the expiry wording.
func TestHumanDuration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    time.Duration
		want string
	}{
		{7 * 24 * time.Hour, "7 days"},
		{2 * 24 * time.Hour, "2 days"},
		{24 * time.Hour, "24 hours"},
		{36 * time.Hour, "36 hours"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "90 minutes"},
		{time.Minute, "1 minute"},
		{15*time.Minute + 30*time.Second, "15 minutes"},
		{45 * time.Second, "45 seconds"},
		{time.Second, "1 second"},
	}
	for _, tc := range cases {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
