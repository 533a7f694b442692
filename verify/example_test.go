package verify_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/verify"
)

// A resource server verifies gatehouse's tokens for its own audience and
// requires the scope orders:read on GET /orders.
func Example() {
	ctx := context.Background()
	v, err := verify.New(ctx, "https://auth.example.com", verify.Options{
		Audience: "api://orders",
		// For RequireActive: an API key holding tokens:introspect.
		Introspection: &verify.Credentials{APIKey: "gh_..."},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Require("orders:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "orders of %s\n", c.Subject)
	})))
	// Refunds must see a revoked token at once.
	mux.Handle("POST /refunds", v.RequireActive("orders:refund")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	log.Fatal(http.ListenAndServe(":8080", mux))
}
