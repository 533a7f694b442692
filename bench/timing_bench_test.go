package bench

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// benchFailedLogin times a failed password grant and reports the median,
// which a timing attack would compare.
func benchFailedLogin(b *testing.B, username string) {
	c := startServer(b)
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		r, err := c.CreateTokenWithFormdataBodyWithResponse(context.Background(), client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypePassword, Username: ptr(username), Password: ptr("not-the-password"),
		})
		took = append(took, time.Since(start))
		if err != nil || r.JSON400 == nil {
			b.Fatalf("failed login: %v %d", err, r.StatusCode())
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "median-ns")
}

// BenchmarkLoginUnknownUser: the dummy-hash path.
func BenchmarkLoginUnknownUser(b *testing.B) { benchFailedLogin(b, "nobody") }

// BenchmarkLoginWrongPassword: a real user, a wrong password. Its counter
// locks the account after 10 failures, after which it too is answered
// with the dummy hash; -benchtime 9x keeps it to real verifications.
func BenchmarkLoginWrongPassword(b *testing.B) { benchFailedLogin(b, "admin") }
