package store_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// openWithFamilies returns a SQLite store holding one user and n refresh
// families, fam0…, whose first tokens are tok0….
func openWithFamilies(t testing.TB, n int) *store.DB {
	t.Helper()
	s := open(t)
	seedFamilies(t, s, n)
	return s
}

// seedFamilies stores openWithFamilies' user and families in s.
func seedFamilies(t testing.TB, s *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.PutRole(ctx, store.Role{Name: "user", Code: 2, Scopes: []string{"profile"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateApplication(ctx, store.Application{ID: "app", Name: "App", Audience: "aud",
		AccessTokenTTL: time.Minute, RefreshTokenTTL: time.Hour, IsDefault: true, CreatedAt: epoch}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, store.User{ID: "u", Username: "u", Role: "user", PasswordHash: "h",
		PasswordChangedAt: epoch, CreatedAt: epoch, UpdatedAt: epoch}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := s.CreateRefreshToken(ctx, token(fmt.Sprint("tok", i), fmt.Sprint("fam", i))); err != nil {
			t.Fatal(err)
		}
	}
}

func token(hash, family string) store.RefreshToken {
	return store.RefreshToken{Hash: hash, FamilyID: family, UserID: "u", AppID: "app", Scope: "profile",
		CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour), FamilyKey: []byte("key")}
}

// TestGroupCommitEachRotationAllOrNothing carries four rotations in one
// group: one breaks a uniqueness rule, one spends a token an earlier one
// of the group spent. The failure is that rotation's alone; the spent one
// rotates nothing; the others commit.
func TestGroupCommitEachRotationAllOrNothing(t *testing.T) {
	ctx := t.Context()
	s := openWithFamilies(t, 3)
	at := epoch.Add(time.Minute)
	rotated, errs := s.RotateAsGroup(ctx, []store.Rotation{
		{OldHash: "tok0", Next: token("next0", ""), Now: at},
		{OldHash: "tok1", Next: token("tok2", ""), Now: at}, // tok2 exists: a conflict
		{OldHash: "tok2", Next: token("next2", ""), Now: at},
		{OldHash: "tok0", Next: token("again0", ""), Now: at}, // tok0 was spent by the first
	})
	wantRotated := []bool{true, false, true, false}
	wantErrs := []error{nil, store.ErrConflict, nil, nil}
	for i := range wantRotated {
		if rotated[i] != wantRotated[i] || !errors.Is(errs[i], wantErrs[i]) || (wantErrs[i] == nil && errs[i] != nil) {
			t.Errorf("rotation %d: rotated %v, err %v; want %v, %v", i, rotated[i], errs[i], wantRotated[i], wantErrs[i])
		}
	}
	for hash, wantUsed := range map[string]bool{"tok0": true, "tok1": false, "tok2": true, "next0": false, "next2": false} {
		got, err := s.GetRefreshToken(ctx, hash)
		if err != nil {
			t.Errorf("GetRefreshToken(%s): %v", hash, err)
			continue
		}
		if used := got.UsedAt != nil; used != wantUsed {
			t.Errorf("%s used: %v, want %v", hash, used, wantUsed)
		}
	}
	if _, err := s.GetRefreshToken(ctx, "again0"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("again0 stored (%v): a spent token rotated twice", err)
	}
	// The conflicting rotation left no trace: tok1 still rotates.
	if err := s.RotateRefreshToken(ctx, "tok1", token("next1", ""), at); err != nil {
		t.Errorf("tok1 after its failed rotation: %v", err)
	}
}

// TestGroupCommitDropsEndedRequests: a rotation whose caller's request
// ended before its group began is not carried out; the rest of the group
// is.
func TestGroupCommitDropsEndedRequests(t *testing.T) {
	s := openWithFamilies(t, 2)
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	at := epoch.Add(time.Minute)
	rotated, errs := s.RotateAsGroup(t.Context(), []store.Rotation{
		{Ctx: ended, OldHash: "tok0", Next: token("next0", ""), Now: at},
		{OldHash: "tok1", Next: token("next1", ""), Now: at},
	})
	if rotated[0] || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("the ended request's rotation: rotated %v, err %v; want not, context.Canceled", rotated[0], errs[0])
	}
	if !rotated[1] || errs[1] != nil {
		t.Errorf("the live rotation: rotated %v, err %v", rotated[1], errs[1])
	}
	if got, err := s.GetRefreshToken(t.Context(), "tok0"); err != nil || got.UsedAt != nil {
		t.Errorf("tok0 after its dropped rotation: %+v, %v; want unused", got, err)
	}
}

// TestGroupCommitClosed: a rotation asked of a closed store fails and
// changes nothing.
func TestGroupCommitClosed(t *testing.T) {
	s := openWithFamilies(t, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateRefreshToken(t.Context(), "tok0", token("next0", ""), epoch); err == nil {
		t.Error("rotation on a closed store succeeded")
	}
}

// BenchmarkRotate rotates from 16 goroutines, each its own family's chain,
// in one transaction per rotation (as before group commit) and grouped,
// in one run; it reports rotations per second and, grouped, per group.
func BenchmarkRotate(b *testing.B) {
	for _, mode := range []string{"one-tx-each", "grouped"} {
		b.Run(mode, func(b *testing.B) {
			s := openWithFamilies(b, 0)
			ctx := context.Background()
			g0, r0, _ := s.GroupCommitStats()
			var chains atomic.Int64
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				c := chains.Add(1)
				prev := fmt.Sprint("tok", c)
				if err := s.CreateRefreshToken(ctx, token(prev, fmt.Sprint("fam", c))); err != nil {
					b.Error(err)
					return
				}
				for i := 0; pb.Next(); i++ {
					hash := fmt.Sprintf("tok%d-%d", c, i)
					var err error
					if mode == "grouped" {
						err = s.RotateRefreshToken(ctx, prev, token(hash, ""), epoch)
					} else {
						err = s.RotateInOwnTransaction(ctx, prev, token(hash, ""), epoch)
					}
					if err != nil {
						b.Error(err)
						return
					}
					prev = hash
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rotations/s")
			if g, r, _ := s.GroupCommitStats(); g > g0 {
				b.ReportMetric(float64(r-r0)/float64(g-g0), "rotations/group")
			}
		})
	}
}
