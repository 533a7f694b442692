package impl

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

// CreateToken is the RFC 6749 token endpoint.
func (h *Handlers) CreateToken(ctx context.Context, req api.CreateTokenRequestObject) (api.CreateTokenResponseObject, error) {
	body, err := oneBody(req.FormdataBody, req.JSONBody)
	if err != nil {
		return nil, err
	}
	if body.GrantType == api.TokenRequestGrantTypeClientCredentials {
		return h.clientCredentialsGrant(ctx, body)
	}
	// Every other grant names its client at most: the one client rule
	// checks it before the grant is looked at. A refresh that names its
	// client by client_id alone is checked against the token's own
	// application, which auth.Refresh reads with the token, so the hot
	// path costs no read of its own.
	cc, err := clientCredentialsOf(ctx, body.ClientId, body.ClientSecret, body.ClientAssertion, body.ClientAssertionType)
	if err != nil {
		return nil, err
	}
	var app store.Application
	if body.GrantType != api.TokenRequestGrantTypeRefreshToken || cc.present() {
		if app, err = h.identifyClient(ctx, cc); err != nil {
			return nil, err
		}
	}
	var sess auth.Tokens
	switch body.GrantType {
	case api.TokenRequestGrantTypeAuthorizationCode:
		return h.authorizationCodeGrant(ctx, body, app, cc.present())
	case api.TokenRequestGrantTypePassword:
		if body.Username == nil || body.Password == nil {
			return nil, errorf(KindInvalid, "username and password are required")
		}
		sess, err = h.svc.Login(ctx, auth.LoginRequest{
			Login: *body.Username, Password: *body.Password, AppID: app.ID,
			Scope: deref(body.Scope), Refresh: true, MFA: true, Origin: originFrom(ctx),
		})
		if e := (*auth.MFARequiredError)(nil); errors.As(err, &e) {
			return mfaRequired(e), nil
		}
	case api.TokenRequestGrantTypeHttpauth0ComoauthgrantTypemfaOtp, api.TokenRequestGrantTypeHttpauth0ComoauthgrantTypemfaRecoveryCode:
		sess, err = h.mfaGrant(ctx, body, app.ID, body.GrantType == api.TokenRequestGrantTypeHttpauth0ComoauthgrantTypemfaRecoveryCode)
	case api.TokenRequestGrantTypeRefreshToken:
		if body.RefreshToken == nil {
			return nil, errorf(KindInvalid, "refresh_token is required")
		}
		sess, err = h.svc.Refresh(ctx, auth.RefreshRequest{
			Token: *body.RefreshToken, ClientID: cmp.Or(app.ID, cc.id), ClientAuthenticated: cc.present(), Origin: originFrom(ctx),
		})
	}
	if err != nil {
		return nil, oauthTokenError(err)
	}
	return tokenResponse(sess.Access, sess.RefreshToken, "", sess.Access.Claims.Scope), nil
}

// tokenResponse is the token endpoint's 200 (RFC 6749 §5.1), never cached.
func tokenResponse(access auth.AccessToken, refreshToken, idToken, scope string) api.CreateToken200JSONResponse {
	return api.CreateToken200JSONResponse{
		Body: api.TokenResponse{
			AccessToken: access.Token, TokenType: api.Bearer, RefreshToken: refreshToken, IdToken: idToken,
			ExpiresIn: int(access.ExpiresAt.Sub(access.Claims.IssuedAt.Time) / time.Second),
			Scope:     scope,
		},
		Headers: api.CreateToken200ResponseHeaders{CacheControl: ptr("no-store"), Pragma: ptr("no-cache")},
	}
}

// authorizationCodeGrant exchanges a code of the authorization endpoint
// (RFC 6749 §4.1.3, RFC 7636 §4.6) for app, the client CreateToken
// identified by the one client rule; auth checks and spends the code.
func (h *Handlers) authorizationCodeGrant(ctx context.Context, body *api.CreateTokenFormdataRequestBody, app store.Application, authenticated bool) (api.CreateTokenResponseObject, error) {
	if body.Code == nil || body.CodeVerifier == nil {
		return nil, errorf(KindInvalid, "code and code_verifier are required")
	}
	out, err := h.svc.ExchangeCode(ctx, auth.CodeExchange{
		Code: *body.Code, RedirectURI: deref(body.RedirectUri), CodeVerifier: *body.CodeVerifier,
		Client: app, ClientAuthenticated: authenticated, Origin: originFrom(ctx),
	})
	switch {
	case errors.Is(err, auth.ErrInvalidGrant):
		return nil, &Error{Kind: KindInvalid, Code: "invalid_grant", Detail: "the authorization code is invalid, expired, used, or not this client's, redirect_uri's or code_verifier's"}
	case err != nil:
		return nil, oauthTokenError(err)
	}
	return tokenResponse(out.Access, out.RefreshToken, out.IDToken, out.Scope), nil
}

