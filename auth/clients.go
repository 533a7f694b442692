package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// ErrInvalidClient is returned for every failed client authentication:
// an unknown application, a wrong or expired secret, an assertion that is
// badly signed, expired, for another audience or replayed. They all look
// alike to the caller.
var ErrInvalidClient = errors.New("invalid client")

// ClientSubType is the sub_type of a token issued to an application by the
// client_credentials grant.
const ClientSubType = "client"

// AssertionType is RFC 7523's client_assertion_type for private_key_jwt.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// MaxAssertionLifetime is how far ahead a client assertion's exp may lie.
const MaxAssertionLifetime = 5 * time.Minute

// ClientAssertionAlgs are the algorithms a client assertion may be signed with.
var ClientAssertionAlgs = []string{AlgES256, AlgRS256, AlgEdDSA}

var applicationScopeRE = regexp.MustCompile(`^[a-z0-9:._-]+$`)

// ValidApplicationScope reports whether s may be one of an application's
// scopes.
func ValidApplicationScope(s string) bool { return len(s) <= 128 && applicationScopeRE.MatchString(s) }

// dummySecretHash is compared against when the client is unknown, so that
// an unknown client costs what a wrong secret does.
var dummySecretHash = jose.HashRandomSecret("gatehouse: no such client")

// CreateApplicationSecret makes a new secret for the application and
// returns it, this once, with what is stored of it.
func (s *Service) CreateApplicationSecret(ctx context.Context, appID string, expiresAt *time.Time, actor string, cl Client) (string, store.ApplicationSecret, error) {
	secret, err := s.randomToken(32)
	if err != nil {
		return "", store.ApplicationSecret{}, err
	}
	id, err := s.newID()
	if err != nil {
		return "", store.ApplicationSecret{}, err
	}
	sec := store.ApplicationSecret{
		ID: id, AppID: appID, Hash: jose.HashRandomSecret(secret),
		CreatedAt: s.now().Truncate(time.Second), ExpiresAt: expiresAt,
	}
	if err := s.st.CreateApplicationSecret(ctx, sec); err != nil {
		return "", store.ApplicationSecret{}, err
	}
	s.Audit(ctx, cl.event("application_secret.create", "success", actor, appID, "secret "+sec.ID))
	return secret, sec, nil
}

// DeleteApplicationSecret deletes one of the application's secrets.
func (s *Service) DeleteApplicationSecret(ctx context.Context, appID, id, actor string, cl Client) error {
	if err := s.st.DeleteApplicationSecret(ctx, appID, id); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("application_secret.delete", "success", actor, appID, "secret "+id))
	return nil
}

// ClientAuth is what a client sent to authenticate (RFC 6749 §2.3, RFC
// 7523 §2.2): an id with a secret, or an assertion (with, optionally, the
// id it claims).
type ClientAuth struct {
	ID        string
	Secret    string
	Assertion string
	// Audiences are the aud values an assertion may carry: the token
	// endpoint URL and the issuer.
	Audiences []string
}

// errConfidential is the ErrInvalidClient of a confidential client named
// by its client_id alone.
var errConfidential = fmt.Errorf("%w: a confidential client must authenticate", ErrInvalidClient)

// ErrUnknownClient is the ErrInvalidClient of a client_id that names no
// application.
var ErrUnknownClient = fmt.Errorf("%w: unknown client", ErrInvalidClient)

// IdentifyClient is the one client rule, for every endpoint that names a
// client. It returns the application a request names, checked: a secret
// or an assertion must authenticate it (AuthenticateClient); a client_id
// alone must name an existing application that is not confidential
// (RFC 6749 §3.2.1: a confidential client authenticates wherever it
// speaks). A request that names no client gives a zero application. Every
// failure is ErrInvalidClient, audited.
func (s *Service) IdentifyClient(ctx context.Context, ca ClientAuth, cl Client) (store.Application, error) {
	if ca.Secret != "" || ca.Assertion != "" {
		return s.AuthenticateClient(ctx, ca, cl)
	}
	if ca.ID == "" {
		return store.Application{}, nil
	}
	app, known, err := s.lookupClient(ctx, ca.ID)
	switch {
	case err != nil:
		return store.Application{}, err
	case !known:
		err = ErrUnknownClient
	case app.Confidential:
		err = errConfidential
	default:
		return app, nil
	}
	s.Audit(ctx, cl.event("client.authenticate", "failure", "", app.ID, err.Error()))
	return store.Application{}, err
}

