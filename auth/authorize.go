package auth

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/store"
)

// The authorization request of the code flow (OpenID Connect Core 1.0
// §3.1.2, OAuth 2.1 §4.1), validated step by step before any page is
// shown, in the order zitadel/oidc's ValidateAuthRequest takes: the
// client, its redirect URI (exactly), then everything else. Until the
// redirect URI is known to be the client's, a fault is an error page
// (AuthPageError) and never a redirect, so gatehouse is no open
// redirector (RFC 9700 §4.11); after, every fault is redirected to it
// (AuthRedirectError) with state and iss (RFC 9207).

// AuthParams are the parameters of an authorization request as sent.
type AuthParams struct {
	ClientID, RedirectURI, ResponseType, ResponseMode string
	Scope, State, Nonce                               string
	CodeChallenge, CodeChallengeMethod                string
	Prompt, MaxAge, LoginHint                         string
	// Request and RequestURI are OpenID Connect request objects, which
	// gatehouse does not take.
	Request, RequestURI string
	// Repeated names a parameter sent more than once ("" when none was).
	Repeated string
}

// AuthRequest is a validated authorization request.
type AuthRequest struct {
	App         store.Application
	RedirectURI string
	// FormPost: the response is a self-posting form (OAuth 2.0 Form Post
	// Response Mode) rather than the redirect URI's query.
	FormPost      bool
	Scopes        []string
	State, Nonce  string
	CodeChallenge string
	// Prompt holds none, login and consent as asked.
	Prompt []string
	// MaxAge is the most seconds since the user last typed a credential;
	// -1 when not asked.
	MaxAge    int
	LoginHint string
}

// Wants reports whether the request's prompt holds p.
func (r AuthRequest) Wants(p string) bool { return slices.Contains(r.Prompt, p) }

// AuthPageError is a fault of an authorization request that cannot be
// redirected: the client or its redirect URI is not known. The browser
// gets an error page.
type AuthPageError struct{ Reason string }

func (e *AuthPageError) Error() string { return e.Reason }

// AuthRedirectError is a fault of an authorization request that goes back
// to the client's redirect URI (RFC 6749 §4.1.2.1): Code is the error
// code, Description says why, in words.
type AuthRedirectError struct {
	Code, Description string
	Request           AuthRequest
}

func (e *AuthRedirectError) Error() string { return e.Code + ": " + e.Description }

// The error codes of an authorization response (RFC 6749 §4.1.2.1,
// OpenID Connect Core §3.1.2.6).
const (
	AuthInvalidRequest          = "invalid_request"
	AuthUnsupportedResponseType = "unsupported_response_type"
	AuthInvalidScope            = "invalid_scope"
	AuthAccessDenied            = "access_denied"
	AuthLoginRequired           = "login_required"
	AuthConsentRequired         = "consent_required"
	AuthRequestNotSupported     = "request_not_supported"
	AuthRequestURINotSupported  = "request_uri_not_supported"
	AuthServerError             = "server_error"
)