// codeInvalidClient is RFC 6749's error for a client that failed to
// authenticate; the only one the token endpoint answers with 401.
const codeInvalidClient = "invalid_client"

// errUnknownClient answers a token request whose client_id, in the body or
// as the HTTP Basic username, names no application.
func errUnknownClient() *Error {
	return &Error{Kind: KindUnauthenticated, Code: codeInvalidClient, Detail: "unknown client_id: no application has this id"}
}

// oauthTokenError maps a login or refresh failure to RFC 6749 §5.2.
func oauthTokenError(err error) error {
	switch {
	case errors.Is(err, auth.ErrPasswordExpired):
		return &Error{Kind: KindInvalid, Code: "invalid_grant", Detail: "password expired"}
	case errors.Is(err, auth.ErrInvalidCredentials):
		return &Error{Kind: KindInvalid, Code: "invalid_grant", Detail: "invalid username or password"}
	case errors.Is(err, auth.ErrInvalidGrant):
		return &Error{Kind: KindInvalid, Code: "invalid_grant", Detail: "the refresh token is invalid, expired or revoked"}
	case errors.Is(err, auth.ErrInvalidScope):
		return &Error{Kind: KindInvalid, Code: "invalid_scope", Detail: "the requested scope is not granted"}
	case errors.Is(err, auth.ErrUnknownApplication):
		return errUnknownClient()
	}
	return clientError(err)
}

// RevokeToken is the RFC 7009 revocation endpoint.
func (h *Handlers) RevokeToken(ctx context.Context, req api.RevokeTokenRequestObject) (api.RevokeTokenResponseObject, error) {
	body, err := oneBody(req.FormdataBody, req.JSONBody)
	if err != nil {
		return nil, err
	}
	// Holding the token is the right to revoke it; a client that names
	// itself (as OAuth libraries do) is checked by the client rule, and
	// revokes only its own tokens.
	cc, err := clientCredentialsOf(ctx, body.ClientId, body.ClientSecret, body.ClientAssertion, body.ClientAssertionType)
	if err != nil {
		return nil, err
	}
	app, err := h.identifyClient(ctx, cc)
	if err != nil {
		return nil, err
	}
	err = h.svc.Revoke(ctx, body.Token, app, originFrom(ctx))
	if errors.Is(err, auth.ErrOtherClient) {
		return nil, &Error{Kind: KindInvalid, Code: "invalid_grant", Detail: "the token was issued to another client", Err: err}
	}
	if err != nil {
		return nil, err
	}
	return api.RevokeToken200Response{}, nil
}

// IntrospectToken is the RFC 7662 introspection endpoint.
func (h *Handlers) IntrospectToken(ctx context.Context, req api.IntrospectTokenRequestObject) (api.IntrospectTokenResponseObject, error) {
	body, err := oneBody(req.FormdataBody, req.JSONBody)
	if err != nil {
		return nil, err
	}
	in, err := h.svc.Introspect(ctx, body.Token)
	if err != nil {
		return nil, err
	}
	out := api.Introspection{Active: in.Active}
	if in.Active {
		c := in.Claims
		out.TokenType = ptr(api.IntrospectionTokenType(in.TokenType))
		out.Scope, out.Sub, out.Iss = ptr(c.Scope), ptr(c.Subject), ptr(c.Issuer)
		out.SubType, out.Username, out.Jti = nonEmpty(c.SubType), nonEmpty(c.Username), nonEmpty(c.ID)
		if len(c.Audience) > 0 {
			out.Aud, out.ClientId = ptr(c.Audience[0]), ptr(c.Audience[0])
		}
		out.Exp, out.Iat, out.Nbf = unix(c.ExpiresAt), unix(c.IssuedAt), unix(c.NotBefore)
	}
	return api.IntrospectToken200JSONResponse{
		Body:    out,
		Headers: api.IntrospectToken200ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

func unix(d *jwt.NumericDate) *int64 {
	if d == nil {
		return nil
	}
	return ptr(d.Unix())
}

// oneBody is the body of an /oauth request, form-encoded or JSON.
func oneBody[T any](form, json *T) (*T, error) {
	if form != nil {
		return form, nil
	}
	if json != nil {
		return json, nil
	}
	return nil, errorf(KindInvalid, "the request body is missing")
}
