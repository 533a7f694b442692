package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// BenchmarkDBCopy times store.Copy (gatehouse db copy) of a SQLite
// deployment of GATEHOUSE_COPY_USERS users (default 100,000), each with a
// refresh family, to PostgreSQL (GATEHOUSE_TEST_POSTGRES) or, without it,
// to another SQLite file. The baseline, measured in the same run, is the
// same rows written one user at a time through the store's own methods
// (CreateUser, CreateRefreshToken), as seeding the source does; the
// report gives both times and their ratio:
//
//	GATEHOUSE_TEST_POSTGRES=$(.ci/postgres.sh) go test -run '^$' -bench DBCopy -benchtime 1x ./store/
func BenchmarkDBCopy(b *testing.B) {
	n := 100_000
	if v := os.Getenv("GATEHOUSE_COPY_USERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	source := filepath.Join(b.TempDir(), "source.db")
	src, err := store.OpenSQLiteMigrated(ctx, source)
	if err != nil {
		b.Fatal(err)
	}
	seedStart := time.Now()
	now := time.Now().UTC()
	if _, err := src.PutRole(ctx, store.Role{Name: "user", Scopes: []string{"profile"}}); err != nil {
		b.Fatal(err)
	}
	app := store.Application{ID: uuid.NewString(), Name: "default", Audience: "gatehouse", AccessTokenTTL: time.Hour, RefreshTokenTTL: 24 * time.Hour, IsDefault: true, CreatedAt: now}
	if err := src.CreateApplication(ctx, app); err != nil {
		b.Fatal(err)
	}
	const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	for i := range n {
		u := store.User{ID: uuid.NewString(), Username: fmt.Sprintf("user%07d", i), Email: fmt.Sprintf("user%07d@bench.example", i),
			Role: "user", PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := src.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		if err := src.CreateRefreshToken(ctx, store.RefreshToken{Hash: uuid.NewString(), FamilyID: uuid.NewString(), UserID: u.ID, AppID: app.ID,
			Scope: "profile", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour), FamilyKey: []byte(rand.Text())}); err != nil {
			b.Fatal(err)
		}
	}
	seed := time.Since(seedStart)
	src.Close()
	for b.Loop() {
		target := filepath.Join(b.TempDir(), "target.db")
		if os.Getenv(storetest.PostgresEnv) != "" {
			target = storetest.PostgresDatabase(b)
		}
		start := time.Now()
		if err := store.Copy(ctx, source, target, func(store.TableCount) {}); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.ReportMetric(took.Seconds(), "copy-s")
		b.ReportMetric(seed.Seconds(), "seed-s")
		b.ReportMetric(took.Seconds()/seed.Seconds(), "copy/seed")
	}
}
