package impl

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// clientAuthMethods are the client authentication methods of a
// confidential application, at the token, revocation and introspection
// endpoints alike.
var clientAuthMethods = []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}

// GetJWKS serves every public key whose tokens may still be valid, with
// Cache-Control max-age.
func (h *Handlers) GetJWKS(ctx context.Context, _ api.GetJWKSRequestObject) (api.GetJWKSResponseObject, error) {
	set := h.svc.Keys().JWKS()
	out := api.GetJWKS200JSONResponse{
		Body:    api.JWKSet{Keys: make([]api.JWK, len(set.Keys))},
		Headers: api.GetJWKS200ResponseHeaders{CacheControl: fmt.Sprintf("max-age=%d", int64(cmp.Or(h.cfg.JWKSMaxAge, DefaultJWKSMaxAge)/time.Second))},
	}
	for i, k := range set.Keys {
		out.Body.Keys[i] = api.JWK{
			Kty: api.JWKKty(k.Kty), Kid: k.Kid, Alg: api.SigningAlg(k.Alg), Use: api.JWKUse(k.Use),
			Crv: nonEmpty(k.Crv), X: nonEmpty(k.X), Y: nonEmpty(k.Y), N: nonEmpty(k.N), E: nonEmpty(k.E),
		}
	}
	return out, nil
}

// GetOpenIDConfiguration serves the OIDC discovery document.
func (h *Handlers) GetOpenIDConfiguration(ctx context.Context, _ api.GetOpenIDConfigurationRequestObject) (api.GetOpenIDConfigurationResponseObject, error) {
	return api.GetOpenIDConfiguration200JSONResponse(h.metadata(ctx)), nil
}

// GetAuthorizationServerMetadata serves RFC 8414 metadata.
func (h *Handlers) GetAuthorizationServerMetadata(ctx context.Context, _ api.GetAuthorizationServerMetadataRequestObject) (api.GetAuthorizationServerMetadataResponseObject, error) {
	return api.GetAuthorizationServerMetadata200JSONResponse(h.metadata(ctx)), nil
}

func (h *Handlers) metadata(ctx context.Context) api.ServerMetadata {
	base := h.baseURL(ctx)
	algs := h.svc.Keys().Algs()
	return api.ServerMetadata{
		Issuer:                h.svc.Issuer(),
		TokenEndpoint:         base + "/oauth/token",
		RevocationEndpoint:    ptr(base + "/oauth/revoke"),
		IntrospectionEndpoint: ptr(base + "/oauth/introspect"),
		JwksUri:               base + "/.well-known/jwks.json",
		GrantTypesSupported:   []string{"authorization_code", "password", "refresh_token", "client_credentials", grantMFAOTP, grantMFARecoveryCode},
		AuthorizationEndpoint: ptr(base + "/oauth/authorize"),
		UserinfoEndpoint:      ptr(base + "/oauth/userinfo"),
		// The code flow only: no implicit or hybrid tokens.
		ResponseTypesSupported:                     ptr([]string{"code"}),
		ResponseModesSupported:                     ptr([]string{"query", "form_post"}),
		CodeChallengeMethodsSupported:              ptr([]string{"S256"}),
		PromptValuesSupported:                      ptr([]string{"none", "login", "consent"}),
		AuthorizationResponseIssParameterSupported: ptr(true),
		ClaimsSupported: ptr([]string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid", "at_hash",
			"preferred_username", "name", "given_name", "family_name", "email", "email_verified"}),
		SubjectTypesSupported:                     ptr([]string{"public"}),
		ScopesSupported:                           ptr(append([]string{auth.ScopeOpenID, auth.ScopeEmail, auth.ScopeOfflineAccess}, h.cfg.Scopes...)),
		TokenEndpointAuthMethodsSupported:         ptr(append([]string{"none"}, clientAuthMethods...)),
		RevocationEndpointAuthMethodsSupported:    ptr(append([]string{"none"}, clientAuthMethods...)),
		IntrospectionEndpointAuthMethodsSupported: ptr(append([]string{"bearer"}, clientAuthMethods...)),
		IdTokenSigningAlgValuesSupported:          ptr(algs),
		// private_key_jwt assertions (RFC 7523) may be signed with these.
		TokenEndpointAuthSigningAlgValuesSupported:         ptr(auth.ClientAssertionAlgs),
		RevocationEndpointAuthSigningAlgValuesSupported:    ptr(auth.ClientAssertionAlgs),
		IntrospectionEndpointAuthSigningAlgValuesSupported: ptr(auth.ClientAssertionAlgs),
	}
}

// GetOpenAPISpec serves the contract.
func (h *Handlers) GetOpenAPISpec(ctx context.Context, _ api.GetOpenAPISpecRequestObject) (api.GetOpenAPISpecResponseObject, error) {
	return api.GetOpenAPISpec200ApplicationyamlResponse{Body: bytes.NewReader(h.cfg.SpecYAML), ContentLength: int64(len(h.cfg.SpecYAML))}, nil
}

// GetHealth answers while the process is alive.
func (h *Handlers) GetHealth(ctx context.Context, _ api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Status: api.Ok}, nil
}

