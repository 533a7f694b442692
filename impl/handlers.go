// Package impl adapts the generated strict server interface to the auth
// service: thin handlers, one file per tag, and one error renderer per
// dialect.
package impl

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/pages"
	"github.com/gatehouse-auth/gatehouse/store"
)

// Handlers implements api.StrictServerInterface.
type Handlers struct {
	svc *auth.Service
	// st is read directly for lists and lookups; every change goes
	// through svc, which holds the rules and audits.
	st  store.Reader
	cfg Config
	// trustedProxies are cfg.TrustedProxies, parsed.
	trustedProxies []*net.IPNet
	// pages are cfg.Pages, or the embedded ones.
	pages *pages.Pages
}

// Config is what the handlers serve besides the service's answers.
type Config struct {
	// SpecYAML is the contract, served at /openapi.yaml.
	SpecYAML []byte
	// Scopes are every scope the contract defines (SpecScopes).
	Scopes []string
	// PublicURL, when set, is the base of the endpoint URLs in the
	// discovery documents; otherwise the request's own scheme and host.
	PublicURL string
	// Dialects are the enabled dialects (AllDialects when nil); the
	// routes of the others answer 404.
	Dialects []string
	// OcariotAlg and OcariotTokenTTL override the OCARIoT dialect's
	// documented RS256 and one-day lifetime.
	OcariotAlg      string
	OcariotTokenTTL time.Duration
	// RateLimit is the sustained requests per second each client IP may
	// make to the credential routes, RateBurst the burst; 0 is no limit.
	RateLimit float64
	RateBurst int
	// Metrics are served at /metrics; New makes them when nil.
	Metrics *Metrics
	// JWKSMaxAge is the JWKS's Cache-Control max-age, in whole seconds
	// (DefaultJWKSMaxAge when zero). Keep it below the key activation
	// delay, so a cached set always has a rotated key before it signs.
	JWKSMaxAge time.Duration
	// TrustedProxies are the CIDRs of proxies whose X-Forwarded-For names
	// the client; none by default, so the socket's address is the client.
	TrustedProxies []string
	// NoConsole switches the admin console at /console/ off (404).
	NoConsole bool
	// MaxInFlight bounds the requests in progress that may wait on the
	// database; those beyond it answer 503 at once (0: no bound).
	MaxInFlight int
	// Pages are the hosted pages (--pages-templates); the embedded ones
	// when nil.
	Pages *pages.Pages
}

var _ api.StrictServerInterface = (*Handlers)(nil)

// DefaultJWKSMaxAge is Config.JWKSMaxAge's default.
const DefaultJWKSMaxAge = 5 * time.Minute

// New returns the handlers. An unknown dialect name in cfg.Dialects is an
// error.
func New(svc *auth.Service, st store.Reader, cfg Config) (*Handlers, error) {
	for _, d := range cfg.Dialects {
		if !slices.Contains(AllDialects, d) {
			return nil, fmt.Errorf("unknown dialect %q (known: %s)", d, strings.Join(AllDialects, ", "))
		}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	h := &Handlers{svc: svc, st: st, cfg: cfg, pages: cfg.Pages}
	if h.pages == nil {
		var err error
		if h.pages, err = pages.New("", "gatehouse"); err != nil {
			return nil, err
		}
	}
	for _, cidr := range cfg.TrustedProxies {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", cidr, err)
		}
		h.trustedProxies = append(h.trustedProxies, n)
	}
	return h, nil
}

func originFrom(ctx context.Context) auth.Origin { return infoFrom(ctx).origin }

func fromStoreUser(svc *auth.Service, u store.User) api.User {
	out := api.User{
		Id: uuid.MustParse(u.ID), Username: u.Username, Role: u.Role, Disabled: u.Disabled, MfaEnabled: u.MFAEnabled,
		EmailVerified: u.EmailVerified,
		Email:         nonEmpty(u.Email), FirstName: nonEmpty(u.FirstName), LastName: nonEmpty(u.LastName),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
	if exp := svc.PasswordExpiry(u); exp != nil {
		out.PasswordExpiresAt.Set(exp.UTC())
	} else {
		out.PasswordExpiresAt.SetNull()
	}
	return out
}

func fromStoreUsers(svc *auth.Service, us []store.User) []api.User {
	out := make([]api.User, len(us))
	for i, u := range us {
		out[i] = fromStoreUser(svc, u)
	}
	return out
}

func fromStoreApplication(a store.Application) api.Application {
	return api.Application{
		Id: uuid.MustParse(a.ID), Name: a.Name, Audience: a.Audience, IsDefault: a.IsDefault,
		AccessTokenTtl: int(a.AccessTokenTTL / time.Second), RefreshTokenTtl: int(a.RefreshTokenTTL / time.Second),
		CreatedAt: a.CreatedAt.UTC(), Scopes: orEmpty(a.Scopes),
		RedirectUris: orEmpty(a.RedirectURIs), PostLogoutRedirectUris: orEmpty(a.PostLogoutRedirectURIs),
		ClientType: api.ClientType(a.ClientType), FirstParty: a.FirstParty,
	}
}

func fromStoreRole(r store.Role) api.Role {
	return api.Role{Name: r.Name, Code: r.Code, Scopes: r.Scopes, MfaRequired: r.MFARequired}
}

func fromStoreSigningKey(k store.SigningKey) api.SigningKey {
	out := api.SigningKey{Kid: k.KID, Alg: api.SigningAlg(k.Alg), CreatedAt: k.CreatedAt.UTC(), ActiveFrom: k.ActiveFrom.UTC()}
	if k.RetiredAt != nil {
		out.RetiredAt = ptr(k.RetiredAt.UTC())
	}
	return out
}

// page reads the generated limit and cursor parameters.
func page(limit *int, cursor *string) store.Page {
	var p store.Page
	if limit != nil {
		p.Limit = *limit
	}
	if cursor != nil {
		p.After = *cursor
	}
	return p
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