// AuthenticateClient checks a confidential application's credentials and
// returns the application. Every failure is ErrInvalidClient.
func (s *Service) AuthenticateClient(ctx context.Context, ca ClientAuth, cl Client) (store.Application, error) {
	var (
		app store.Application
		err error
	)
	if ca.Assertion != "" {
		app, err = s.authenticateAssertion(ctx, ca)
	} else {
		app, err = s.authenticateSecret(ctx, ca)
	}
	if errors.Is(err, ErrInvalidClient) {
		s.Audit(ctx, cl.event("client.authenticate", "failure", "", app.ID, err.Error()))
	}
	return app, err
}

func (s *Service) authenticateSecret(ctx context.Context, ca ClientAuth) (store.Application, error) {
	app, known, err := s.lookupClient(ctx, ca.ID)
	if err != nil {
		return store.Application{}, err
	}
	// The same work for an unknown client as for a known one: read its
	// secrets (none), compare with each in constant time, or with a dummy.
	secrets, err := s.st.ListApplicationSecrets(ctx, app.ID)
	if err != nil {
		return store.Application{}, fmt.Errorf("list application secrets: %w", err)
	}
	given := []byte(jose.HashRandomSecret(ca.Secret))
	now := s.now()
	match, expired := false, false
	if len(secrets) == 0 {
		secretCompare(given, []byte(dummySecretHash))
	}
	for _, sec := range secrets {
		if secretCompare(given, []byte(sec.Hash)) {
			if sec.ExpiresAt != nil && !now.Before(*sec.ExpiresAt) {
				expired = true
			} else {
				match = true
			}
		}
	}
	switch {
	case !known || ca.Secret == "":
		return store.Application{}, ErrUnknownClient
	case expired:
		return store.Application{}, fmt.Errorf("%w: expired secret", ErrInvalidClient)
	case !match:
		return app, fmt.Errorf("%w: wrong secret", ErrInvalidClient)
	}
	return app, nil
}

