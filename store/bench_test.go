package store_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"testing"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/internal/testserver"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// BenchmarkGrants compares the backends over HTTP, in one run: the
// password grant (production argon2id parameters, so mostly hashing) and
// the refresh grant (no hashing: a read, one rotation transaction and a
// signature), each from one client at a time and from 8 clients at once.
// It reports requests per second. The PostgreSQL half needs
// GATEHOUSE_TEST_POSTGRES:
//
//	GATEHOUSE_TEST_POSTGRES=$(.ci/postgres.sh) go test -run '^$' -bench Grants ./store/
func BenchmarkGrants(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			db := filepath.Join(b.TempDir(), "bench.db")
			if backend == "postgres" {
				db = storetest.PostgresDatabase(b)
			}
			c := startBenchServer(b, db)
			b.Run("login", func(b *testing.B) {
				for b.Loop() {
					benchLogin(b, c)
				}
				reportRate(b)
			})
			b.Run("login-8-clients", func(b *testing.B) {
				b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := login(c); err != nil {
							b.Error(err)
							return
						}
					}
				})
				reportRate(b)
			})
			b.Run("refresh", func(b *testing.B) {
				token := benchLogin(b, c).RefreshToken
				b.ResetTimer()
				for b.Loop() {
					token = benchRefresh(b, c, token)
				}
				reportRate(b)
			})
			b.Run("refresh-8-clients", func(b *testing.B) {
				b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
				// Each client has its own token chain, from logins made
				// before the clock starts.
				tokens := make(chan string, 64)
				for range cap(tokens) {
					tokens <- benchLogin(b, c).RefreshToken
				}
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					token := <-tokens
					for pb.Next() {
						var err error
						if token, err = refresh(c, token); err != nil {
							b.Error(err)
							return
						}
					}
				})
				reportRate(b)
			})
		})
	}
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// benchPassword is the administrator's.
const benchPassword = testserver.AdminPassword

// startBenchServer runs gatehouse on db with the production argon2id
// parameters and the administrator "admin".
func startBenchServer(b *testing.B, db string) *client.ClientWithResponses {
	b.Helper()
	ts := testserver.Start(b, func(_ string, o *gatehouse.Options) { o.DB, o.Hash = db, auth.DefaultHashParams })
	return ts.Client(b, client.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}))
}

func login(c *client.ClientWithResponses) (client.TokenResponse, error) {
	username, password := "admin", benchPassword
	r, err := c.CreateTokenWithFormdataBodyWithResponse(context.Background(), client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password,
	})
	if err != nil || r.JSON200 == nil {
		return client.TokenResponse{}, fmt.Errorf("password grant: %v %d %s", err, r.StatusCode(), r.Body)
	}
	return *r.JSON200, nil
}

func refresh(c *client.ClientWithResponses, token string) (string, error) {
	r, err := c.CreateTokenWithFormdataBodyWithResponse(context.Background(), client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: &token,
	})
	if err != nil || r.JSON200 == nil {
		return "", fmt.Errorf("refresh grant: %v %d %s", err, r.StatusCode(), r.Body)
	}
	return r.JSON200.RefreshToken, nil
}

func benchLogin(b *testing.B, c *client.ClientWithResponses) client.TokenResponse {
	t, err := login(c)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

func benchRefresh(b *testing.B, c *client.ClientWithResponses, token string) string {
	next, err := refresh(c, token)
	if err != nil {
		b.Fatal(err)
	}
	return next
}
