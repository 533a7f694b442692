package contract_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// TestAdminPasswordKeptOnRestart: a restart with another admin password
// keeps the stored one, and says so in the log rather than silently.
func TestAdminPasswordKeptOnRestart(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const warning = "the administrator exists with another password, which is kept"
	// The same password again (what every restart with an unchanged
	// GATEHOUSE_ADMIN_PASSWORD does): nothing to say.
	if _, err := s.Svc.EnsureAdmin(context.Background(), auth.Admin{Username: "admin", Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.Log.String(), warning) {
		t.Fatalf("warned about an unchanged password:\n%s", s.Log.String())
	}
	if _, err := s.Svc.EnsureAdmin(context.Background(), auth.Admin{Username: "admin", Password: "another-password"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Log.String(), warning) {
		t.Errorf("no warning that the new admin password was not applied:\n%s", s.Log.String())
	}
	if strings.Contains(s.Log.String(), "another-password") {
		t.Error("the log holds the password")
	}
	s.login(t, "admin", adminPassword) // the stored password still works
}
