package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// CreateApplicationSecret makes a new secret for the application and
// returns it, this once, with what is stored of it.
func (s *Service) CreateApplicationSecret(ctx context.Context, appID string, expiresAt *time.Time, actor string, cl Origin) (string, store.ApplicationSecret, error) {
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
func (s *Service) DeleteApplicationSecret(ctx context.Context, appID, id, actor string, cl Origin) error {
	if err := s.st.DeleteApplicationSecret(ctx, appID, id); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("application_secret.delete", "success", actor, appID, "secret "+id))
	return nil
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
func (s *Service) PutApplicationJWKS(ctx context.Context, appID string, keys []JWK, actor string, cl Origin) ([]JWK, error) {
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
