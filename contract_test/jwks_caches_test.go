package contract_test

// JWKS caches that resource servers really run, with their default
// settings, against a real gatehouse on a loopback port: a rotation must
// never make them refuse a token gatehouse has just signed. Both libraries
// time their caches on the wall clock, so what is tested is what they must
// survive without waiting: a login right after a rotation (a staged
// rotation keeps signing with the old key until the new one has been
// published for --key-activation-delay, longer than their refresh floors).

import (
	"testing"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// TestJWKSCacheJWX: lestrrat-go/jwx's jwk.Cache refetches no sooner than
// every 15 minutes (httprc's default minimum interval, whatever max-age
// says) and never on an unknown kid.
func TestJWKSCacheJWX(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := t.Context()
	url := s.URL + "/.well-known/jwks.json"
	cache, err := jwk.NewCache(ctx, httprc.NewClient())
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.Register(ctx, url); err != nil {
		t.Fatalf("register the JWKS: %v", err)
	}
	set, err := cache.CachedSet(url)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(step, token string) {
		t.Helper()
		if _, err := jwxjwt.Parse([]byte(token), jwxjwt.WithKeySet(set), jwxjwt.WithIssuer(s.Svc.Issuer())); err != nil {
			t.Errorf("%s: jwx refuses the token (kid %s): %v", step, tokenKID(t, token), err)
		}
	}
	admin := s.adminToken(t)
	verify("before any rotation", admin) // the cache is warm
	for i, step := range []string{"after a rotation", "after a second rotation"} {
		s.rotate(t, admin, nil)
		verify(step, s.adminToken(t))
		if i == 0 {
			verify("the token from before the rotation", admin)
		}
	}
}

// TestJWKSCacheKeyfunc: MicahParks/keyfunc refetches on an unknown kid at
// most once every 5 minutes (its default rate limiter) and otherwise
// hourly, so a second rotation within 5 minutes is the one that breaks it.
func TestJWKSCacheKeyfunc(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	k, err := keyfunc.NewDefaultCtx(t.Context(), []string{s.URL + "/.well-known/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(step, token string) {
		t.Helper()
		if _, err := jwt.Parse(token, k.Keyfunc, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(s.Svc.Issuer())); err != nil {
			t.Errorf("%s: keyfunc refuses the token (kid %s): %v", step, tokenKID(t, token), err)
		}
	}
	admin := s.adminToken(t)
	verify("before any rotation", admin)
	for _, step := range []string{"after a rotation", "after a second rotation", "after a third rotation"} {
		s.rotate(t, admin, nil)
		verify(step, s.adminToken(t))
	}
	verify("the token from before the rotations", admin)
}
