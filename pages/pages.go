// Package pages renders gatehouse's hosted pages: sign-in, the second
// step, consent, signed out, the error page, and the form that posts an
// authorization response (form_post). They are html/template files,
// embedded, each of which a file of the same name in an override
// directory (--pages-templates) replaces; no page needs script.
package pages

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed templates/*.html
var embedded embed.FS

// The pages, by template name.
const (
	SignIn     = "signin"
	SecondStep = "second_step"
	Consent    = "consent"
	SignedOut  = "signed_out"
	Error      = "error"
	FormPost   = "form_post"
)

var names = []string{SignIn, SecondStep, Consent, SignedOut, Error, FormPost}

// Data is what every page gets; each page reads the fields it names.
type Data struct {
	// Product is the product's name, in every title.
	Product string
	// Client is the name of the application the user signs in to.
	Client string
	// Action is where the page's form posts and CSRF the token bound to
	// the request the form continues.
	Action, CSRF string
	// Login fills the sign-in page's login field (login_hint).
	Login string
	// Error says, in words, why the last attempt failed.
	Error string
	// Scopes are the consent page's scopes, in words.
	Scopes []string
	// Detail is the error page's explanation.
	Detail string
	// Fields are the hidden fields of the page's form: the authorization
	// request's parameters, or the form_post page's response.
	Fields []Field
}

// Field is a named value of a form.
type Field struct{ Name, Value string }

// Pages holds the parsed pages.
type Pages struct {
	product string
	pages   map[string]*template.Template
}

// New parses every page, each file taken from dir when it holds one of
// that name ("" for the embedded ones only), and renders each once with
// sample data, so that a broken or misspelt override fails here and not
// at a user's sign-in.
func New(dir, product string) (*Pages, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	p := &Pages{product: product, pages: map[string]*template.Template{}}
	for _, name := range names {
		var t *template.Template
		for _, file := range []string{"layout.html", name + ".html"} {
			text, origin, err := read(dir, file)
			if err != nil {
				return nil, err
			}
			if t == nil {
				t = template.New(file)
			} else {
				t = t.New(file)
			}
			if _, err := t.Parse(text); err != nil {
				return nil, fmt.Errorf("parse page %s: %w", origin, err)
			}
		}
		for _, block := range []string{"title", "main"} {
			if t.Lookup(block) == nil {
				return nil, fmt.Errorf("page %s: missing {{define %q}}", name, block)
			}
		}
		p.pages[name] = t
		sample := Data{Client: "App", Action: "/oauth/authorize", CSRF: "C", Login: "user",
			Error: "E", Scopes: []string{"S"}, Detail: "D", Fields: []Field{{"code", "X"}}}
		if err := p.Render(io.Discard, name, sample); err != nil {
			return nil, fmt.Errorf("try page %s: %w", name, err)
		}
	}
	return p, nil
}

// Render writes the page name with d; d.Product is the Pages' product.
// It renders into a buffer first, so a failing page writes nothing.
func (p *Pages) Render(w io.Writer, name string, d Data) error {
	t, ok := p.pages[name]
	if !ok {
		return fmt.Errorf("unknown page %q", name)
	}
	d.Product = p.product
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", d); err != nil {
		return fmt.Errorf("render page %s: %w", name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// read reads a template file from dir when it holds one of that name, and
// from the embedded set otherwise.
func read(dir, name string) (text, origin string, err error) {
	if dir != "" {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err == nil {
			return string(b), path, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("read page: %w", err)
		}
	}
	b, err := embedded.ReadFile("templates/" + name)
	if err != nil {
		return "", "", fmt.Errorf("read embedded page %s: %w", name, err)
	}
	return string(b), "embedded " + name, nil
}

// checkDir makes sure every .html file in dir is a page's or the layout,
// so that a misspelt override fails at start-up instead of being ignored.
func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read pages directory: %w", err)
	}
	known := []string{"layout.html"}
	for _, n := range names {
		known = append(known, n+".html")
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".html" {
			continue
		}
		if !slices.Contains(known, e.Name()) {
			return fmt.Errorf("pages directory %s: unknown page %s (known: %s)", dir, e.Name(), strings.Join(known, ", "))
		}
	}
	return nil
}
