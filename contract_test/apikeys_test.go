package contract_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

func apiKeyHeader(key string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-API-Key", key)
		return nil
	}
}

func createAPIKey(t *testing.T, s *server, auth client.RequestEditorFn, name string, expires *time.Time) client.ApiKeyCreated {
	t.Helper()
	r, err := s.Client.CreateApiKeyWithResponse(context.Background(), client.ApiKeyCreate{Name: name, ExpiresAt: expires}, auth)
	if err != nil || r.JSON201 == nil {
		t.Fatalf("create api key: %v %d %s", err, r.StatusCode(), r.Body)
	}
	return *r.JSON201
}

// TestAPIKeys: the conformance check of API keys (the key's form, its
// owner's scopes in either header, masked lists and gets, the keys
// refused), the last-used time written in batches, and the operations'
// bad requests, 401 and 403.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	runChecks(t, s, "API keys: a user's acts with its scopes in either header; lists and gets are masked and the owner's only; revoked, expired, mistyped keys and a disabled owner's are 401")
	ctx := context.Background()
	admin := s.adminToken(t)
	adminKey := createAPIKey(t, s, bearer(admin), "ops", nil)
	if r, _ := s.Client.GetMeWithResponse(ctx, apiKeyHeader(adminKey.Key)); r.JSON200 == nil {
		t.Fatalf("admin key on /v1/me: %d %s", r.StatusCode(), r.Body)
	}

	// Last-used time is kept in memory and written in batches.
	if err := s.Svc.FlushAPIKeyUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client.GetApiKeyWithResponse(ctx, adminKey.Id, bearer(admin)); got.JSON200 == nil || got.JSON200.LastUsedAt == nil {
		t.Fatalf("last used not recorded: %s", got.Body)
	}

	// Bad requests and 401/403 of the api-keys operations.
	if r, _ := s.Client.CreateApiKeyWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(`{"name": ""}`), bearer(admin)); r.ApplicationproblemJSON400 == nil {
		t.Errorf("empty name: %d", r.StatusCode())
	}
	if r, _ := s.Client.CreateApiKeyWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(`{"name": "`+strings.Repeat("x", 2<<20)+`"}`), bearer(admin)); r.ApplicationproblemJSON413 == nil {
		t.Errorf("2 MiB: %d", r.StatusCode())
	}
	if r, _ := s.Client.ListApiKeysWithResponse(invalid(ctx), &client.ListApiKeysParams{Limit: ptr(0)}, bearer(admin)); r.ApplicationproblemJSON400 == nil {
		t.Errorf("limit 0: %d", r.StatusCode())
	}
	noScope := s.tokenWithScope(t, "profile")
	for name, call := range map[string]func(client.RequestEditorFn) int{
		"list": func(a client.RequestEditorFn) int {
			r, _ := s.Client.ListApiKeysWithResponse(ctx, nil, a)
			return r.StatusCode()
		},
		"create": func(a client.RequestEditorFn) int {
			r, _ := s.Client.CreateApiKeyWithResponse(ctx, client.ApiKeyCreate{Name: "x"}, a)
			return r.StatusCode()
		},
		"get": func(a client.RequestEditorFn) int {
			r, _ := s.Client.GetApiKeyWithResponse(ctx, adminKey.Id, a)
			return r.StatusCode()
		},
		"delete": func(a client.RequestEditorFn) int {
			r, _ := s.Client.DeleteApiKeyWithResponse(ctx, adminKey.Id, a)
			return r.StatusCode()
		},
	} {
		if got := call(func(context.Context, *http.Request) error { return nil }); got != 401 {
			t.Errorf("%s without credentials: %d", name, got)
		}
		if got := call(bearer(noScope)); got != 403 {
			t.Errorf("%s without api_keys: %d", name, got)
		}
	}
	if r, _ := s.Client.GetApiKeyWithResponse(invalid(ctx), adminKey.Id, bearer(admin), func(_ context.Context, req *http.Request) error {
		req.URL.Path = "/v1/api-keys/not-a-uuid"
		return nil
	}); r.ApplicationproblemJSON400 == nil {
		t.Errorf("non-UUID id: %d", r.StatusCode())
	}
	if r, _ := s.Client.DeleteApiKeyWithResponse(invalid(ctx), adminKey.Id, bearer(admin), func(_ context.Context, req *http.Request) error {
		req.URL.Path = "/v1/api-keys/not-a-uuid"
		return nil
	}); r.ApplicationproblemJSON400 == nil {
		t.Errorf("delete non-UUID id: %d", r.StatusCode())
	}
}

// tokenWithScope logs the admin in with only the given scope.
func (s *server) tokenWithScope(t testing.TB, scope string) string {
	t.Helper()
	r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(context.Background(), client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr(adminPassword), Scope: &scope,
	})
	if err != nil || r.JSON200 == nil {
		t.Fatalf("token with scope %s: %v", scope, err)
	}
	return r.JSON200.AccessToken
}

func rawAuthorization(value string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", value)
		return nil
	}
}

