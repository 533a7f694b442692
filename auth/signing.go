package auth

import (
	"context"
	"fmt"
	"slices"
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
// none that signs now or will (a first start), then loads the keyring. A
// key made here is active at once: there is nothing to stage it after.
func (s *Service) EnsureSigningKeys(ctx context.Context) error {
	keys, err := s.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	for _, alg := range s.requiredAlgs() {
		if hasUnretired(keys, alg) {
			continue
		}
		k, err := GenerateSigningKey(alg, s.now())
		if err != nil {
			return err
		}
		if err := s.createSigningKey(ctx, k); err != nil {
			return err
		}
	}
	return s.ReloadSigningKeys(ctx)
}

// hasUnretired reports whether a key of alg has no retirement: it signs
// now, or will from its active_from, and whatever it replaces signs until
// then.
func hasUnretired(keys []store.SigningKey, alg string) bool {
	return slices.ContainsFunc(keys, func(k store.SigningKey) bool { return k.Alg == alg && k.RetiredAt == nil })
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
	for i := range keys {
		if keys[i], err = s.UnsealSigningKey(keys[i]); err != nil {
			return err
		}
	}
	ring, err := NewKeyring(keys)
	if err != nil {
		return err
	}
	s.keys.Store(ring)
	return nil
}

// RotateSigningKey makes a new key for alg ("" = the default) and retires
// the keys of alg it replaces; they stay in the JWKS until the tokens they
// signed have expired.
//
// A staged rotation (immediate false) publishes the new key at once but
// makes it active only after the KeyActivationDelay; the keys it replaces
// sign until then and retire at that moment. Every node that has loaded
// the new key switches to it at its ActiveFrom by its own clock. An
// immediate rotation (a compromised key) signs with the new key at once
// and retires the others now, staged ones included. With no key of alg
// signing now, there is nothing to keep signing with, so the new key is
// active at once either way.
func (s *Service) RotateSigningKey(ctx context.Context, alg string, immediate bool, actor string, cl Origin) (store.SigningKey, error) {
	if alg == "" {
		alg = s.cfg.SigningAlg
	}
	old, err := s.st.ListSigningKeys(ctx)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("list signing keys: %w", err)
	}
	now := s.now()
	k, err := GenerateSigningKey(alg, now)
	if err != nil {
		return store.SigningKey{}, err
	}
	signing := slices.ContainsFunc(old, func(o store.SigningKey) bool { return o.Alg == alg && signsAt(o.ActiveFrom, o.RetiredAt, now) })
	detail := alg + " immediate"
	if !immediate && signing {
		k.ActiveFrom = now.Add(s.cfg.KeyActivationDelay)
		detail = alg + " staged, active from " + k.ActiveFrom.Format(time.RFC3339)
	}
	if err := s.createSigningKey(ctx, k); err != nil {
		return store.SigningKey{}, err
	}
	for _, o := range old {
		// The store keeps the earlier of two retirements: a key already
		// retiring before the new key's activation keeps its time.
		if o.Alg == alg && (o.RetiredAt == nil || o.RetiredAt.After(k.ActiveFrom)) {
			if err := s.st.RetireSigningKey(ctx, o.KID, k.ActiveFrom); err != nil {
				return store.SigningKey{}, fmt.Errorf("retire signing key: %w", err)
			}
		}
	}
	if err := s.ReloadSigningKeys(ctx); err != nil {
		return store.SigningKey{}, err
	}
	s.Audit(ctx, cl.event("signing_key.rotate", "success", actor, k.KID, detail))
	k.PrivateKey = nil
	return k, nil
}

// ActiveSigningKey returns the kid of the key of alg that signs now.
func (s *Service) ActiveSigningKey(alg string) (kid string, ok bool) {
	kid, _, _, ok = s.Keys().Active(alg, s.now())
	return kid, ok
}

// WatchSigningKeys reloads the keyring every interval until ctx ends, so a
// key rotated on another node is published and verified here within one
// interval. Which key signs is decided by the keys' active_from, not by
// the reload: with an interval shorter than KeyActivationDelay every node
// has loaded a staged key before it becomes active, and all switch at
// once. (An immediate rotation reaches the other nodes only at their next
// reload.)
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
