package auth

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/jose"
	"github.com/gatehouse-auth/gatehouse/store"
)

// An API key is APIKeyPrefix, 32 base62 characters holding 184 random bits
// and 6 base62 characters of the secret's CRC-32: the prefix lets secret
// scanners recognise a leaked key, the checksum rejects a mistyped one
// without a database lookup.
const (
	APIKeyPrefix    = "gatehouse_"
	apiKeySecretLen = 32
	apiKeyCheckLen  = 6
	apiKeyLen       = len(APIKeyPrefix) + apiKeySecretLen + apiKeyCheckLen
	base62          = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// ErrInvalidAPIKey is returned for a key that is malformed, unknown,
// revoked or expired, or whose owner is disabled.
var ErrInvalidAPIKey = errors.New("invalid api key")

// base62Fixed encodes n in exactly width base62 digits.
func base62Fixed(n *big.Int, width int) string {
	out := make([]byte, width)
	n = new(big.Int).Set(n)
	b, r := big.NewInt(62), new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.QuoRem(n, b, r)
		out[i] = base62[r.Int64()]
	}
	return string(out)
}

func apiKeyChecksum(secret string) string {
	return base62Fixed(big.NewInt(int64(crc32.ChecksumIEEE([]byte(secret)))), apiKeyCheckLen)
}

// WellFormedAPIKey checks a key's prefix, length, alphabet and checksum.
func WellFormedAPIKey(key string) bool {
	if len(key) != apiKeyLen || !strings.HasPrefix(key, APIKeyPrefix) {
		return false
	}
	body := key[len(APIKeyPrefix):]
	for i := range len(body) {
		if strings.IndexByte(base62, body[i]) < 0 {
			return false
		}
	}
	secret := body[:apiKeySecretLen]
	return apiKeyChecksum(secret) == body[apiKeySecretLen:]
}

func (s *Service) newAPIKey() (string, error) {
	b := make([]byte, 23) // 184 bits: below 62^32, so no digit is lost
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	secret := base62Fixed(new(big.Int).SetBytes(b), apiKeySecretLen)
	return APIKeyPrefix + secret + apiKeyChecksum(secret), nil
}

// apiKeyHint is what lists show of a key: its prefix and last four characters.
func apiKeyHint(key string) string { return APIKeyPrefix + "…" + key[len(key)-4:] }

// CreateAPIKey makes a key for userID. The key is returned this once;
// only its hash is stored.
func (s *Service) CreateAPIKey(ctx context.Context, userID, name string, expiresAt *time.Time, cl Origin) (string, store.APIKey, error) {
	key, err := s.newAPIKey()
	if err != nil {
		return "", store.APIKey{}, err
	}
	id, err := s.newID()
	if err != nil {
		return "", store.APIKey{}, err
	}
	k := store.APIKey{
		ID: id, UserID: userID, Name: name, Hash: jose.HashRandomSecret(key),
		Hint: apiKeyHint(key), CreatedAt: s.now(), ExpiresAt: expiresAt,
	}
	if err := s.st.CreateAPIKey(ctx, k); err != nil {
		return "", store.APIKey{}, err
	}
	s.Audit(ctx, cl.event("api_key.create", "success", userID, k.ID, name))
	return key, k, nil
}

// APIKeyPrincipal is who an API key acts for.
type APIKeyPrincipal struct {
	KeyID  string
	User   store.User
	Scopes []string
}

// AuthenticateAPIKey checks a key and returns its owner with the owner's
// role's scopes. It records the use in memory; FlushAPIKeyUsage writes it.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key string) (APIKeyPrincipal, error) {
	if !WellFormedAPIKey(key) {
		return APIKeyPrincipal{}, ErrInvalidAPIKey
	}
	k, err := s.st.GetAPIKeyByHash(ctx, jose.HashRandomSecret(key))
	if errors.Is(err, store.ErrNotFound) {
		return APIKeyPrincipal{}, ErrInvalidAPIKey
	}
	if err != nil {
		return APIKeyPrincipal{}, err
	}
	now := s.now()
	if k.RevokedAt != nil || (k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)) {
		return APIKeyPrincipal{}, ErrInvalidAPIKey
	}
	u, err := s.st.GetUser(ctx, k.UserID)
	if err != nil {
		return APIKeyPrincipal{}, err
	}
	if u.Disabled {
		return APIKeyPrincipal{}, ErrInvalidAPIKey
	}
	role, err := s.st.GetRole(ctx, u.Role)
	if err != nil {
		return APIKeyPrincipal{}, err
	}
	s.usage.record(k.ID, now)
	return APIKeyPrincipal{KeyID: k.ID, User: u, Scopes: role.Scopes}, nil
}

