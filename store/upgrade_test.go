package store_test

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// TestUpgradeSQLite and TestUpgradePostgres: a database made by the
// migrations of before version 4 (1 to 3, as at commit 85cf217), holding
// rows, opens with the store: it migrates in place, keeps the rows and
// fills the version 4 columns.
func TestUpgradeSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(ON)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	testUpgrade(t, db, goose.DialectSQLite3, "sqlite", path)
}

func TestUpgradePostgres(t *testing.T) {
	dsn := storetest.PostgresDatabase(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	testUpgrade(t, db, goose.DialectPostgres, "postgres", dsn)
}

// testUpgrade migrates db, the database at dsn, to version 3 with the files
// of migrations/dir, inserts a row into each table, and checks them through
// the store that then opens dsn.
func testUpgrade(t *testing.T, db *sql.DB, dialect goose.Dialect, dir, dsn string) {
	ctx := t.Context()
	p, err := goose.NewProvider(dialect, db, os.DirFS(filepath.Join("migrations", dir)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatalf("migrate to version 3: %v", err)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := created.UnixNano()
	key := []byte{0x30, 0x82, 0x01}
	for _, q := range []string{
		`INSERT INTO roles (name, code, scopes) VALUES ('user', 2, 'read write')`,
		`INSERT INTO users (id, username, username_key, email, email_key, role, password_hash,
			password_changed_at, created_at, updated_at, last_failed_at)
			VALUES ('u-1', 'Alice', 'alice', 'a@example.com', 'a@example.com', 'user', 'h', $n, $n, $n, $n)`,
		`INSERT INTO applications (id, name, audience, access_token_ttl_seconds, refresh_token_ttl_seconds,
			is_default, created_at) VALUES ('app', 'App', 'aud', 900, 86400, TRUE, $n)`,
		`INSERT INTO signing_keys (kid, alg, private_key, created_at) VALUES ('k-1', 'EdDSA', $key, $n)`,
		`INSERT INTO refresh_families (id, user_id, app_id, created_at) VALUES ('fam', 'u-1', 'app', $n)`,
		`INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, scope, created_at, expires_at)
			VALUES ('h-0', 'fam', 'u-1', 'app', 'read', $n, $n + 3600000000000)`,
		`INSERT INTO api_keys (id, user_id, name, hash, hint, created_at) VALUES ('ak', 'u-1', 'ci', 'ah', 'gh_…abcd', $n)`,
	} {
		q = strings.ReplaceAll(q, "$n", strconv.FormatInt(n, 10))
		args := []any{}
		if strings.Contains(q, "$key") {
			// A parameter, as a blob literal is spelt differently by each engine.
			q = strings.ReplaceAll(q, "$key", map[string]string{"sqlite": "?", "postgres": "$1"}[dir])
			args = append(args, key)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	s, err := store.OpenMigrated(ctx, dsn)
	if err != nil {
		t.Fatalf("OpenMigrated on a version 3 database: %v", err)
	}
	defer s.Close()
	if cur, latest, err := s.MigrationStatus(ctx); err != nil || cur != latest || cur < 4 {
		t.Fatalf("MigrationStatus = %d, %d, %v; want the latest, at least 4", cur, latest, err)
	}
	u, err := s.GetUserByLogin(ctx, "ALICE")
	if err != nil || u.ID != "u-1" || u.Email != "a@example.com" || !u.CreatedAt.Equal(created) {
		t.Errorf("GetUserByLogin = %+v, %v", u, err)
	}
	if r, err := s.GetRole(ctx, "user"); err != nil || r.Code != 2 || len(r.Scopes) != 2 {
		t.Errorf("GetRole = %+v, %v", r, err)
	}
	// Version 10: the default application is a first-party public client.
	if a, err := s.DefaultApplication(ctx); err != nil || a.ID != "app" || a.AccessTokenTTL != 15*time.Minute ||
		!a.FirstParty || a.ClientType != store.ClientPublic {
		t.Errorf("DefaultApplication = %+v, %v", a, err)
	}
	if k, err := s.GetAPIKeyByHash(ctx, "ah"); err != nil || k.ID != "ak" || k.UserID != "u-1" {
		t.Errorf("GetAPIKeyByHash = %+v, %v", k, err)
	}
	// Version 4: a key made before it has signed since it was created.
	keys, err := s.ListSigningKeys(ctx)
	if err != nil || len(keys) != 1 || !bytes.Equal(keys[0].PrivateKey, key) ||
		!keys[0].ActiveFrom.Equal(created) || keys[0].RetiredAt != nil {
		t.Errorf("ListSigningKeys = %+v, %v; want k-1 active from its creation", keys, err)
	}
	// Version 4: a family made before it has no successor key, and its
	// token still rotates.
	tok, err := s.GetRefreshToken(ctx, "h-0")
	if err != nil || tok.FamilyID != "fam" || tok.FamilyKey != nil || tok.UsedAt != nil {
		t.Errorf("GetRefreshToken = %+v, %v; want family fam without a successor key", tok, err)
	}
	next := store.RefreshToken{Hash: "h-1", Scope: "read", CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	if err := s.RotateRefreshToken(ctx, "h-0", next, created.Add(time.Minute)); err != nil {
		t.Errorf("RotateRefreshToken of a version 3 token: %v", err)
	}
	if _, err := s.RecordLoginFailure(ctx, "u-1", store.LoginFailure{At: created, WindowStart: created, MaxAttempts: 5, LockUntil: created}); err != nil {
		t.Errorf("RecordLoginFailure: %v", err)
	}
	// Version 9: the purge runs on the upgraded tables; the family goes
	// with its expired tokens.
	if err := s.PurgeExpired(ctx, created.Add(2*time.Hour), nil); err != nil {
		t.Errorf("PurgeExpired: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, "h-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired token after the purge: %v, want ErrNotFound", err)
	}
	if err := s.TouchRefreshFamily(ctx, "fam", store.RefreshUse{At: created}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the emptied family after the purge: %v, want ErrNotFound", err)
	}
}
