package bench

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// benchGetMe times GET /v1/me with the given credentials.
func benchGetMe(b *testing.B, c *client.ClientWithResponses, auth client.RequestEditorFn) {
	for b.Loop() {
		r, err := c.GetMeWithResponse(context.Background(), auth)
		if err != nil || r.JSON200 == nil {
			b.Fatalf("GET /v1/me: %v %d", err, r.StatusCode())
		}
	}
}

// BenchmarkProtectedGET compares a JWT-authenticated request with an
// API-key-authenticated one, on one server in one run.
func BenchmarkProtectedGET(b *testing.B) {
	c := startServer(b)
	token := passwordGrant(b, c).AccessToken
	bearer := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
	created, err := c.CreateApiKeyWithResponse(context.Background(), client.ApiKeyCreate{Name: "bench"}, bearer)
	if err != nil || created.JSON201 == nil {
		b.Fatalf("create api key: %v", err)
	}
	key := created.JSON201.Key
	b.Run("JWT", func(b *testing.B) { benchGetMe(b, c, bearer) })
	b.Run("APIKey", func(b *testing.B) {
		benchGetMe(b, c, func(_ context.Context, req *http.Request) error {
			req.Header.Set("X-API-Key", key)
			return nil
		})
	})
}
