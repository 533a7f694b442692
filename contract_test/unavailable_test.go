package contract_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// TestServerErrorsInEveryShape closes the database under a running server:
// every credential route answers 500 in its own dialect's shape, saying
// nothing of the cause.
func TestServerErrorsInEveryShape(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	admin := s.adminToken(t)
	key := createAPIKey(t, s, bearer(admin), "k", nil)
	apps, _ := s.Client.ListApplicationsWithResponse(ctx, nil, bearer(admin))
	appID := apps.JSON200.Items[0].Id.String()
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	loginBody := `{"username": "admin", "password": "` + adminPassword + `"}`
	for route, tc := range map[string]struct{ body, want string }{
		"/v1/authenticate":        {`{"email": "a@b.c", "password": "x", "resource": "` + appID + `"}`, `{"error": "Internal Server Error"}`},
		"/v1/auth":                {loginBody, `{"code": 500, "message": "An internal server error has occurred.", "description": "An unexpected error has occurred. Please try again later..."}`},
		"/user/login":             {loginBody, `{"message": "Internal server error"}`},
		"/api/user/authenticate":  {`{"userName": "admin", "password": "x"}`, `{"responseKey": "INTERNAL_ERROR", "responseMessage": "Server is temporarily unavailable"}`},
		"/api/user/refresh-token": {`{"refreshToken": "x"}`, `{"responseKey": "INTERNAL_ERROR", "responseMessage": "Server is temporarily unavailable"}`},
	} {
		status, got := call(t, s, route, "application/json", tc.body, false)
		if status != 500 || len(got) != len(decode(t, tc.want)) {
			t.Errorf("%s: %d %v, want 500 %s", route, status, got, tc.want)
		}
		for k, v := range decode(t, tc.want) {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", route, k, got[k], v)
			}
		}
	}
	serverError := func(name string, status int, body []byte) {
		t.Helper()
		if status != 500 || strings.Contains(strings.ToLower(string(body)), "sql") || strings.Contains(string(body), "closed") {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
	tok, _ := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr("x")})
	serverError("createToken", tok.StatusCode(), tok.Body)
	if tok.JSON500 == nil || tok.JSON500.Error != client.OAuthErrorErrorServerError {
		t.Errorf("createToken: %s", tok.Body)
	}
	rev, _ := s.Client.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: "opaque-refresh-token"})
	serverError("revokeToken", rev.StatusCode(), rev.Body)
	in, _ := s.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: "x"}, bearer(admin))
	serverError("introspectToken", in.StatusCode(), in.Body)
	for _, auth := range []client.RequestEditorFn{bearer(admin), apiKeyHeader(key.Key)} {
		r1, _ := s.Client.ListApiKeysWithResponse(ctx, nil, auth)
		serverError("listApiKeys", r1.StatusCode(), r1.Body)
		r2, _ := s.Client.CreateApiKeyWithResponse(ctx, client.ApiKeyCreate{Name: "x"}, auth)
		serverError("createApiKey", r2.StatusCode(), r2.Body)
		r3, _ := s.Client.GetApiKeyWithResponse(ctx, key.Id, auth)
		serverError("getApiKey", r3.StatusCode(), r3.Body)
		r4, _ := s.Client.DeleteApiKeyWithResponse(ctx, key.Id, auth)
		serverError("deleteApiKey", r4.StatusCode(), r4.Body)
		r5, _ := s.Client.ListAuditEventsWithResponse(ctx, nil, auth)
		serverError("listAuditEvents", r5.StatusCode(), r5.Body)
	}
	a1, _ := s.Client.AuthHeaderAddWithResponse(ctx, client.AuthHeaderAddRequest{Name: "x"}, rawAuthorization(admin))
	serverError("authHeaderAdd", a1.StatusCode(), a1.Body)
	a2, _ := s.Client.AuthHeaderListWithResponse(ctx, rawAuthorization(admin))
	serverError("authHeaderList", a2.StatusCode(), a2.Body)
	a3, _ := s.Client.AuthHeaderDeleteWithResponse(ctx, client.AuthHeaderDeleteRequest{Text: key.Key}, rawAuthorization(admin))
	serverError("authHeaderDelete", a3.StatusCode(), a3.Body)
	if !strings.Contains(s.Log.String(), "request failed") {
		t.Error("the causes of the 500s were not logged")
	}
}

// TestHashingOverloadAnswers503: with one hashing slot and a 1 ms queue
// limit, a burst of logins gets 503 with Retry-After, in each route's
// shape, instead of piling up.
func TestHashingOverloadAnswers503(t *testing.T) {
	t.Parallel()
	s := newServerOptions(t, func(o *gatehouse.Options) {
		o.Hash, o.HashSlots, o.HashQueueWait = auth.DefaultHashParams, 1, time.Millisecond
	})
	ctx := context.Background()
	apps, _ := s.Client.ListApplicationsWithResponse(ctx, nil, bearer(s.adminToken(t)))
	appID := apps.JSON200.Items[0].Id.String()
	bodies := map[string]string{
		"/v1/authenticate":       `{"email": "nobody@example.com", "password": "x", "resource": "` + appID + `"}`,
		"/v1/auth":               `{"username": "admin", "password": "wrong"}`,
		"/user/login":            `{"username": "admin", "password": "wrong"}`,
		"/api/user/authenticate": `{"userName": "admin", "password": "wrong"}`,
	}
	const burst = 8
	for route, body := range bodies {
		var wg sync.WaitGroup
		statuses := make(chan int, burst)
		for range burst {
			wg.Go(func() {
				resp, err := dialectRoutes[route](s.Client, ctx, "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
					t.Errorf("%s: 503 without Retry-After", route)
				}
				statuses <- resp.StatusCode
			})
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for st := range statuses {
			count[st]++
		}
		if count[503] == 0 || count[503]+count[401] != burst {
			t.Errorf("%s: statuses %v, want some 503 and the rest 401", route, count)
		}
	}
	var wg sync.WaitGroup
	var unavailable sync.Map
	for range burst {
		wg.Go(func() {
			r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
				GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr("wrong"),
			})
			if err == nil && r.JSON503 != nil && r.JSON503.Error == client.OAuthErrorErrorTemporarilyUnavailable {
				unavailable.Store(r.HTTPResponse.Header.Get("Retry-After"), true)
			}
		})
	}
	wg.Wait()
	if _, ok := unavailable.Load("1"); !ok {
		t.Error("createToken: no 503 temporarily_unavailable with Retry-After: 1")
	}
}
