package impl

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/pages"
)

// The authorization endpoint: the request is validated by auth (an error
// page for an unknown client or redirect URI, a redirect for every other
// fault), then the hosted sign-in page, whose form posts back here with
// the request's parameters and a CSRF token bound to them.

// csrfCookie holds the random value a page's CSRF token is derived from,
// with the request's parameters: a token is good for one request, in the
// browser that holds the cookie, and no server-side state is kept.
const csrfCookie = "__Host-gatehouse-csrf"

// pageResponse is a hosted page or an authorization redirect, written
// as is: its headers (CSP, framing, caching, cookies, Location) are the
// page's own.
type pageResponse struct {
	status int
	header http.Header
	body   []byte
}

func (p pageResponse) write(w http.ResponseWriter) error {
	for k, v := range p.header {
		w.Header()[k] = v
	}
	w.WriteHeader(p.status)
	_, err := w.Write(p.body)
	return err
}

func (p pageResponse) VisitAuthorizeResponse(w http.ResponseWriter) error     { return p.write(w) }
func (p pageResponse) VisitAuthorizeFormResponse(w http.ResponseWriter) error { return p.write(w) }

// Authorize is GET /oauth/authorize.
func (h *Handlers) Authorize(ctx context.Context, req api.AuthorizeRequestObject) (api.AuthorizeResponseObject, error) {
	q := req.Params
	p := auth.AuthParams{
		ClientID: deref(q.ClientId), RedirectURI: deref(q.RedirectUri), ResponseType: deref(q.ResponseType),
		ResponseMode: deref(q.ResponseMode), Scope: deref(q.Scope), State: deref(q.State), Nonce: deref(q.Nonce),
		CodeChallenge: deref(q.CodeChallenge), CodeChallengeMethod: deref(q.CodeChallengeMethod),
		Prompt: deref(q.Prompt), MaxAge: deref(q.MaxAge), LoginHint: deref(q.LoginHint),
		Request: deref(q.Request), RequestURI: deref(q.RequestUri), Repeated: infoFrom(ctx).repeated,
	}
	return h.authorize(ctx, p, nil, http.StatusFound)
}

// AuthorizeForm is POST /oauth/authorize: the request by form, or the
// sign-in page's form.
func (h *Handlers) AuthorizeForm(ctx context.Context, req api.AuthorizeFormRequestObject) (api.AuthorizeFormResponseObject, error) {
	b := req.Body
	if b == nil {
		b = &api.AuthorizeFormFormdataRequestBody{}
	}
	p := auth.AuthParams{
		ClientID: deref(b.ClientId), RedirectURI: deref(b.RedirectUri), ResponseType: deref(b.ResponseType),
		ResponseMode: deref(b.ResponseMode), Scope: deref(b.Scope), State: deref(b.State), Nonce: deref(b.Nonce),
		CodeChallenge: deref(b.CodeChallenge), CodeChallengeMethod: deref(b.CodeChallengeMethod),
		Prompt: deref(b.Prompt), MaxAge: deref(b.MaxAge), LoginHint: deref(b.LoginHint),
		Request: deref(b.Request), RequestURI: deref(b.RequestUri), Repeated: infoFrom(ctx).repeated,
	}
	var signIn *signInForm
	if b.Login != nil || b.Password != nil || b.CsrfToken != nil || b.MfaToken != nil || b.Code != nil {
		signIn = &signInForm{login: deref(b.Login), password: deref(b.Password), csrf: deref(b.CsrfToken),
			mfaToken: deref(b.MfaToken), code: deref(b.Code)}
	}
	return h.authorize(ctx, p, signIn, http.StatusSeeOther)
}

// signInForm is what the sign-in page (login, password) or the second
// step's (mfaToken, code) posts besides the request.
type signInForm struct{ login, password, csrf, mfaToken, code string }

