package gatehouse_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// Example logs in with the Go SDK and reads the user's own profile. The
// first lines only start a throwaway gatehouse, as `make run` would.
func Example() {
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	defer os.RemoveAll(dir)
	inst, err := gatehouse.Open(context.Background(), gatehouse.Options{DB: filepath.Join(dir, "gatehouse.db")})
	if err != nil {
		panic(err)
	}
	defer inst.Close()
	inst.Service.EnsureAdmin(context.Background(), auth.Admin{Username: "admin", Password: "change-me-now"})
	srv := httptest.NewServer(inst.Handler)
	defer srv.Close()

	// README: the SDK in use.
	ctx := context.Background()
	c, err := client.NewClientWithResponses(srv.URL) // e.g. "http://127.0.0.1:8080"
	if err != nil {
		panic(err)
	}
	username, password := "admin", "change-me-now"
	tok, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password,
	})
	if err != nil {
		panic(err)
	}
	if tok.JSON200 == nil { // a 400 carries tok.JSON400.Error, e.g. "invalid_grant"
		panic(string(tok.Body))
	}
	withToken := func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+tok.JSON200.AccessToken)
		return nil
	}
	me, err := c.GetMeWithResponse(ctx, withToken)
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.JSON200.TokenType, tok.JSON200.ExpiresIn, me.JSON200.Username, me.JSON200.Role)
	// Output: Bearer 3600 admin admin
}
