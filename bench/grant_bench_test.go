// Package bench measures gatehouse. The Go benchmarks here time single
// operations through the real HTTP server; `make bench` runs them.
package bench

import (
	"context"
	"path/filepath"
	"testing"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/internal/testserver"
)

// benchPassword is the administrator's.
const benchPassword = testserver.AdminPassword

// startServer runs gatehouse with the production argon2id parameters.
func startServer(b *testing.B) *client.ClientWithResponses {
	c, _ := startInstance(b, auth.Config{})
	return c
}

// startInstance starts gatehouse on a SQLite file with the production
// argon2id parameters and the service settings cfg, and returns its
// client and the instance.
func startInstance(b *testing.B, cfg auth.Config) (*client.ClientWithResponses, *gatehouse.Instance) {
	b.Helper()
	ts := testserver.Start(b, func(_ string, o *gatehouse.Options) {
		o.DB, o.Auth, o.Hash = filepath.Join(b.TempDir(), "bench.db"), cfg, auth.DefaultHashParams
	})
	return ts.Client(b), ts.Instance
}

func passwordGrant(b *testing.B, c *client.ClientWithResponses) client.TokenResponse {
	r, err := c.CreateTokenWithFormdataBodyWithResponse(context.Background(), client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr(benchPassword),
	})
	if err != nil || r.JSON200 == nil {
		b.Fatalf("password grant: %v %d", err, r.StatusCode())
	}
	return *r.JSON200
}

func ptr[T any](v T) *T { return &v }

// BenchmarkArgon2idHash is the hash alone, with the server's parameters.
func BenchmarkArgon2idHash(b *testing.B) {
	h := auth.NewHasher(auth.DefaultHashParams, 1, 0)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), benchPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasswordGrant is a whole password login over HTTP.
func BenchmarkPasswordGrant(b *testing.B) {
	c := startServer(b)
	for b.Loop() {
		passwordGrant(b, c)
	}
}

// BenchmarkRefreshGrant is a whole refresh-token rotation over HTTP.
func BenchmarkRefreshGrant(b *testing.B) {
	c := startServer(b)
	token := passwordGrant(b, c).RefreshToken
	for b.Loop() {
		r, err := c.CreateTokenWithFormdataBodyWithResponse(context.Background(), client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: &token,
		})
		if err != nil || r.JSON200 == nil {
			b.Fatalf("refresh grant: %v %d", err, r.StatusCode())
		}
		token = r.JSON200.RefreshToken
	}
}