// authorize answers an authorization request, and the sign-in form when
// f is not nil; a redirect has status redirect (302 for GET, 303 after a
// form).
func (h *Handlers) authorize(ctx context.Context, p auth.AuthParams, f *signInForm, redirect int) (pageResponse, error) {
	r, err := h.svc.ValidateAuthRequest(ctx, p)
	var page *auth.AuthPageError
	var fault *auth.AuthRedirectError
	switch {
	case errors.As(err, &page):
		return h.errorPage(page.Reason)
	case errors.As(err, &fault):
		return h.authResponse(fault.Request, url.Values{"error": {fault.Code}, "error_description": {fault.Description}}, redirect)
	case err != nil:
		return pageResponse{}, err
	}
	if r.Wants("none") {
		// No browser session yet: every prompt=none needs a sign-in.
		return h.authResponse(r, url.Values{"error": {auth.AuthLoginRequired}, "error_description": {"the user is not signed in"}}, redirect)
	}
	cookie := infoFrom(ctx).csrfCookie
	if f == nil {
		return h.signInPage(r, p, cookie, r.LoginHint, "")
	}
	if cookie == "" || !csrfMatches(f.csrf, cookie, p) {
		return h.errorPage("the sign-in form has expired or was not made for this request: go back to the application and start again")
	}
	var in auth.SignedIn
	var mfa *auth.MFARequiredError
	if f.mfaToken != "" {
		in, err = h.svc.SignInSecondStep(ctx, r, f.mfaToken, f.code, originFrom(ctx))
	} else {
		in, err = h.svc.SignInPassword(ctx, r, f.login, f.password, originFrom(ctx))
	}
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return h.signInPage(r, p, cookie, f.login, "Invalid username or password.")
	case errors.As(err, &mfa):
		return h.formPage(pages.SecondStep, r, p, cookie, pages.Data{}, pages.Field{Name: "mfa_token", Value: mfa.MFAToken})
	case errors.Is(err, auth.ErrInvalidGrant):
		return h.formPage(pages.SecondStep, r, p, cookie, pages.Data{Error: "Wrong or expired code."}, pages.Field{Name: "mfa_token", Value: f.mfaToken})
	case err != nil:
		return pageResponse{}, err
	}
	code, err := h.svc.IssueCode(ctx, r, in)
	if errors.As(err, &fault) {
		return h.authResponse(r, url.Values{"error": {fault.Code}, "error_description": {fault.Description}}, redirect)
	}
	if err != nil {
		return pageResponse{}, err
	}
	return h.authResponse(r, url.Values{"code": {code}}, redirect)
}

// authResponse sends an authorization response to r's redirect URI: a
// redirect, or for form_post a page whose form posts it there.
func (h *Handlers) authResponse(r auth.AuthRequest, fields url.Values, redirect int) (pageResponse, error) {
	if !r.FormPost {
		hd := http.Header{}
		hd.Set("Location", h.svc.AuthRedirect(r, fields))
		hd.Set("Cache-Control", "no-store")
		return pageResponse{status: redirect, header: hd}, nil
	}
	var list []pages.Field
	for k, vs := range h.svc.AuthResponse(r, fields) {
		for _, v := range vs {
			list = append(list, pages.Field{Name: k, Value: v})
		}
	}
	return h.page(http.StatusOK, pages.FormPost, pages.Data{Client: r.App.Name, Action: r.RedirectURI, Fields: list}, r.RedirectURI, "")
}

// signInPage shows the sign-in page for r.
func (h *Handlers) signInPage(r auth.AuthRequest, p auth.AuthParams, cookie, login, problem string) (pageResponse, error) {
	return h.formPage(pages.SignIn, r, p, cookie, pages.Data{Login: login, Error: problem})
}

