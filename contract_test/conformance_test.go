package contract_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/conformance"
)

// runChecks runs the named checks of conformance.Suite against s, the
// checks `gatehouse conformance` runs against a live deployment, through
// s's validating client: a check that fails fails t, and what the checks
// created is deleted when t ends (and must be gone).
func runChecks(t *testing.T, s *server, names ...string) {
	t.Helper()
	ctx := context.Background()
	e := &conformance.Env{Client: s.Client, Username: "admin", Password: adminPassword, Prefix: "check-" + strings.ToLower(t.Name()) + "-"}
	var steps []func()
	e.OnCleanup = func(name string, step func(context.Context) error) {
		steps = append(steps, func() {
			if err := step(ctx); err != nil {
				t.Errorf("cleanup: %s: %v", name, err)
			}
		})
	}
	t.Cleanup(func() {
		for i := len(steps) - 1; i >= 0; i-- {
			steps[i]()
		}
		if e.Admin != "" {
			if err := conformance.Leftovers(ctx, e); err != nil {
				t.Errorf("after the checks: %v", err)
			}
		}
	})
	for _, name := range names {
		i := slices.IndexFunc(conformance.Suite, func(c conformance.Check) bool { return c.Name == name })
		if i < 0 {
			t.Fatalf("conformance.Suite has no check %q", name)
		}
		c := conformance.Suite[i]
		if c.Admin && e.Admin == "" {
			e.Admin = s.adminToken(t)
		}
		if err := c.Run(ctx, e); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}

// TestConformanceSuite: the whole of `gatehouse conformance`, every check
// of the suite and its clean-up, passes against the test server, through
// the contract suite's Contract (its pairs count towards the coverage).
func TestConformanceSuite(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var out strings.Builder
	res, err := conformance.Run(context.Background(), conformance.Options{
		URL: s.URL, Username: "admin", Password: adminPassword, Out: &out, Contract: contract.c,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed > 0 || res.Passed < len(conformance.Suite) {
		t.Errorf("%d passed, %d failed:\n%s", res.Passed, res.Failed, out.String())
	}
}
