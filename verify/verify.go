package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/internal/jose"
)

// Defaults of Options.
const (
	DefaultLeeway             = 30 * time.Second
	DefaultRefreshInterval    = 5 * time.Minute
	DefaultMinRefetchInterval = 10 * time.Second
)

// defaultAlgorithms are the algorithms gatehouse signs with.
var defaultAlgorithms = []string{jose.AlgES256, jose.AlgRS256, jose.AlgEdDSA}

// ErrInvalidToken is returned (wrapped, with the reason) by Verify and
// Introspect for a token that must not be accepted: malformed, badly
// signed, of another issuer or audience, expired, not yet valid, signed
// by an unknown key, or inactive.
var ErrInvalidToken = errors.New("invalid token")

// ErrInactive is returned, wrapped with ErrInvalidToken, by Introspect
// when the server answers active: false (revoked, expired or unknown).
var ErrInactive = errors.New("token is not active")

// ErrNoIntrospection is returned by Introspect when Options.Introspection
// was not set.
var ErrNoIntrospection = errors.New("introspection is not configured")

// Options configure a Verifier. Only Audience is required.
type Options struct {
	// Audience is the resource server's own audience: a token's aud must
	// contain it. Required.
	Audience string
	// Algorithms are the only signature algorithms accepted, among ES256,
	// RS256 and EdDSA (the default: all three). Keys of other algorithms
	// in the JWKS are ignored.
	Algorithms []string
	// HTTPClient fetches discovery, the JWKS and introspection; the default
	// has a 10 s timeout.
	HTTPClient *http.Client
	// Leeway tolerates clock skew on exp, nbf and iat: zero takes
	// DefaultLeeway (30 s), a negative value means none.
	Leeway time.Duration
	// RefreshInterval is the longest the JWKS is cached (DefaultRefreshInterval,
	// 5 min, when zero). The JWKS is refreshed in the background when its
	// Cache-Control max-age runs out, bounded below by MinRefetchInterval
	// and above by RefreshInterval; without max-age, after RefreshInterval.
	RefreshInterval time.Duration
	// MinRefetchInterval is the least time between two JWKS fetches, of
	// whatever cause (DefaultMinRefetchInterval, 10 s, when zero): a token
	// with an unknown kid makes the JWKS be fetched at once, but no more
	// often than this, so that forged kids cannot make the verifier hammer
	// the server. A failed fetch is retried after it, keeping the old keys.
	MinRefetchInterval time.Duration
	// Now is the clock (time.Now when nil); tests set it.
	Now func() time.Time
	// Introspection, when set, is the credential Introspect and
	// RequireActive send to the discovered introspection endpoint.
	Introspection *Credentials

	// after is the background refresh's timer (time.After when nil);
	// tests drive it.
	after func(time.Duration) <-chan time.Time
}

// Credentials authenticate the verifier to the introspection endpoint
// (RFC 7662 section 2.1). Set exactly one of: ClientID and ClientSecret
// (HTTP Basic, a confidential application's secret), BearerToken (an
// access token or API key sent as Authorization: Bearer), or APIKey (sent
// as X-API-Key). gatehouse requires the scope tokens:introspect of it.
type Credentials struct {
	ClientID     string
	ClientSecret string
	BearerToken  string
	APIKey       string
}

