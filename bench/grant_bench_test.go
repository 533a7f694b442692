// Package bench measures gatehouse. The Go benchmarks here time single
// operations through the real HTTP server; `make bench` runs them.
package bench

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

const benchPassword = "benchmark-password"

// startServer runs gatehouse with the production argon2id parameters.
func startServer(b *testing.B) *client.ClientWithResponses {
	c, _ := startInstance(b, auth.Config{})
	return c
}

// startInstance starts gatehouse with the service settings cfg and returns
// its client and the instance.
func startInstance(b *testing.B, cfg auth.Config) (*client.ClientWithResponses, *gatehouse.Instance) {
	b.Helper()
	ctx := context.Background()
	inst, err := gatehouse.Open(ctx, gatehouse.Options{DB: filepath.Join(b.TempDir(), "bench.db"), Auth: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { inst.Close() })
	if _, err := inst.Service.EnsureAdmin(ctx, auth.Admin{Username: "admin", Password: benchPassword}); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(inst.Handler)
	b.Cleanup(ts.Close)
	c, err := client.NewClientWithResponses(ts.URL)
	if err != nil {
		b.Fatal(err)
	}
	return c, inst
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