// formPage shows the page name, whose form continues the request p, with
// its CSRF token and the request's parameters and extra as hidden
// fields, setting the cookie the token is bound to when the browser has
// none.
func (h *Handlers) formPage(name string, r auth.AuthRequest, p auth.AuthParams, cookie string, d pages.Data, extra ...pages.Field) (pageResponse, error) {
	setCookie := ""
	if cookie == "" {
		b := make([]byte, 32)
		rand.Read(b)
		cookie = base64.RawURLEncoding.EncodeToString(b)
		setCookie = (&http.Cookie{Name: csrfCookie, Value: cookie, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}).String()
	}
	// The form carries the request's parameters back.
	for _, kv := range paramList(p) {
		if kv[1] != "" {
			d.Fields = append(d.Fields, pages.Field{Name: kv[0], Value: kv[1]})
		}
	}
	d.Fields = append(d.Fields, extra...)
	d.Client, d.Action, d.CSRF = r.App.Name, "/oauth/authorize", csrfToken(cookie, p)
	return h.page(http.StatusOK, name, d, r.RedirectURI, setCookie)
}

// paramList is p's parameters in their fixed order, by name.
func paramList(p auth.AuthParams) [][2]string {
	return [][2]string{
		{"client_id", p.ClientID}, {"redirect_uri", p.RedirectURI}, {"response_type", p.ResponseType},
		{"response_mode", p.ResponseMode}, {"scope", p.Scope}, {"state", p.State}, {"nonce", p.Nonce},
		{"code_challenge", p.CodeChallenge}, {"code_challenge_method", p.CodeChallengeMethod},
		{"prompt", p.Prompt}, {"max_age", p.MaxAge}, {"login_hint", p.LoginHint},
	}
}

// csrfToken is the CSRF token of the request p in the browser whose
// cookie is cookie.
func csrfToken(cookie string, p auth.AuthParams) string {
	h := sha256.New()
	io.WriteString(h, "gatehouse csrf\x00"+cookie)
	for _, kv := range paramList(p) {
		io.WriteString(h, "\x00"+kv[0]+"="+kv[1])
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func csrfMatches(token, cookie string, p auth.AuthParams) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(csrfToken(cookie, p))) == 1
}

// errorPage is the error page, for a fault that cannot go to a client.
func (h *Handlers) errorPage(detail string) (pageResponse, error) {
	return h.page(http.StatusBadRequest, pages.Error, pages.Data{Detail: detail}, "", "")
}

// page renders a hosted page with its headers: the console's CSP, whose
// form-action also allows the origin of redirectTo when the page's form
// ends at the client, no framing, no caching, and setCookie when set.
func (h *Handlers) page(status int, name string, d pages.Data, redirectTo, setCookie string) (pageResponse, error) {
	var b bytes.Buffer
	if err := h.pages.Render(&b, name, d); err != nil {
		return pageResponse{}, err
	}
	csp := ConsoleCSP
	if u, err := url.Parse(redirectTo); err == nil && redirectTo != "" {
		csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+u.Scheme+"://"+u.Host, 1)
	}
	hd := http.Header{}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	if setCookie != "" {
		hd.Set("Set-Cookie", setCookie)
	}
	return pageResponse{status: status, header: hd, body: b.Bytes()}, nil
}

// repeatedParam returns the first parameter of r's query, or of its form
// body, sent more than once (RFC 6749 §3.1), "" when none is, and keeps
// only the first value of each, so that the validator and the binding
// pass the request to the handler, which answers the fault as the
// authorization endpoint must (a redirect to a known client).
func repeatedParam(r *http.Request) string {
	repeated := ""
	first := func(v url.Values) url.Values {
		for k, vs := range v {
			if len(vs) > 1 {
				if repeated == "" || k < repeated {
					repeated = k
				}
				v[k] = vs[:1]
			}
		}
		return v
	}
	if q := r.URL.Query(); len(q) > 0 {
		r.URL.RawQuery = first(q).Encode()
	}
	if r.Method == http.MethodPost && r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if v, perr := url.ParseQuery(string(b)); err == nil && perr == nil && len(b) <= MaxBodyBytes {
			b = []byte(first(v).Encode())
			r.ContentLength = int64(len(b))
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return repeated
}
