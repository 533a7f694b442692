package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/auth/seal"
	"github.com/gatehouse-auth/gatehouse/store"
)

// ErrMasterKey is returned at start when the master key does not open the
// secrets the database holds (or none is configured and they are sealed).
var ErrMasterKey = errors.New("the master key does not open this database's sealed secrets: is --master-key-file the key the database was sealed with?")

// sealAD is the additional data a secret is sealed with: its kind and its
// row's key, so that a sealed value moved to another row does not open.
func sealAD(kind, id string) []byte { return []byte("gatehouse " + kind + "\x00" + id) }

// sealSecret seals plain, the secret of the row kind/id. Without a sealer
// (unit tests of auth alone) it is kept as it is.
func (s *Service) sealSecret(kind, id string, plain []byte) ([]byte, error) {
	if s.cfg.Sealer == nil {
		return plain, nil
	}
	return s.cfg.Sealer.Seal(plain, sealAD(kind, id))
}

// openSecret opens a value sealSecret made; a plain value (from before
// sealing) is returned as it is.
func (s *Service) openSecret(kind, id string, stored []byte) ([]byte, error) {
	if !seal.IsSealed(stored) {
		return stored, nil
	}
	if s.cfg.Sealer == nil {
		return nil, fmt.Errorf("%s %s: %w", kind, id, ErrMasterKey)
	}
	plain, err := s.cfg.Sealer.Open(stored, sealAD(kind, id))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, id, ErrMasterKey)
	}
	return plain, nil
}

const (
	kindSigningKey = "signing_key"
	kindTOTP       = "totp"
)

// createSigningKey stores k with its private key sealed.
func (s *Service) createSigningKey(ctx context.Context, k store.SigningKey) error {
	sealed, err := s.sealSecret(kindSigningKey, k.KID, k.PrivateKey)
	if err != nil {
		return err
	}
	k.PrivateKey = sealed
	if err := s.st.CreateSigningKey(ctx, k); err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

// UnsealSigningKey returns k with its private key opened: PKCS#8 DER, as
// GenerateSigningKey made it. The store holds it sealed.
func (s *Service) UnsealSigningKey(k store.SigningKey) (store.SigningKey, error) {
	plain, err := s.openSecret(kindSigningKey, k.KID, k.PrivateKey)
	if err != nil {
		return store.SigningKey{}, err
	}
	k.PrivateKey = plain
	return k, nil
}

// SealStoredSecrets is the migration step run at every start: it seals the
// signing keys stored plain (from before sealing) and checks that the
// master key opens those already sealed, so a wrong key fails the start,
// not the first login. It is idempotent, and safe on several nodes at
// once: a key is replaced only while it is still the plain value read.
func (s *Service) SealStoredSecrets(ctx context.Context) error {
	keys, err := s.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	for _, k := range keys {
		if seal.IsSealed(k.PrivateKey) {
			if _, err := s.UnsealSigningKey(k); err != nil {
				return err
			}
			continue
		}
		if s.cfg.Sealer == nil {
			continue
		}
		sealed, err := s.sealSecret(kindSigningKey, k.KID, k.PrivateKey)
		if err != nil {
			return err
		}
		if _, err := s.st.ReplaceSigningKeyPrivate(ctx, k.KID, k.PrivateKey, sealed); err != nil {
			return fmt.Errorf("seal signing key %s: %w", k.KID, err)
		}
	}
	secrets, err := s.st.ListTOTPSecrets(ctx)
	if err != nil {
		return err
	}
	for id, sec := range secrets {
		if _, err := s.openSecret(kindTOTP, id, sec); err != nil {
			return err
		}
	}
	return nil
}
