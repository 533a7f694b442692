package pages

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPages: every page renders with its labelled controls, values are
// escaped, and an override directory replaces pages file by file; a
// misspelt or broken override fails at New.
func TestPages(t *testing.T) {
	p, err := New("", "gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Client: `<script>alert(1)</script>`, Action: "/oauth/authorize", CSRF: "tok", Login: `a"b`,
		Scopes: []string{"Read your profile"}, Detail: "unknown client",
		Fields: []Field{{"code", "abc"}, {"state", `"><x>`}}}
	for _, tc := range []struct {
		page string
		want []string
	}{
		{SignIn, []string{`<label for="login">Username or e-mail</label>`, `<label for="password">Password</label>`, `>Sign in</button>`,
			`name="csrf_token" value="tok"`, `value="a&#34;b"`, "&lt;script&gt;"}},
		{SecondStep, []string{`<label for="code">Code</label>`, `name="code" value="abc"`}},
		{Consent, []string{`value="allow">Allow</button>`, `value="deny">Deny</button>`, "<li>Read your profile</li>"}},
		{SignedOut, []string{"You are signed out of gatehouse."}},
		{Error, []string{"unknown client"}},
		{FormPost, []string{`name="code" value="abc"`, `value="&#34;&gt;&lt;x&gt;"`}},
	} {
		var b strings.Builder
		if err := p.Render(&b, tc.page, d); err != nil {
			t.Fatalf("%s: %v", tc.page, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s lacks %s:\n%s", tc.page, w, b.String())
			}
		}
		if strings.Contains(b.String(), "<script>") {
			t.Errorf("%s holds a script:\n%s", tc.page, b.String())
		}
	}

	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("signed_out.html", `{{define "title"}}Bye{{end}}{{define "main"}}<p>See you, from {{.Product}}.</p>{{end}}`)
	o, err := New(dir, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	var out, in strings.Builder
	if err := o.Render(&out, SignedOut, Data{}); err != nil || !strings.Contains(out.String(), "See you, from Acme.") || !strings.Contains(out.String(), "<title>Bye · Acme</title>") {
		t.Errorf("overridden page: %v\n%s", err, out.String())
	}
	if err := o.Render(&in, SignIn, d); err != nil || !strings.Contains(in.String(), "Username or e-mail") {
		t.Errorf("a page not overridden stays embedded: %v\n%s", err, in.String())
	}

	for name, text := range map[string]string{
		"sign_in.html": `{{define "title"}}x{{end}}{{define "main"}}x{{end}}`,
		"signin.html":  `{{define "title"}}x{{end}}`,
		"consent.html": `{{define "title"}}{{end}}{{define "main"}}{{.NoSuchField}}{{end}}`,
		"layout.html":  `{{template "title" .}`,
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := New(bad, "gatehouse"); err == nil {
			t.Errorf("an override %s of %q was taken", name, text)
		}
	}
}
