package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// requiredAlgs are the algorithms that always have an active key: the
// default, and RS256 for the OCARIoT dialect, which documents it.
func (s *Service) requiredAlgs() []string {
	if s.cfg.SigningAlg == AlgRS256 {
		return []string{AlgRS256}
	}
	return []string{s.cfg.SigningAlg, AlgRS256}
}

// EnsureSigningKeys creates a key for every required algorithm that has
// no active one, then loads the keyring.
func (s *Service) EnsureSigningKeys(ctx context.Context) error {
	keys, err := s.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	for _, alg := range s.requiredAlgs() {
		if hasActive(keys, alg) {
			continue
		}
		k, err := GenerateSigningKey(alg, s.now())
		if err != nil {
			return err
		}
		if err := s.st.CreateSigningKey(ctx, k); err != nil {
			return fmt.Errorf("create signing key: %w", err)
		}
	}
	return s.ReloadSigningKeys(ctx)
}

func hasActive(keys []store.SigningKey, alg string) bool {
	for _, k := range keys {
		if k.Alg == alg && k.RetiredAt == nil {
			return true
		}
	}
	return false
}

// ReloadSigningKeys drops keys retired long enough ago that no token they
// signed is still valid, and loads the rest. Every node calls it
// periodically, so a key rotated on one node reaches the others.
func (s *Service) ReloadSigningKeys(ctx context.Context) error {
	if err := s.st.DeleteSigningKeysRetiredBefore(ctx, s.now().Add(-s.cfg.RetiredKeyRetention)); err != nil {
		return fmt.Errorf("delete retired signing keys: %w", err)
	}
	keys, err := s.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	ring, err := NewKeyring(keys)
	if err != nil {
		return err
	}
	s.keys.Store(ring)
	return nil
}

// RotateSigningKey makes a new active key for alg ("" = the default) and
// retires the keys it replaces; they stay in the JWKS until the tokens
// they signed have expired.
func (s *Service) RotateSigningKey(ctx context.Context, alg, actor string, cl Client) (store.SigningKey, error) {
	if alg == "" {
		alg = s.cfg.SigningAlg
	}
	old, err := s.st.ListSigningKeys(ctx)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("list signing keys: %w", err)
	}
	k, err := GenerateSigningKey(alg, s.now())
	if err != nil {
		return store.SigningKey{}, err
	}
	if err := s.st.CreateSigningKey(ctx, k); err != nil {
		return store.SigningKey{}, fmt.Errorf("create signing key: %w", err)
	}
	for _, o := range old {
		if o.Alg == alg && o.RetiredAt == nil {
			if err := s.st.RetireSigningKey(ctx, o.KID, k.CreatedAt); err != nil {
				return store.SigningKey{}, fmt.Errorf("retire signing key: %w", err)
			}
		}
	}
	if err := s.ReloadSigningKeys(ctx); err != nil {
		return store.SigningKey{}, err
	}
	s.Audit(ctx, cl.event("signing_key.rotate", "success", actor, k.KID, alg))
	k.PrivateKey = nil
	return k, nil
}

// WatchSigningKeys reloads the keyring every interval until ctx ends; this
// bounds how long a node signs with, or rejects, a key rotated elsewhere.
func (s *Service) WatchSigningKeys(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.ReloadSigningKeys(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.ErrorContext(ctx, "reload signing keys", "err", err)
			}
			if err := s.ReloadOwnAudience(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.ErrorContext(ctx, "reload own audience", "err", err)
			}
		}
	}
}