// secretCompare compares two secret hashes in constant time; tests count
// its calls.
var secretCompare = func(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// lookupClient finds the application id names; an id that names none
// gives a zero application and known false.
func (s *Service) lookupClient(ctx context.Context, id string) (store.Application, bool, error) {
	if uuid.Validate(id) != nil {
		return store.Application{}, false, nil
	}
	app, err := s.st.GetApplication(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Application{ID: id}, false, nil
	}
	if err != nil {
		return store.Application{}, false, fmt.Errorf("get application: %w", err)
	}
	return app, true, nil
}

// assertionClaims are a client assertion's claims.
type assertionClaims struct {
	jwt.RegisteredClaims
}

func (s *Service) authenticateAssertion(ctx context.Context, ca ClientAuth) (store.Application, error) {
	// The issuer names the client; read it before the signature is
	// checked to find the keys, then check everything. The form is
	// checked first, as for every token.
	_, payload, err := jose.ParseCompact(ca.Assertion)
	if err != nil {
		return store.Application{}, fmt.Errorf("%w: malformed assertion: %w", ErrInvalidClient, err)
	}
	var unverified assertionClaims
	if err := json.Unmarshal(payload, &unverified); err != nil {
		return store.Application{}, fmt.Errorf("%w: malformed assertion: %w", ErrInvalidClient, err)
	}
	id := unverified.Issuer
	if ca.ID != "" && ca.ID != id {
		return store.Application{}, fmt.Errorf("%w: client_id is not the assertion's iss", ErrInvalidClient)
	}
	app, known, err := s.lookupClient(ctx, id)
	if err != nil || !known {
		return store.Application{}, cmpErr(err, ErrUnknownClient)
	}
	jwks, err := s.ApplicationJWKS(ctx, app.ID)
	if err != nil {
		return store.Application{}, err
	}
	keys := make([]jose.Key, 0, len(jwks))
	for _, j := range jwks {
		k, err := jose.ParseJWK(j)
		if err != nil {
			return store.Application{}, fmt.Errorf("stored jwk %s: %w", j.Kid, err)
		}
		keys = append(keys, k)
	}
	now := s.now()
	var c assertionClaims
	_, err = jose.Verify(ca.Assertion, &c, ClientAssertionAlgs, func(h jose.Header) (jose.Key, error) {
		for _, k := range keys {
			if (h.Kid == "" || k.Kid == h.Kid) && k.Alg == h.Alg {
				return k, nil
			}
		}
		return jose.Key{}, errors.New("no key of the application verifies it")
	},
		jwt.WithIssuer(app.ID), jwt.WithSubject(app.ID),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(s.cfg.Leeway),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	if err != nil {
		return app, fmt.Errorf("%w: assertion: %w", ErrInvalidClient, err)
	}
	if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(ca.Audiences, a) }) {
		return app, fmt.Errorf("%w: assertion aud is neither the token endpoint nor the issuer", ErrInvalidClient)
	}
	if c.ExpiresAt.Time.After(now.Add(MaxAssertionLifetime + s.cfg.Leeway)) {
		return app, fmt.Errorf("%w: assertion exp is more than 5 minutes ahead", ErrInvalidClient)
	}
	if c.ID == "" {
		return app, fmt.Errorf("%w: assertion has no jti", ErrInvalidClient)
	}
	err = s.st.UseClientAssertion(ctx, app.ID, c.ID, c.ExpiresAt.Time.Add(s.cfg.Leeway))
	if errors.Is(err, store.ErrConflict) {
		return app, fmt.Errorf("%w: assertion replayed", ErrInvalidClient)
	}
	if err != nil {
		return store.Application{}, fmt.Errorf("use client assertion: %w", err)
	}
	return app, nil
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// ClientCredentials issues an access token to an authenticated
// application (RFC 6749 §4.4): sub the application id, sub_type "client",
// aud the application's audience, scope the requested scopes (all of the
// application's when none are asked for). There is no refresh token.
func (s *Service) ClientCredentials(ctx context.Context, app store.Application, requested string, cl Client) (AccessToken, error) {
	scope, err := narrowScope(app.Scopes, requested)
	if err != nil {
		s.Audit(ctx, cl.event("client_credentials", "failure", app.ID, app.ID, "scope not granted"))
		return AccessToken{}, err
	}
	tok, err := s.issueAccessToken(store.User{ID: app.ID, Role: ClientSubType}, app, scope, "", "", app.AccessTokenTTL, nil)
	if err != nil {
		return AccessToken{}, err
	}
	s.Audit(ctx, cl.event("client_credentials", "success", app.ID, app.ID, ""))
	return tok, nil
}

// ApplicationJWKS reads the application's JWK Set (empty when none).
func (s *Service) ApplicationJWKS(ctx context.Context, appID string) ([]JWK, error) {
	raw, err := s.st.GetApplicationJWKS(ctx, appID)
	if err != nil {
		return nil, err
	}
	keys := []JWK{}
	if raw == "" {
		return keys, nil
	}
	if err := json.Unmarshal([]byte(raw), &keys); err != nil {
		return nil, fmt.Errorf("decode application jwks: %w", err)
	}
	return keys, nil
}

// PutApplicationJWKS checks and stores the application's JWK Set, each
// key with its alg filled in; a bad key is a *PolicyError.
func (s *Service) PutApplicationJWKS(ctx context.Context, appID string, keys []JWK, actor string, cl Client) ([]JWK, error) {
	seen := map[string]bool{}
	for i := range keys {
		field := fmt.Sprintf("keys.%d", i)
		if seen[keys[i].Kid] {
			return nil, &PolicyError{Field: field + ".kid", Reason: "is not unique in the set"}
		}
		seen[keys[i].Kid] = true
		k, err := jose.ParseJWK(keys[i])
		if err != nil {
			return nil, &PolicyError{Field: field, Reason: "is not a usable public key: " + err.Error()}
		}
		keys[i].Alg = k.Alg
	}
	raw, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	if err := s.st.PutApplicationJWKS(ctx, appID, string(raw)); err != nil {
		return nil, err
	}
	s.Audit(ctx, cl.event("application_jwks.put", "success", actor, appID, fmt.Sprintf("%d keys", len(keys))))
	return keys, nil
}
