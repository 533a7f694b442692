package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
)

// TestUsersImport imports bcrypt and argon2id hashes through the CLI; the
// users log in with their passwords, and a bcrypt hash becomes argon2id at
// the first successful login.
func TestUsersImport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "gatehouse.db")
	bc, err := bcrypt.GenerateFromPassword([]byte("legacy-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	argon, err := auth.NewHasher(auth.DefaultHashParams, 1, 0).Hash(ctx, "modern-password")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Join([]string{
		`{"username": "legacy", "password_hash": "` + string(bc) + `", "email": "legacy@example.com"}`,
		`{"username": "modern", "password_hash": "` + argon + `", "first_name": "Mo"}`,
		`{"username": "broken", "password_hash": "md5:5f4dcc3b5aa765d61d8327deb882cf99"}`,
		`not json`,
		`{"username": "nohash"}`,
	}, "\n")
	file := filepath.Join(dir, "users.jsonl")
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	app := newApp()
	app.Writer, app.ErrWriter = &out, &out
	err = app.Run(ctx, []string{"gatehouse", "--db", db, "users", "import", file})
	if err == nil || !strings.Contains(err.Error(), "3 of 5 lines not imported") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	for _, want := range []string{"line 3: not imported", "line 4: not imported", "line 5: not imported", "imported 2 users, 3 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "5f4dcc3b") {
		t.Error("the output echoes a password hash")
	}

	inst, err := gatehouse.Open(ctx, gatehouse.Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	for user, password := range map[string]string{"legacy": "legacy-password", "modern": "modern-password"} {
		if _, err := inst.Service.Login(ctx, auth.LoginRequest{Login: user, Password: password}); err != nil {
			t.Errorf("login %s: %v", user, err)
		}
	}
	u, err := inst.Store.GetUserByLogin(ctx, "legacy")
	if err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("legacy hash after login: %.12s %v", u.PasswordHash, err)
	}
	if _, err := inst.Service.Login(ctx, auth.LoginRequest{Login: "legacy", Password: "legacy-password"}); err != nil {
		t.Errorf("login after re-hash: %v", err)
	}
}
