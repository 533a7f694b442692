package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/store"
)

// countingStore counts the store calls client authentication makes.
type countingStore struct {
	store.Store
	gets, lists atomic.Int64
}

func (c *countingStore) GetApplication(ctx context.Context, id string) (store.Application, error) {
	c.gets.Add(1)
	return c.Store.GetApplication(ctx, id)
}

func (c *countingStore) ListApplicationSecrets(ctx context.Context, appID string) ([]store.ApplicationSecret, error) {
	c.lists.Add(1)
	return c.Store.ListApplicationSecrets(ctx, appID)
}

// TestUnknownClientCostsAWrongSecret: an unknown client does the work a
// wrong secret does (one application read, one secrets read, one
// constant-time comparison) and fails the same way.
func TestUnknownClientCostsAWrongSecret(t *testing.T) {
	ctx := context.Background()
	cs := &countingStore{Store: openTestStore(t)}
	svc := newTestService(t, cs, Config{})
	app := store.Application{ID: uuid.NewString(), Name: "m2m", Audience: "api://m2m", AccessTokenTTL: 60e9, RefreshTokenTTL: 60e9}
	if err := cs.CreateApplication(ctx, app); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateApplicationSecret(ctx, app.ID, nil, "", Origin{}); err != nil {
		t.Fatal(err)
	}
	var compares atomic.Int64
	orig := secretCompare
	secretCompare = func(a, b []byte) bool { compares.Add(1); return orig(a, b) }
	defer func() { secretCompare = orig }()

	cost := func(id string) [3]int64 {
		cs.gets.Store(0)
		cs.lists.Store(0)
		compares.Store(0)
		_, err := svc.AuthenticateClient(ctx, ClientAuth{ID: id, Secret: "wrong-secret"}, Origin{})
		if !errors.Is(err, ErrInvalidClient) {
			t.Fatalf("AuthenticateClient(%s) = %v, want ErrInvalidClient", id, err)
		}
		return [3]int64{cs.gets.Load(), cs.lists.Load(), compares.Load()}
	}
	wrong, unknown := cost(app.ID), cost(uuid.NewString())
	if wrong != unknown || wrong != [3]int64{1, 1, 1} {
		t.Errorf("wrong secret cost %v, unknown client %v (application reads, secret reads, comparisons); want both 1, 1, 1", wrong, unknown)
	}
}