// TestAuthHeaders is seed 003's /authheader/* API.
func TestAuthHeaders(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	s.createUser(t, admin, client.UserCreate{Username: "john.doe", Password: "SecurePass123!"})
	status, login := call(t, s, "/user/login", "application/json", `{"username": "john.doe", "password": "SecurePass123!"}`, false)
	if status != 200 {
		t.Fatalf("login: %d", status)
	}
	jwt := login["Token"].(string)

	// The JWT bare, as the seed documents, or as a Bearer token.
	add, err := s.Client.AuthHeaderAddWithResponse(ctx, client.AuthHeaderAddRequest{Name: "production-api-key"}, rawAuthorization(jwt))
	if err != nil || add.JSON200 == nil || add.JSON200.Name != "production-api-key" || !strings.HasPrefix(add.JSON200.Token, "gatehouse_") {
		t.Fatalf("add: %v %d %s", err, add.StatusCode(), add.Body)
	}
	key := add.JSON200.Token
	second, _ := s.Client.AuthHeaderAddWithResponse(ctx, client.AuthHeaderAddRequest{Name: "second"}, bearer(jwt))
	if second.JSON200 == nil {
		t.Fatalf("add with Bearer: %d %s", second.StatusCode(), second.Body)
	}
	// The auth header works as an API key.
	if me, _ := s.Client.GetMeWithResponse(ctx, apiKeyHeader(key)); me.JSON200 == nil || me.JSON200.Username != "john.doe" {
		t.Fatalf("auth header as API key: %d", me.StatusCode())
	}

	list, err := s.Client.AuthHeaderListWithResponse(ctx, rawAuthorization(jwt))
	if err != nil || list.JSON200 == nil || len(*list.JSON200) != 2 {
		t.Fatalf("list: %v %s", err, list.Body)
	}
	for _, h := range *list.JSON200 {
		if strings.Contains(string(list.Body), key) || !strings.HasPrefix(h.Token, "gatehouse_…") || len(h.Token) != len("gatehouse_…")+4 {
			t.Fatalf("list token not masked: %s", list.Body)
		}
	}

	del, err := s.Client.AuthHeaderDeleteWithResponse(ctx, client.AuthHeaderDeleteRequest{Text: key}, rawAuthorization(jwt))
	if err != nil || del.JSON200 == nil || del.JSON200.Message != "Success" {
		t.Fatalf("delete: %v %d %s", err, del.StatusCode(), del.Body)
	}
	if me, _ := s.Client.GetMeWithResponse(ctx, apiKeyHeader(key)); me.StatusCode() != 401 {
		t.Fatalf("deleted auth header still works: %d", me.StatusCode())
	}
	again, _ := s.Client.AuthHeaderDeleteWithResponse(ctx, client.AuthHeaderDeleteRequest{Text: key}, rawAuthorization(jwt))
	if again.JSON404 == nil || again.JSON404.Message != "Auth header not found" {
		t.Fatalf("delete twice: %d %s", again.StatusCode(), again.Body)
	}
	// Another user's key cannot be deleted by its text.
	adminAdd, _ := s.Client.AuthHeaderAddWithResponse(ctx, client.AuthHeaderAddRequest{Name: "admin's"}, rawAuthorization(admin))
	if r, _ := s.Client.AuthHeaderDeleteWithResponse(ctx, client.AuthHeaderDeleteRequest{Text: adminAdd.JSON200.Token}, rawAuthorization(jwt)); r.JSON404 == nil {
		t.Fatalf("delete another user's key: %d", r.StatusCode())
	}

	// Errors are {"message": ...}: 401 without a valid JWT, 403 without
	// the api_keys scope, 400 for a bad body, 413 for a big one.
	noScope := s.tokenWithScope(t, "profile")
	for name, f := range map[string]func(client.RequestEditorFn) (int, []byte){
		"add": func(a client.RequestEditorFn) (int, []byte) {
			r, _ := s.Client.AuthHeaderAddWithResponse(ctx, client.AuthHeaderAddRequest{Name: "x"}, a)
			return r.StatusCode(), r.Body
		},
		"list": func(a client.RequestEditorFn) (int, []byte) {
			r, _ := s.Client.AuthHeaderListWithResponse(ctx, a)
			return r.StatusCode(), r.Body
		},
		"delete": func(a client.RequestEditorFn) (int, []byte) {
			r, _ := s.Client.AuthHeaderDeleteWithResponse(ctx, client.AuthHeaderDeleteRequest{Text: "x"}, a)
			return r.StatusCode(), r.Body
		},
	} {
		for _, tc := range []struct {
			auth client.RequestEditorFn
			want int
		}{{rawAuthorization(""), 401}, {rawAuthorization("not-a-jwt"), 401}, {rawAuthorization(noScope), 403}} {
			status, body := f(tc.auth)
			var m map[string]any
			if status != tc.want || json.Unmarshal(body, &m) != nil || m["message"] == nil || len(m) != 1 {
				t.Errorf("%s: %d %s, want %d {message}", name, status, body, tc.want)
			}
		}
	}
	for _, tc := range []struct {
		name, body string
		want       int
	}{{"no name", `{}`, 400}, {"name not a string", `{"name": 5}`, 400}, {"2 MiB", `{"name": "` + strings.Repeat("n", 2<<20) + `"}`, 413}} {
		r, _ := s.Client.AuthHeaderAddWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(tc.body), rawAuthorization(jwt))
		if r.StatusCode() != tc.want {
			t.Errorf("add %s: %d %s", tc.name, r.StatusCode(), r.Body)
		}
		r2, _ := s.Client.AuthHeaderDeleteWithBodyWithResponse(invalid(ctx), "application/json", strings.NewReader(strings.ReplaceAll(tc.body, "name", "text")), rawAuthorization(jwt))
		if r2.StatusCode() != tc.want {
			t.Errorf("delete %s: %d %s", tc.name, r2.StatusCode(), r2.Body)
		}
	}
}