// ReadinessTimeout bounds /readyz's database check, so that it answers
// within a second whatever the database does: a load balancer's health
// check takes a node with a stalled database out rather than hanging
// with it.
const ReadinessTimeout = 800 * time.Millisecond

// GetReadiness answers 200 when the database answers with a current
// schema within ReadinessTimeout and signing keys are loaded.
func (h *Handlers) GetReadiness(ctx context.Context, _ api.GetReadinessRequestObject) (api.GetReadinessResponseObject, error) {
	checks := map[string]string{}
	pctx, cancel := context.WithTimeout(ctx, ReadinessTimeout)
	defer cancel()
	if err := h.st.Ping(pctx); err != nil {
		checks["database"] = "unavailable"
	}
	if _, ok := h.svc.ActiveSigningKey(h.svc.SigningAlg()); !ok {
		checks["signing_keys"] = "no active key"
	}
	if len(checks) > 0 {
		return api.GetReadiness503JSONResponse{Status: api.Unavailable, Checks: &checks}, nil
	}
	return api.GetReadiness200JSONResponse{Status: api.Ok}, nil
}

// headResponse answers a HEAD with the GET's response: net/http sends its
// status and headers and drops the body (RFC 9110 §9.3.2).
type headResponse func(http.ResponseWriter) error

// head is the HEAD of a GET handler's answer; on an error the strict
// handler renders err and never visits the response.
func head[T any](get T, err error, visit func(T, http.ResponseWriter) error) (headResponse, error) {
	return func(w http.ResponseWriter) error { return visit(get, w) }, err
}

func (f headResponse) VisitHeadJWKSResponse(w http.ResponseWriter) error { return f(w) }
func (f headResponse) VisitHeadOpenIDConfigurationResponse(w http.ResponseWriter) error {
	return f(w)
}
func (f headResponse) VisitHeadAuthorizationServerMetadataResponse(w http.ResponseWriter) error {
	return f(w)
}
func (f headResponse) VisitHeadHealthResponse(w http.ResponseWriter) error      { return f(w) }
func (f headResponse) VisitHeadReadinessResponse(w http.ResponseWriter) error   { return f(w) }
func (f headResponse) VisitHeadOpenAPISpecResponse(w http.ResponseWriter) error { return f(w) }

// HeadJWKS is GET /.well-known/jwks.json without the body.
func (h *Handlers) HeadJWKS(ctx context.Context, _ api.HeadJWKSRequestObject) (api.HeadJWKSResponseObject, error) {
	get, err := h.GetJWKS(ctx, api.GetJWKSRequestObject{})
	return head(get, err, api.GetJWKSResponseObject.VisitGetJWKSResponse)
}

// HeadOpenIDConfiguration is GET /.well-known/openid-configuration without the body.
func (h *Handlers) HeadOpenIDConfiguration(ctx context.Context, _ api.HeadOpenIDConfigurationRequestObject) (api.HeadOpenIDConfigurationResponseObject, error) {
	get, err := h.GetOpenIDConfiguration(ctx, api.GetOpenIDConfigurationRequestObject{})
	return head(get, err, api.GetOpenIDConfigurationResponseObject.VisitGetOpenIDConfigurationResponse)
}

// HeadAuthorizationServerMetadata is GET /.well-known/oauth-authorization-server without the body.
func (h *Handlers) HeadAuthorizationServerMetadata(ctx context.Context, _ api.HeadAuthorizationServerMetadataRequestObject) (api.HeadAuthorizationServerMetadataResponseObject, error) {
	get, err := h.GetAuthorizationServerMetadata(ctx, api.GetAuthorizationServerMetadataRequestObject{})
	return head(get, err, api.GetAuthorizationServerMetadataResponseObject.VisitGetAuthorizationServerMetadataResponse)
}

// HeadHealth is GET /healthz without the body.
func (h *Handlers) HeadHealth(ctx context.Context, _ api.HeadHealthRequestObject) (api.HeadHealthResponseObject, error) {
	get, err := h.GetHealth(ctx, api.GetHealthRequestObject{})
	return head(get, err, api.GetHealthResponseObject.VisitGetHealthResponse)
}

// HeadReadiness is GET /readyz (200 or 503) without the body.
func (h *Handlers) HeadReadiness(ctx context.Context, _ api.HeadReadinessRequestObject) (api.HeadReadinessResponseObject, error) {
	get, err := h.GetReadiness(ctx, api.GetReadinessRequestObject{})
	return head(get, err, api.GetReadinessResponseObject.VisitGetReadinessResponse)
}

// HeadOpenAPISpec is GET /openapi.yaml without the body.
func (h *Handlers) HeadOpenAPISpec(ctx context.Context, _ api.HeadOpenAPISpecRequestObject) (api.HeadOpenAPISpecResponseObject, error) {
	get, err := h.GetOpenAPISpec(ctx, api.GetOpenAPISpecRequestObject{})
	return head(get, err, api.GetOpenAPISpecResponseObject.VisitGetOpenAPISpecResponse)
}