// The scopes of OpenID Connect that gatehouse answers (OpenID Connect
// Core §5.4, §11).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// pkceChallengeRE is an S256 code challenge: the base64url SHA-256 of the
// verifier, 43 characters (RFC 7636 §4.2).
var pkceChallengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// ValidateAuthRequest checks an authorization request in order: the
// client (an *AuthPageError when unknown), the redirect URI, exactly one
// of the client's (an *AuthPageError otherwise; required when the client
// has several), then, each an *AuthRedirectError: no request object, no
// repeated parameter, response_type code, response_mode query or
// form_post, the scopes' form, PKCE with S256, prompt and max_age, and a
// first-party client (consent_required otherwise: there is no consent
// page yet).
func (s *Service) ValidateAuthRequest(ctx context.Context, p AuthParams) (AuthRequest, error) {
	app, known, err := s.lookupClient(ctx, p.ClientID)
	switch {
	case err != nil:
		return AuthRequest{}, err
	case p.ClientID == "":
		return AuthRequest{}, &AuthPageError{"the request names no client (client_id)"}
	case !known:
		return AuthRequest{}, &AuthPageError{"the request names an unknown client"}
	}
	r := AuthRequest{App: app, State: p.State, MaxAge: -1}
	switch {
	case p.RedirectURI != "" && slices.Contains(app.RedirectURIs, p.RedirectURI):
		r.RedirectURI = p.RedirectURI
	case p.RedirectURI != "":
		return AuthRequest{}, &AuthPageError{"the redirect_uri is not one the client registered"}
	case len(app.RedirectURIs) == 1:
		r.RedirectURI = app.RedirectURIs[0]
	case len(app.RedirectURIs) == 0:
		return AuthRequest{}, &AuthPageError{"the client has registered no redirect_uri"}
	default:
		return AuthRequest{}, &AuthPageError{"the client has several redirect URIs: the request must name one (redirect_uri)"}
	}
	// The response mode first: it says how every later fault is sent.
	switch p.ResponseMode {
	case "", "query":
	case "form_post":
		r.FormPost = true
	default:
		return r, authFault(r, AuthInvalidRequest, "response_mode must be query or form_post")
	}
	switch {
	case p.Repeated != "":
		return r, authFault(r, AuthInvalidRequest, p.Repeated+" is repeated")
	case p.Request != "":
		return r, authFault(r, AuthRequestNotSupported, "request objects are not supported")
	case p.RequestURI != "":
		return r, authFault(r, AuthRequestURINotSupported, "request_uri is not supported")
	case p.ResponseType == "":
		return r, authFault(r, AuthInvalidRequest, "response_type is required")
	case p.ResponseType != "code":
		return r, authFault(r, AuthUnsupportedResponseType, "response_type must be code")
	}
	for _, sc := range strings.Fields(p.Scope) {
		if !ValidApplicationScope(sc) {
			return r, authFault(r, AuthInvalidScope, "scope "+strconv.Quote(sc)+" is not a scope name")
		}
		if !slices.Contains(r.Scopes, sc) {
			r.Scopes = append(r.Scopes, sc)
		}
	}
	switch {
	case p.CodeChallenge == "":
		return r, authFault(r, AuthInvalidRequest, "code_challenge is required (PKCE, S256)")
	case p.CodeChallengeMethod != "S256":
		return r, authFault(r, AuthInvalidRequest, "code_challenge_method must be S256")
	case !pkceChallengeRE.MatchString(p.CodeChallenge):
		return r, authFault(r, AuthInvalidRequest, "code_challenge is not a base64url SHA-256 (43 characters)")
	}
	r.CodeChallenge, r.Nonce, r.LoginHint = p.CodeChallenge, p.Nonce, p.LoginHint
	for _, v := range strings.Fields(p.Prompt) {
		if v != "none" && v != "login" && v != "consent" {
			return r, authFault(r, AuthInvalidRequest, "prompt "+strconv.Quote(v)+" is not supported (none, login, consent)")
		}
		r.Prompt = append(r.Prompt, v)
	}
	if r.Wants("none") && len(r.Prompt) > 1 {
		return r, authFault(r, AuthInvalidRequest, "prompt none cannot be combined")
	}
	if p.MaxAge != "" {
		n, err := strconv.Atoi(p.MaxAge)
		if err != nil || n < 0 {
			return r, authFault(r, AuthInvalidRequest, "max_age must be a number of seconds")
		}
		r.MaxAge = n
	}
	if !app.FirstParty {
		// Until the consent page exists, no user is signed in to an
		// application without saying so: only first-party ones.
		return r, authFault(r, AuthConsentRequired, "the application is not first party, and consent is not available yet")
	}
	return r, nil
}

func authFault(r AuthRequest, code, description string) *AuthRedirectError {
	return &AuthRedirectError{Code: code, Description: description, Request: r}
}

// AuthResponse returns the parameters of an authorization response to r:
// fields (code, or error and error_description), state when the request
// had one, and iss (RFC 9207) always.
func (s *Service) AuthResponse(r AuthRequest, fields url.Values) url.Values {
	if r.State != "" {
		fields.Set("state", r.State)
	}
	fields.Set("iss", s.cfg.Issuer)
	return fields
}

// AuthRedirect returns the redirect URI of r with the response's
// parameters added to its query, keeping the query it was registered
// with (RFC 6749 §3.1.2).
func (s *Service) AuthRedirect(r AuthRequest, fields url.Values) string {
	u, err := url.Parse(r.RedirectURI)
	if err != nil {
		// Registered URIs are checked: this cannot happen.
		panic("auth: registered redirect URI does not parse: " + err.Error())
	}
	q := u.Query()
	for k, v := range s.AuthResponse(r, fields) {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}