// Verifier verifies gatehouse's access tokens offline against its JWKS. It
// is safe for concurrent use. Close it, or end the context it was built
// with, to stop its background refresh.
type Verifier struct {
	issuer        string
	audience      string
	introspectURL string
	cred          *Credentials
	httpClient    *http.Client
	now           func() time.Time
	algs          []string
	// checks are golang-jwt's checks of the claims.
	checks []jwt.ParserOption
	keys   *keySet

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New discovers issuerURL (GET issuerURL/.well-known/openid-configuration,
// whose issuer must equal issuerURL exactly), fetches its JWKS, and starts
// refreshing it in the background. ctx bounds the discovery and the
// verifier's life: when it is done, the refresh stops as on Close, and the
// cached keys still verify.
func New(ctx context.Context, issuerURL string, o Options) (*Verifier, error) {
	if o.Audience == "" {
		return nil, errors.New("verify: Options.Audience is required")
	}
	if u, err := url.Parse(issuerURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("verify: issuer %q is not an http or https URL", issuerURL)
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = defaultAlgorithms
	}
	for _, a := range o.Algorithms {
		if !slices.Contains(defaultAlgorithms, a) {
			return nil, fmt.Errorf("verify: unsupported algorithm %q", a)
		}
	}
	if c := o.Introspection; c != nil {
		n := 0
		for _, set := range []bool{c.ClientID != "" || c.ClientSecret != "", c.BearerToken != "", c.APIKey != ""} {
			if set {
				n++
			}
		}
		if n != 1 || (c.ClientID != "") != (c.ClientSecret != "") {
			return nil, errors.New("verify: Options.Introspection needs exactly one of ClientID and ClientSecret, BearerToken or APIKey")
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.after == nil {
		o.after = time.After
	}
	switch {
	case o.Leeway == 0:
		o.Leeway = DefaultLeeway
	case o.Leeway < 0:
		o.Leeway = 0
	}
	if o.MinRefetchInterval <= 0 {
		o.MinRefetchInterval = DefaultMinRefetchInterval
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	o.RefreshInterval = max(o.RefreshInterval, o.MinRefetchInterval)

	meta, err := discover(ctx, o.HTTPClient, issuerURL)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if o.Introspection != nil && (meta.IntrospectionEndpoint == nil || *meta.IntrospectionEndpoint == "") {
		return nil, errors.New("verify: Options.Introspection is set but discovery names no introspection_endpoint")
	}

	bg, cancel := context.WithCancel(ctx)
	v := &Verifier{
		issuer:     issuerURL,
		audience:   o.Audience,
		cred:       o.Introspection,
		httpClient: o.HTTPClient,
		now:        o.Now,
		cancel:     cancel,
		algs:       o.Algorithms,
		checks: []jwt.ParserOption{
			jwt.WithIssuer(issuerURL),
			jwt.WithAudience(o.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(o.Leeway),
			jwt.WithTimeFunc(o.Now),
		},
	}
	if meta.IntrospectionEndpoint != nil {
		v.introspectURL = *meta.IntrospectionEndpoint
	}
	v.keys = &keySet{
		uri: meta.JwksUri, httpClient: o.HTTPClient, algs: o.Algorithms, now: o.Now,
		minRefetch: o.MinRefetchInterval, maxAge: o.RefreshInterval, ctx: bg, wg: &v.wg,
	}
	first := v.keys.refetch()
	select {
	case <-first.done:
	case <-ctx.Done():
		v.Close()
		return nil, fmt.Errorf("verify: %w", ctx.Err())
	}
	if first.err != nil {
		v.Close()
		return nil, fmt.Errorf("verify: %w", first.err)
	}
	v.wg.Go(func() { v.keys.refresh(bg, o.after) })
	return v, nil
}

// Close stops the background refresh and waits for its goroutines to end.
// The verifier still verifies with the keys it has. Close always returns
// nil.
func (v *Verifier) Close() error {
	v.closeOnce.Do(func() {
		v.keys.close()
		v.cancel()
		v.wg.Wait()
	})
	return nil
}

// Issuer is the issuer URL the verifier was built with.
func (v *Verifier) Issuer() string { return v.issuer }

// discover fetches and checks the OpenID Provider metadata of issuer.
func discover(ctx context.Context, hc *http.Client, issuer string) (client.ServerMetadata, error) {
	var meta client.ServerMetadata
	body, _, err := getDocument(ctx, hc, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return meta, fmt.Errorf("discovery: %w", err)
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return meta, fmt.Errorf("discovery: %w", err)
	}
	if meta.Issuer != issuer {
		return meta, fmt.Errorf("discovery: issuer %q, want %q", meta.Issuer, issuer)
	}
	if u, err := url.Parse(meta.JwksUri); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return meta, fmt.Errorf("discovery: jwks_uri %q is not an http or https URL", meta.JwksUri)
	}
	return meta, nil
}

// Claims are a verified access token's claims: iss, sub, aud, exp, nbf,
// iat and jti (jwt.RegisteredClaims), sub_type, scope, username, email,
// email_verified, amr and sid (SessionID), with every claim, extras
// included, in Raw. ExpiresAt is always set by Verify; IssuedAt and
// NotBefore are nil when absent. They are the type gatehouse signs.
type Claims = jose.Claims

// Verify verifies a compact JWS access token: signed by a key of the JWKS
// (its kid; an unknown kid refreshes the JWKS, within the rate limit) with
// that key's algorithm, which must be one of Options.Algorithms; iss equal
// to the issuer; aud containing Options.Audience; exp present and, with
// nbf and iat, within the leeway; sub present. ctx bounds a wait for the
// JWKS. Failures wrap ErrInvalidToken.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	var c Claims
	payload, err := jose.Verify(token, &c, v.algs, func(h jose.Header) (jose.Key, error) {
		if h.Kid == "" {
			return jose.Key{}, errors.New("no kid")
		}
		return v.keys.key(ctx, h.Kid)
	}, v.checks...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	if err := json.Unmarshal(payload, &c.Raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return &c, nil
}
