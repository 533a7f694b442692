package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates/*
var embedded embed.FS

// The blocks each kind's files must define. layout.txt and layout.html use
// them; the subject is defined in the kind's text file.
var (
	textBlocks = []string{"subject", "content", "note"}
	htmlBlocks = []string{"content", "action", "note"}
)

// templateData is what every template gets. The fields are documented in
// doc.go for those who write an override directory.
type templateData struct {
	Product   string
	Username  string
	Link      string
	Token     string
	ExpiresIn string
	Subject   string // the rendered subject, for the HTML title
}

// rendered is one message ready to send.
type rendered struct {
	Subject, Text, HTML string
}

// kindTemplates is the parsed pair of template sets of one kind.
type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates holds the parsed templates of every kind.
type templates struct {
	product string
	kinds   map[Kind]kindTemplates
}

// templateFileNames lists every file a templates directory may hold.
func templateFileNames() []string {
	names := []string{"layout.txt", "layout.html"}
	for _, k := range kinds {
		names = append(names, string(k)+".txt", string(k)+".html")
	}
	return names
}

// templateSource reads a template file from the override directory when it
// holds one of that name, and from the embedded set otherwise.
type templateSource struct {
	dir string // "" for embedded only
}

func (s templateSource) read(name string) (text, origin string, err error) {
	if s.dir != "" {
		path := filepath.Join(s.dir, name)
		b, err := os.ReadFile(path)
		if err == nil {
			return string(b), path, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("read template: %w", err)
		}
	}
	b, err := embedded.ReadFile("templates/" + name)
	if err != nil {
		return "", "", fmt.Errorf("read embedded template %s: %w", name, err)
	}
	return string(b), "embedded " + name, nil
}

// checkDir makes sure dir is a directory whose template files all have a
// known name, so that a misspelt override fails at start-up instead of being
// ignored.
func (s templateSource) checkDir() error {
	if s.dir == "" {
		return nil
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read templates directory: %w", err)
	}
	known := templateFileNames()
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".txt" && ext != ".html") {
			continue
		}
		if !slices.Contains(known, e.Name()) {
			return fmt.Errorf("templates directory %s: unknown template %s (known: %s)",
				s.dir, e.Name(), strings.Join(known, ", "))
		}
	}
	return nil
}

// loadTemplates parses the templates of every kind, each file taken from dir
// when present there and from the embedded set otherwise, and renders each
// kind once with sample data so that a template that cannot execute fails
// here and not at the first send.
func loadTemplates(dir, product string) (*templates, error) {
	src := templateSource{dir: dir}
	if err := src.checkDir(); err != nil {
		return nil, err
	}
	t := &templates{product: product, kinds: make(map[Kind]kindTemplates, len(kinds))}
	for _, k := range kinds {
		kt, err := parseKind(src, k)
		if err != nil {
			return nil, err
		}
		t.kinds[k] = kt
		sample := Message{
			To: "user@example.com", Username: "user", Link: "https://example.com/?token=T",
			Token: "T", ExpiresIn: time.Hour,
		}
		if _, err := t.render(k, sample); err != nil {
			return nil, fmt.Errorf("try templates of %s: %w", k, err)
		}
	}
	return t, nil
}

func parseKind(src templateSource, k Kind) (kindTemplates, error) {
	var kt kindTemplates
	layout, layoutOrigin, err := src.read("layout.txt")
	if err != nil {
		return kt, err
	}
	body, bodyOrigin, err := src.read(string(k) + ".txt")
	if err != nil {
		return kt, err
	}
	kt.text = texttemplate.New("layout.txt")
	if _, err := kt.text.Parse(layout); err != nil {
		return kt, fmt.Errorf("parse template %s: %w", layoutOrigin, err)
	}
	if _, err := kt.text.New(string(k) + ".txt").Parse(body); err != nil {
		return kt, fmt.Errorf("parse template %s: %w", bodyOrigin, err)
	}
	for _, b := range textBlocks {
		if kt.text.Lookup(b) == nil {
			return kt, fmt.Errorf("template %s: missing {{define %q}}", bodyOrigin, b)
		}
	}

	layout, layoutOrigin, err = src.read("layout.html")
	if err != nil {
		return kt, err
	}
	body, bodyOrigin, err = src.read(string(k) + ".html")
	if err != nil {
		return kt, err
	}
	kt.html = htmltemplate.New("layout.html")
	if _, err := kt.html.Parse(layout); err != nil {
		return kt, fmt.Errorf("parse template %s: %w", layoutOrigin, err)
	}
	if _, err := kt.html.New(string(k) + ".html").Parse(body); err != nil {
		return kt, fmt.Errorf("parse template %s: %w", bodyOrigin, err)
	}
	for _, b := range htmlBlocks {
		if kt.html.Lookup(b) == nil {
			return kt, fmt.Errorf("template %s: missing {{define %q}}", bodyOrigin, b)
		}
	}
	return kt, nil
}

// render renders the subject and both parts of one message. Its errors never
// contain the link or the token.
func (t *templates) render(k Kind, m Message) (rendered, error) {
	kt, ok := t.kinds[k]
	if !ok {
		return rendered{}, fmt.Errorf("unknown mail kind %q", k)
	}
	if err := validateMessage(m); err != nil {
		return rendered{}, err
	}
	data := templateData{
		Product: t.product, Username: m.Username, Link: m.Link, Token: m.Token,
		ExpiresIn: humanDuration(m.ExpiresIn),
	}
	var subject, text, html bytes.Buffer
	if err := kt.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return rendered{}, fmt.Errorf("render subject: %w", err)
	}
	data.Subject = strings.TrimSpace(subject.String())
	if data.Subject == "" || strings.ContainsAny(data.Subject, "\r\n") {
		return rendered{}, errors.New("render subject: it must be one line, not empty")
	}
	if err := kt.text.Execute(&text, data); err != nil {
		return rendered{}, fmt.Errorf("render text part: %w", err)
	}
	if err := kt.html.Execute(&html, data); err != nil {
		return rendered{}, fmt.Errorf("render html part: %w", err)
	}
	return rendered{Subject: data.Subject, Text: text.String(), HTML: html.String()}, nil
}

// validateMessage checks what the templates need. Its errors name the field
// and never echo the link or the token.
func validateMessage(m Message) error {
	if m.Token == "" {
		return errors.New("message has no token")
	}
	if m.ExpiresIn <= 0 {
		return errors.New("message expiry must be positive")
	}
	u, err := url.Parse(m.Link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("message link must be an absolute http or https URL")
	}
	return nil
}
