package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/store"
)

func testAPIKeys(t *testing.T, open func(*testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	seed(t, s)
	owner := newUser("00000000-0000-4000-8000-0000000000a1", "keyowner", at(1))
	mustCreateUser(t, s, owner)
	k := store.APIKey{ID: "00000000-0000-4000-8000-0000000000b1", UserID: owner.ID, Name: "ci", Hash: "h1", Hint: "gatehouse_…abcd", CreatedAt: at(2), ExpiresAt: ptr(at(100))}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	second := k
	second.ID, second.Hash, second.CreatedAt, second.ExpiresAt = "00000000-0000-4000-8000-0000000000b2", "h2", at(3), nil
	if err := s.CreateAPIKey(ctx, second); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "duplicate hash", s.CreateAPIKey(ctx, store.APIKey{ID: "x", UserID: owner.ID, Hash: "h1", CreatedAt: at(4)}), store.ErrConflict)
	wantErr(t, "unknown owner", s.CreateAPIKey(ctx, store.APIKey{ID: "y", UserID: "nobody", Hash: "h3", CreatedAt: at(4)}), store.ErrNotFound)

	got, err := s.GetAPIKeyByHash(ctx, "h1")
	if diff := cmp.Diff(k, got); err != nil || diff != "" {
		t.Fatalf("GetAPIKeyByHash: %v (-want +got):\n%s", err, diff)
	}
	_, err = s.GetAPIKeyByHash(ctx, "nope")
	wantErr(t, "unknown hash", err, store.ErrNotFound)

	used := at(50)
	if err := s.TouchAPIKeys(ctx, map[string]time.Time{k.ID: used, second.ID: at(40)}); err != nil {
		t.Fatal(err)
	}
	// An older time does not move last_used_at back.
	if err := s.TouchAPIKeys(ctx, map[string]time.Time{k.ID: at(10)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAPIKey(ctx, k.ID); got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
		t.Errorf("last used = %v, want %v", got.LastUsedAt, used)
	}

	if err := s.RevokeAPIKey(ctx, k.ID, at(60)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "revoke unknown", s.RevokeAPIKey(ctx, "nope", at(60)), store.ErrNotFound)
	keys, next, err := s.ListAPIKeys(ctx, owner.ID, store.Page{})
	if err != nil || next != "" || len(keys) != 1 || keys[0].ID != second.ID {
		t.Fatalf("list after revoke: %v %q %+v", err, next, keys)
	}
	if got, _ := s.GetAPIKey(ctx, k.ID); got.RevokedAt == nil || !got.RevokedAt.Equal(at(60)) {
		t.Errorf("revoked at = %v", got.RevokedAt)
	}
	// Deleting the owner deletes the keys.
	if err := s.DeleteUser(ctx, owner.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetAPIKey(ctx, second.ID)
	wantErr(t, "key of deleted owner", err, store.ErrNotFound)
}