// ListAPIKeys lists a user's keys that are not revoked.
func (s *Service) ListAPIKeys(ctx context.Context, userID string, p store.Page) ([]store.APIKey, string, error) {
	return s.st.ListAPIKeys(ctx, userID, p)
}

// GetAPIKey returns one of the user's keys; another user's is ErrNotFound.
func (s *Service) GetAPIKey(ctx context.Context, userID, id string) (store.APIKey, error) {
	k, err := s.st.GetAPIKey(ctx, id)
	if err != nil {
		return store.APIKey{}, err
	}
	if k.UserID != userID || k.RevokedAt != nil {
		return store.APIKey{}, fmt.Errorf("api key %s: %w", id, store.ErrNotFound)
	}
	return k, nil
}

// RevokeAPIKey revokes one of the user's keys.
func (s *Service) RevokeAPIKey(ctx context.Context, userID, id string, cl Origin) error {
	if _, err := s.GetAPIKey(ctx, userID, id); err != nil {
		return err
	}
	if err := s.st.RevokeAPIKey(ctx, id, s.now()); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("api_key.revoke", "success", userID, id, ""))
	return nil
}

// RevokeAPIKeyBySecret revokes the user's key given the key itself.
func (s *Service) RevokeAPIKeyBySecret(ctx context.Context, userID, key string, cl Origin) error {
	if !WellFormedAPIKey(key) {
		return fmt.Errorf("malformed api key: %w", store.ErrNotFound)
	}
	k, err := s.st.GetAPIKeyByHash(ctx, jose.HashRandomSecret(key))
	if err != nil {
		return err
	}
	return s.RevokeAPIKey(ctx, userID, k.ID, cl)
}

// apiKeyUsage batches last-used times so that authenticating with a key
// costs no database write.
type apiKeyUsage struct {
	mu       sync.Mutex
	lastUsed map[string]time.Time
}

// record notes that key id was used at t, unless a later use is noted.
func (u *apiKeyUsage) record(id string, t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.lastUsed == nil {
		u.lastUsed = map[string]time.Time{}
	}
	if prev, ok := u.lastUsed[id]; !ok || t.After(prev) {
		u.lastUsed[id] = t
	}
}

func (u *apiKeyUsage) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.lastUsed
	u.lastUsed = nil
	return m
}

// FlushAPIKeyUsage writes the last-used times recorded since the last
// flush, in one transaction.
func (s *Service) FlushAPIKeyUsage(ctx context.Context) error {
	m := s.usage.take()
	if len(m) == 0 {
		return nil
	}
	if err := s.st.TouchAPIKeys(ctx, m); err != nil {
		// Kept for the next flush (a stalled database loses no use),
		// unless a later use replaced it meanwhile.
		for id, t := range m {
			s.usage.record(id, t)
		}
		return fmt.Errorf("flush api key usage: %w", err)
	}
	return nil
}

// WatchAPIKeyUsage flushes last-used times every interval, and once more
// when ctx ends.
func (s *Service) WatchAPIKeyUsage(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.FlushAPIKeyUsage(context.WithoutCancel(ctx)); err != nil {
				s.cfg.Logger.Error("flush api key usage", "err", err)
			}
			return
		case <-t.C:
			if err := s.FlushAPIKeyUsage(ctx); err != nil {
				s.cfg.Logger.ErrorContext(ctx, "flush api key usage", "err", err)
			}
		}
	}
}
