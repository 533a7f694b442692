package impl

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/api"
)

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
	base := h.cfg.PublicURL
	if base == "" {
		base = infoFrom(ctx).baseURL
	}
	algs := h.svc.Keys().Algs()
	return api.ServerMetadata{
		Issuer:                h.svc.Issuer(),
		TokenEndpoint:         base + "/oauth/token",
		RevocationEndpoint:    ptr(base + "/oauth/revoke"),
		IntrospectionEndpoint: ptr(base + "/oauth/introspect"),
		JwksUri:               base + "/.well-known/jwks.json",
		GrantTypesSupported:   []string{"password", "refresh_token"},
		// No authorization endpoint: gatehouse issues no codes and no
		// implicit tokens.
		ResponseTypesSupported:                    ptr([]string{}),
		SubjectTypesSupported:                     ptr([]string{"public"}),
		ScopesSupported:                           ptr(h.cfg.Scopes),
		TokenEndpointAuthMethodsSupported:         ptr([]string{"none"}),
		RevocationEndpointAuthMethodsSupported:    ptr([]string{"none"}),
		IntrospectionEndpointAuthMethodsSupported: ptr([]string{"bearer"}),
		IdTokenSigningAlgValuesSupported:          ptr(algs),
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

// GetReadiness answers 200 when the database answers with a current
// schema and signing keys are loaded.
func (h *Handlers) GetReadiness(ctx context.Context, _ api.GetReadinessRequestObject) (api.GetReadinessResponseObject, error) {
	checks := map[string]string{}
	if err := h.st.Ping(ctx); err != nil {
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
