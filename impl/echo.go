package impl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	echomw "github.com/oapi-codegen/echo-middleware"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 1 << 20

func init() {
	// kin-openapi checks no string formats by default; these are the ones
	// the contract uses.
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122))
}

// Spec loads the embedded contract that the server enforces.
func Spec() (*openapi3.T, error) {
	spec, err := api.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	// Requests are matched on path alone, whatever host they were sent to.
	spec.Servers = nil
	return spec, nil
}

// SpecScopes lists every scope the contract defines: the admin role's.
func SpecScopes(spec *openapi3.T) []string {
	var scopes []string
	for _, scheme := range spec.Components.SecuritySchemes {
		if scheme.Value != nil && scheme.Value.Flows != nil && scheme.Value.Flows.Password != nil {
			for s := range scheme.Value.Flows.Password.Scopes {
				scopes = append(scopes, s)
			}
		}
	}
	slices.Sort(scopes)
	return scopes
}

// NewEcho wires the middleware chain, the spec's request validator and
// the generated strict handlers. cmd/gatehouse and the contract tests both
// serve what it returns.
func NewEcho(h *Handlers, spec *openapi3.T, log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(log, h.errorPage)
	e.IPExtractor = ipExtractor(h.trustedProxies)

	e.Use(middleware.RequestID())
	e.Use(observe(h.cfg.Metrics, log))
	e.Use(middleware.Recover())
	e.Use(headerLimit)
	e.Use(middleware.BodyLimit(fmt.Sprint(MaxBodyBytes)))
	e.Use(withRequestInfo)
	implied := impliedHeads(spec)
	e.Use(headAsGet(implied))
	e.Use(h.dialectGate)
	if h.cfg.RateLimit > 0 {
		e.Use(newIPRateLimiter(h.cfg.RateLimit, h.cfg.RateBurst, spec).middleware)
	}
	e.Use(newShedder(h.cfg.MaxInFlight).middleware)
	e.Use(strictBodies(spec))
	e.Use(echomw.OapiRequestValidatorWithOptions(spec, &echomw.Options{
		Options: openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: h.authenticate,
		},
		// Our error handler reads the validator's errors from Internal.
		MultiErrorHandler: func(me openapi3.MultiError) *echo.HTTPError {
			return &echo.HTTPError{Code: http.StatusBadRequest, Message: "invalid request", Internal: me}
		},
		SilenceServersWarning: true,
	}))
	api.RegisterHandlers(headRouter{e, implied}, api.NewStrictHandler(h, nil))
	return e
}

type ctxKey int

const (
	principalKey ctxKey = iota
	requestInfoKey
)

// requestInfo is what handlers need of the HTTP request beyond its body.
type requestInfo struct {
	origin  auth.Origin
	baseURL string
	// basicClientID is the client_id a token request sent as the HTTP
	// Basic username (RFC 6749 §2.3.1), as OAuth2 libraries do, and
	// basicSecret its password; basicSet tells they were sent.
	basicClientID string
	basicSecret   string
	basicSet      bool
	// csrfCookie is the authorization endpoint's CSRF cookie, as sent,
	// and repeated the first of its parameters sent more than once.
	csrfCookie string
	repeated   string
	// bearer is the userinfo endpoint's Bearer token, as sent.
	bearer string
}

func withRequestInfo(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		info := requestInfo{
			origin:  auth.Origin{IP: c.RealIP(), UserAgent: r.UserAgent(), Dialect: dialectOf(r.URL.Path)},
			baseURL: c.Scheme() + "://" + r.Host,
		}
		if id, secret, ok := r.BasicAuth(); ok && strings.HasPrefix(r.URL.Path, "/oauth/") {
			info.basicClientID, _ = url.QueryUnescape(id)
			info.basicSecret, _ = url.QueryUnescape(secret)
			info.basicSet = true
		}
		if r.URL.Path == "/oauth/userinfo" {
			info.bearer, _ = bearerToken(r)
		}
		if r.URL.Path == "/oauth/authorize" {
			if ck, err := r.Cookie(csrfCookie); err == nil {
				info.csrfCookie = ck.Value
			}
			info.repeated = repeatedParam(r)
		}
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), requestInfoKey, info)))
		return next(c)
	}
}

// dialectGate answers 404, as for a route that does not exist, on the
// routes of a dialect that is switched off.
func (h *Handlers) dialectGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := dialectOf(c.Request().URL.Path)
		if slices.Contains(AllDialects, name) && h.cfg.Dialects != nil && !slices.Contains(h.cfg.Dialects, name) {
			return &Error{Kind: KindNotFound, Detail: "no such route"}
		}
		return next(c)
	}
}

func dialectOf(path string) string {
	name, _ := routeDialect(path)
	return name
}

func infoFrom(ctx context.Context) requestInfo {
	info, _ := ctx.Value(requestInfoKey).(requestInfo)
	return info
}

// Principal is who a request acts for.
type Principal struct {
	UserID string
	Scopes []string
	// SessionID is the access token's sid: the session it belongs to
	// ("" for API keys, Basic and tokens without one).
	SessionID string
	// AMR is the access token's amr (RFC 8176); nil for an API key or
	// a password.
	AMR []string
	// user is the user, when authenticating already loaded it (API key,
	// Basic), so /v1/me need not load it again.
	user *store.User
}

func principalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey).(Principal)
	return p
}

// authenticate is the validator's AuthenticationFunc: it runs for the
// security requirements of the operation, so the spec alone decides which
// routes need which credentials and scopes. It answers 401 for missing or
// bad credentials and 403 for a missing scope, and puts the principal on
// the request context for the handler.
func (h *Handlers) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	c := echomw.GetEchoContext(ctx)
	if c == nil {
		return errors.New("no echo context")
	}
	var (
		p   Principal
		err error
	)
	switch in.SecuritySchemeName {
	case "passwordBasic":
		p, err = h.authenticateBasic(c)
	case "apiKey":
		p, err = h.authenticateAPIKey(c, c.Request().Header.Get("X-API-Key"))
	case "oauthClient":
		p, err = h.authenticateOAuthClient(c.Request().Context(), in)
	case "authHeaderJWT":
		// The user-login dialect sends its JWT in Authorization, bare or
		// as a Bearer token.
		token, ok := bearerToken(c.Request())
		if !ok {
			token = strings.TrimSpace(c.Request().Header.Get("Authorization"))
		}
		p, err = h.authenticateBearer(c, token)
	default:
		token, ok := bearerToken(c.Request())
		if !ok {
			return errorf(KindUnauthenticated, "a Bearer access token or an API key is required")
		}
		p, err = h.authenticateBearer(c, token)
	}
	if err != nil {
		return err
	}
	for _, want := range requiredScopes(in) {
		if !slices.Contains(p.Scopes, want) {
			e := &Error{Kind: KindForbidden, Detail: "the credentials lack the scope " + want, Scope: want}
			if in.SecuritySchemeName == "oauthClient" {
				// A client refused as RFC 6749 §5.2 refuses one: it sent
				// no access token, so no Bearer challenge (wwwAuthenticate).
				e.Code, e.Detail = string(api.OAuthErrorErrorUnauthorizedClient), "the client's scopes lack "+want
			}
			return e
		}
	}
	setPrincipal(c, p)
	return nil
}

// requiredScopes are the scopes an operation's oauth2 requirement names;
// they bind every other scheme of the operation too, since OpenAPI gives
// scopes to oauth2 alone.
func requiredScopes(in *openapi3filter.AuthenticationInput) []string {
	if in.SecuritySchemeName == "oauth2" {
		return in.Scopes
	}
	op := in.RequestValidationInput.Route.Operation
	if op.Security == nil {
		return nil
	}
	for _, req := range *op.Security {
		if scopes, ok := req["oauth2"]; ok {
			return scopes
		}
	}
	return nil
}

// authenticateBearer accepts a gatehouse JWT or, by its prefix, an API key.
func (h *Handlers) authenticateBearer(c echo.Context, token string) (Principal, error) {
	if strings.HasPrefix(token, auth.APIKeyPrefix) {
		return h.authenticateAPIKey(c, token)
	}
	if token == "" {
		return Principal{}, errorf(KindUnauthenticated, "a Bearer access token or an API key is required")
	}
	claims, err := h.svc.VerifyOwnAccessToken(c.Request().Context(), token)
	if errors.Is(err, auth.ErrInvalidToken) {
		return Principal{}, &Error{Kind: KindUnauthenticated, Detail: "the access token is not valid", TokenGiven: true}
	}
	if err != nil {
		return Principal{}, classify(err)
	}
	return Principal{UserID: claims.Subject, Scopes: claims.Scopes(), SessionID: claims.SessionID, AMR: claims.AMR}, nil
}

func (h *Handlers) authenticateAPIKey(c echo.Context, key string) (Principal, error) {
	if key == "" {
		return Principal{}, errorf(KindUnauthenticated, "an API key is required")
	}
	k, err := h.svc.AuthenticateAPIKey(c.Request().Context(), key)
	if errors.Is(err, auth.ErrInvalidAPIKey) {
		return Principal{}, &Error{Kind: KindUnauthenticated, Detail: "the API key is not valid", TokenGiven: true}
	}
	if err != nil {
		return Principal{}, classify(err)
	}
	return Principal{UserID: k.User.ID, Scopes: k.Scopes, user: &k.User}, nil
}

func setPrincipal(c echo.Context, p Principal) {
	r := c.Request()
	c.SetRequest(r.WithContext(context.WithValue(r.Context(), principalKey, p)))
}

// authenticateBasic checks HTTP Basic credentials, an expired password
// included; the spec accepts them on one operation, the password change.
func (h *Handlers) authenticateBasic(c echo.Context) (Principal, error) {
	login, password, ok := c.Request().BasicAuth()
	if !ok {
		return Principal{}, errorf(KindUnauthenticated, "Basic credentials are required")
	}
	ctx := c.Request().Context()
	u, err := h.svc.AuthenticatePassword(ctx, login, password, originFrom(ctx))
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return Principal{}, &Error{Kind: KindUnauthenticated, Detail: "invalid username or password", TokenGiven: true}
	}
	if err != nil {
		return Principal{}, classify(err)
	}
	role, err := h.st.GetRole(ctx, u.Role)
	if err != nil {
		return Principal{}, classify(err)
	}
	return Principal{UserID: u.ID, Scopes: role.Scopes, user: &u}, nil
}

// bearerToken reads "Authorization: Bearer TOKEN" (scheme case-insensitive).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}
