package auth

// Client authentication: the one client rule (IdentifyClient) and the two
// ways a confidential client proves itself, a secret or an assertion.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
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

// AssertionType is RFC 7523's client_assertion_type for private_key_jwt.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// MaxAssertionLifetime is how far ahead a client assertion's exp may lie.
const MaxAssertionLifetime = 5 * time.Minute

// ClientAssertionAlgs are the algorithms a client assertion may be signed with.
var ClientAssertionAlgs = []string{AlgES256, AlgRS256, AlgEdDSA}

// dummySecretHash is compared against when the client is unknown, so that
// an unknown client costs what a wrong secret does.
var dummySecretHash = jose.HashRandomSecret("gatehouse: no such client")

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
func (s *Service) IdentifyClient(ctx context.Context, ca ClientAuth, cl Origin) (store.Application, error) {
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
	case app.Confidential():
		err = errConfidential
	default:
		return app, nil
	}
	s.Audit(ctx, cl.event("client.authenticate", "failure", "", app.ID, err.Error()))
	return store.Application{}, err
}

// AuthenticateClient checks a confidential application's credentials and
// returns the application. Every failure is ErrInvalidClient.
func (s *Service) AuthenticateClient(ctx context.Context, ca ClientAuth, cl Origin) (store.Application, error) {
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
