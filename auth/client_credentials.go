package auth

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/store"
)

// ClientSubType is the sub_type of a token issued to an application by the
// client_credentials grant.
const ClientSubType = "client"

// ClientCredentials issues an access token to an authenticated
// application (RFC 6749 §4.4): sub the application id, sub_type "client",
// aud the application's audience, scope the requested scopes (all of the
// application's when none are asked for). There is no refresh token.
func (s *Service) ClientCredentials(ctx context.Context, app store.Application, requested string, cl Origin) (AccessToken, error) {
	scope, err := narrowScope(app.Scopes, requested)
	if err != nil {
		s.Audit(ctx, cl.event("client_credentials", "failure", app.ID, app.ID, "scope not granted"))
		return AccessToken{}, err
	}
	tok, err := s.issueAccessToken(store.User{ID: app.ID, Role: ClientSubType}, app, scope, "", "", app.AccessTokenTTL, nil)
	if err != nil {
		return AccessToken{}, err
	}
	s.Audit(ctx, cl.event("client_credentials", "success", app.ID, app.ID, ""))
	return tok, nil
}
