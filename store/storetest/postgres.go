package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresEnv names the environment variable that holds the URL of a
// PostgreSQL server on which the tests may create and drop databases, such
// as the one .ci/postgres.sh starts:
// postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable
const PostgresEnv = "GATEHOUSE_TEST_POSTGRES"

// Timeout is the deadline of a database call in the stores the suite
// runs on: the suite checks what the store does, not how fast, and 64
// workers queued for SQLite's one writer under the race detector on a
// busy machine may wait longer than the production default. The deadline
// itself is contract_test's TestDatabaseStall's to check.
const Timeout = time.Minute

// PostgresServer returns the server URL in GATEHOUSE_TEST_POSTGRES. Without
// one the test is skipped, except in CI (CI=true), where it fails: CI must
// test the real server, never skip it silently.
func PostgresServer(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u != "" {
		return u
	}
	const msg = "PostgreSQL tests need " + PostgresEnv + " (a server URL such as " +
		"postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable); " +
		"run `make test-postgres`, or `export " + PostgresEnv + "=$(.ci/postgres.sh)`"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// admins holds one connection pool per server URL, for CREATE and DROP
// DATABASE.
var admins struct {
	sync.Mutex
	dbs map[string]*sql.DB
}

func admin(serverURL string) (*sql.DB, error) {
	admins.Lock()
	defer admins.Unlock()
	if db := admins.dbs[serverURL]; db != nil {
		return db, nil
	}
	db, err := sql.Open("pgx", serverURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	if admins.dbs == nil {
		admins.dbs = map[string]*sql.DB{}
	}
	admins.dbs[serverURL] = db
	return db, nil
}

// NewPostgresDatabase creates an empty database gh_<random> on the server
// at serverURL and returns its URL (the server URL with the database name
// replaced, its other parameters kept). The database is dropped when the
// test ends, after the cleanups registered later (which close the pools on
// it) have run.
func NewPostgresDatabase(t testing.TB, serverURL string) string {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	db, err := admin(serverURL)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "gh_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database on %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// PostgresDatabase is NewPostgresDatabase on the server of
// GATEHOUSE_TEST_POSTGRES (see PostgresServer).
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	return NewPostgresDatabase(t, PostgresServer(t))
}
