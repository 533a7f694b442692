package impl

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// The dialects gatehouse speaks besides its native API. Each names its
// routes and the renderer of its error bodies.
const (
	DialectJmvstream = "jmvstream"  // POST /v1/authenticate (seeds 000, 001)
	DialectOcariot   = "ocariot"    // POST /v1/auth (seed 002)
	DialectUserLogin = "user-login" // POST /user/login (seed 003)
	DialectAPIUser   = "api-user"   // POST /api/user/* (seed 004)
)

// AllDialects lists every dialect, all enabled by default.
var AllDialects = []string{DialectJmvstream, DialectOcariot, DialectUserLogin, DialectAPIUser}

type dialect struct {
	name   string
	paths  []string
	render renderer
}

var dialects = []dialect{
	{DialectJmvstream, []string{"/v1/authenticate"}, jmvstreamRenderer{}},
	{DialectOcariot, []string{"/v1/auth"}, ocariotRenderer{}},
	{DialectUserLogin, []string{"/user/login"}, userLoginRenderer{}},
	{DialectUserLogin, []string{"/authheader/add", "/authheader/list", "/authheader/delete"}, authHeaderRenderer{}},
	{DialectAPIUser, []string{"/api/user/authenticate", "/api/user/refresh-token"}, apiUserRenderer{}},
}

// routeDialect is the dialect a request path belongs to: one of the
// dialects above, "oauth" or "native".
func routeDialect(path string) (string, renderer) {
	for _, d := range dialects {
		for _, p := range d.paths {
			if path == p {
				return d.name, d.render
			}
		}
	}
	if strings.HasPrefix(path, "/oauth/") {
		return "oauth", oauthRenderer{}
	}
	return "native", problemRenderer{}
}

// dialectLoginError maps a login failure to the one answer every dialect
// gives for it: a 401 for anything that must look like a wrong password.
// Only a dialect that documents it (tellsExpiry) learns that the password
// has expired.
func dialectLoginError(err error, tellsExpiry bool) error {
	switch {
	case errors.Is(err, auth.ErrPasswordExpired) && tellsExpiry:
		return &Error{Kind: KindForbidden, Detail: "password expired", Err: err}
	case errors.Is(err, auth.ErrPasswordExpired), errors.Is(err, auth.ErrInvalidCredentials),
		errors.Is(err, auth.ErrUnknownApplication), errors.Is(err, auth.ErrInvalidScope),
		errors.Is(err, auth.ErrInvalidGrant), errors.Is(err, auth.ErrInvalidClient):
		return &Error{Kind: KindUnauthenticated, Detail: "not authenticated", Err: err}
	}
	return err
}

// JmvstreamAuthenticate is POST /v1/authenticate.
func (h *Handlers) JmvstreamAuthenticate(ctx context.Context, req api.JmvstreamAuthenticateRequestObject) (api.JmvstreamAuthenticateResponseObject, error) {
	sess, err := h.svc.Login(ctx, auth.LoginRequest{
		Login: string(req.Body.Email), Password: req.Body.Password, AppID: req.Body.Resource.String(), Origin: originFrom(ctx),
	})
	if err != nil {
		return nil, dialectLoginError(err, false)
	}
	return api.JmvstreamAuthenticate200JSONResponse{Token: sess.Access.Token}, nil
}

// OcariotAuth is POST /v1/auth: RS256 and a one-day lifetime by default.
func (h *Handlers) OcariotAuth(ctx context.Context, req api.OcariotAuthRequestObject) (api.OcariotAuthResponseObject, error) {
	sess, err := h.svc.Login(ctx, auth.LoginRequest{
		Login: req.Body.Username, Password: req.Body.Password, Origin: originFrom(ctx),
		Alg: cmp.Or(h.cfg.OcariotAlg, auth.AlgRS256), AccessTTL: cmp.Or(h.cfg.OcariotTokenTTL, 24*time.Hour),
	})
	if err != nil {
		return nil, dialectLoginError(err, false)
	}
	return api.OcariotAuth200JSONResponse{AccessToken: sess.Access.Token}, nil
}

// UserLogin is POST /user/login, the one dialect that tells an expired
// password (403) from a wrong one (401).
func (h *Handlers) UserLogin(ctx context.Context, req api.UserLoginRequestObject) (api.UserLoginResponseObject, error) {
	sess, err := h.svc.Login(ctx, auth.LoginRequest{Login: req.Body.Username, Password: req.Body.Password, Origin: originFrom(ctx)})
	if err != nil {
		return nil, dialectLoginError(err, true)
	}
	u := sess.User
	out := api.UserLogin200JSONResponse{
		Id: uuid.MustParse(u.ID), Created: u.CreatedAt.UTC().Truncate(time.Second), Username: u.Username, Token: sess.Access.Token,
	}
	out.Email, out.Firstname, out.Lastname = nullString(u.Email), nullString(u.FirstName), nullString(u.LastName)
	if exp := h.svc.PasswordExpiry(u); exp != nil {
		out.PasswordExpiration.Set(exp.UTC().Truncate(time.Second))
	} else {
		out.PasswordExpiration.SetNull()
	}
	return out, nil
}

// ApiUserAuthenticate is POST /api/user/authenticate.
func (h *Handlers) ApiUserAuthenticate(ctx context.Context, req api.ApiUserAuthenticateRequestObject) (api.ApiUserAuthenticateResponseObject, error) {
	sess, err := h.svc.Login(ctx, auth.LoginRequest{Login: req.Body.UserName, Password: req.Body.Password, Refresh: true, Origin: originFrom(ctx)})
	if err != nil {
		return nil, dialectLoginError(err, false)
	}
	return api.ApiUserAuthenticate200JSONResponse{ApiUserTokensJSONResponse: apiUserTokens(sess)}, nil
}

// ApiUserRefreshToken is POST /api/user/refresh-token.
func (h *Handlers) ApiUserRefreshToken(ctx context.Context, req api.ApiUserRefreshTokenRequestObject) (api.ApiUserRefreshTokenResponseObject, error) {
	sess, err := h.svc.Refresh(ctx, auth.RefreshRequest{Token: req.Body.RefreshToken, Origin: originFrom(ctx)})
	if err != nil {
		return nil, dialectLoginError(err, false)
	}
	return api.ApiUserRefreshToken200JSONResponse{ApiUserTokensJSONResponse: apiUserTokens(sess)}, nil
}

// nullString is null for "", as the dialect's clients expect of unset fields.
func nullString(s string) nullable.Nullable[string] {
	if s == "" {
		return nullable.NewNullNullable[string]()
	}
	return nullable.NewNullableWithValue(s)
}

func apiUserTokens(s auth.Tokens) api.ApiUserTokensJSONResponse {
	u := s.User
	return api.ApiUserTokensJSONResponse{
		AccessToken: s.Access.Token, AccessTokenExpiryTime: s.Access.ExpiresAt.UTC(),
		RefreshToken: s.RefreshToken, RefreshTokenExpiryTime: s.RefreshExpiresAt.UTC(),
		Email: u.Email, FullName: cmp.Or(strings.TrimSpace(u.FirstName+" "+u.LastName), u.Username),
		UserName: u.Username, Role: s.Role.Code,
		ResponseKey: api.SUCCESS, ResponseMessage: api.SuccessfulRequest,
	}
}
