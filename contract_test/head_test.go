package contract_test

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// HEAD is served wherever GET is (RFC 9110 §9.3.2): the same status and
// header fields, no body, on every GET path of the contract, with the GET's
// authentication, scopes and request validation. The contract declares no
// HEAD operation for most of them; the validating client checks each such
// HEAD as its GET.
func TestHeadIsGet(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	loadContract(t)
	admin := s.adminToken(t)
	doer := &validatingDoer{t: t}
	send := func(ctx context.Context, method, path, token string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := doer.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	same := func(ctx context.Context, path, token string) int {
		t.Helper()
		get, _ := send(ctx, http.MethodGet, path, token)
		head, body := send(ctx, http.MethodHead, path, token)
		if head.StatusCode != get.StatusCode || len(body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes of body; GET: %d", path, head.StatusCode, len(body), get.StatusCode)
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "WWW-Authenticate", "Allow"} {
			if head.Header.Get(h) != get.Header.Get(h) {
				t.Errorf("HEAD %s: %s %q; GET: %q", path, h, head.Header.Get(h), get.Header.Get(h))
			}
		}
		return head.StatusCode
	}

	// Every GET path, as the administrator.
	served := 0
	for _, path := range contract.spec.Paths.InMatchingOrder() {
		if contract.spec.Paths.Value(path).Get == nil {
			continue
		}
		if same(context.Background(), concretePath(path), admin) < 300 {
			served++
		}
	}
	if served < 10 {
		t.Errorf("only %d GET paths answered the administrator's HEAD with a success", served)
	}

	// Authentication, scopes and validation apply as to the GET.
	for name, tc := range map[string]struct {
		path, token string
		want        int
		valid       bool
	}{
		"no token":                {"/v1/me", "", http.StatusUnauthorized, true},
		"bad token":               {"/v1/me", "not-a-token", http.StatusUnauthorized, true},
		"the user":                {"/v1/me", admin, http.StatusOK, true},
		"missing scope":           {"/v1/users", s.tokenWithScope(t, "profile"), http.StatusForbidden, true},
		"invalid query parameter": {"/v1/users?limit=many", admin, http.StatusBadRequest, false},
		"invalid path parameter":  {"/v1/users/not-a-uuid", admin, http.StatusBadRequest, false},
	} {
		ctx := context.Background()
		if !tc.valid {
			ctx = invalid(ctx)
		}
		if got := same(ctx, tc.path, tc.token); got != tc.want {
			t.Errorf("%s: HEAD %s: %d, want %d", name, tc.path, got, tc.want)
		}
	}
}
