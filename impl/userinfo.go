package impl

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// GetUserInfo is GET /oauth/userinfo.
func (h *Handlers) GetUserInfo(ctx context.Context, _ api.GetUserInfoRequestObject) (api.GetUserInfoResponseObject, error) {
	r, err := h.userInfo(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetUserInfo200JSONResponse{UserInfoJSONResponse: r}, nil
}

// PostUserInfo is POST /oauth/userinfo.
func (h *Handlers) PostUserInfo(ctx context.Context, _ api.PostUserInfoRequestObject) (api.PostUserInfoResponseObject, error) {
	r, err := h.userInfo(ctx)
	if err != nil {
		return nil, err
	}
	return api.PostUserInfo200JSONResponse{UserInfoJSONResponse: r}, nil
}

// userInfo answers the request's Bearer token with the claims its scopes
// release, or an RFC 6750 challenge.
func (h *Handlers) userInfo(ctx context.Context) (api.UserInfoJSONResponse, error) {
	token := infoFrom(ctx).bearer
	if token == "" {
		return api.UserInfoJSONResponse{}, &Error{Kind: KindUnauthenticated, Code: "invalid_token", Detail: "a Bearer access token is required"}
	}
	u, c, err := h.svc.UserInfo(ctx, token)
	switch {
	case errors.Is(err, auth.ErrNoOpenIDScope):
		return api.UserInfoJSONResponse{}, &Error{Kind: KindForbidden, Code: "insufficient_scope", Scope: auth.ScopeOpenID, Detail: "the token's scope lacks openid"}
	case errors.Is(err, auth.ErrInvalidToken):
		return api.UserInfoJSONResponse{}, &Error{Kind: KindUnauthenticated, Code: "invalid_token", TokenGiven: true, Detail: "the access token is invalid, expired or revoked", Err: err}
	case err != nil:
		return api.UserInfoJSONResponse{}, err
	}
	return api.UserInfoJSONResponse{
		Body: api.UserInfo{
			Sub: uuid.MustParse(u.ID), PreferredUsername: nonEmpty(c.PreferredUsername), Name: nonEmpty(c.Name),
			GivenName: nonEmpty(c.GivenName), FamilyName: nonEmpty(c.FamilyName), Email: nonEmpty(c.Email), EmailVerified: c.EmailVerified,
		},
		Headers: api.UserInfoResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}
