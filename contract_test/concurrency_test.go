package contract_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// TestConcurrentLoginsAndRefreshes: 64 clients logging in and refreshing
// at once all succeed; SQLite never answers "database is locked".
func TestConcurrentLoginsAndRefreshes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const clients, rounds = 64, 3
	var wg sync.WaitGroup
	errs := make(chan string, clients*rounds*2)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for range rounds {
				login, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
					GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr(adminPassword),
				})
				if err != nil || login.JSON200 == nil {
					errs <- "login: " + string(login.Body)
					continue
				}
				rt := login.JSON200.RefreshToken
				for range 2 {
					r, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
						GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: &rt,
					})
					if err != nil || r.JSON200 == nil {
						errs <- "refresh: " + string(r.Body)
						break
					}
					rt = r.JSON200.RefreshToken
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if t.Failed() {
		t.Logf("server log:\n%s", s.Log.String())
	}
}
