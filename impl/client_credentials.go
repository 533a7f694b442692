package impl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

func fromStoreSecret(s store.ApplicationSecret) api.ApplicationSecret {
	return api.ApplicationSecret{Id: uuid.MustParse(s.ID), CreatedAt: s.CreatedAt.UTC(), ExpiresAt: utc(s.ExpiresAt)}
}

// ListApplicationSecrets lists an application's client secrets, never the
// secret itself.
func (h *Handlers) ListApplicationSecrets(ctx context.Context, req api.ListApplicationSecretsRequestObject) (api.ListApplicationSecretsResponseObject, error) {
	if _, err := h.st.GetApplication(ctx, req.Id.String()); err != nil {
		return nil, err
	}
	secrets, err := h.st.ListApplicationSecrets(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	out := api.ListApplicationSecrets200JSONResponse{Items: make([]api.ApplicationSecret, len(secrets))}
	for i, s := range secrets {
		out.Items[i] = fromStoreSecret(s)
	}
	return out, nil
}

// CreateApplicationSecret makes a client secret, shown this once.
func (h *Handlers) CreateApplicationSecret(ctx context.Context, req api.CreateApplicationSecretRequestObject) (api.CreateApplicationSecretResponseObject, error) {
	secret, s, err := h.svc.CreateApplicationSecret(ctx, req.Id.String(), utc(req.Body.ExpiresAt), principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.CreateApplicationSecret201JSONResponse{
		Body: api.ApplicationSecretCreated{
			Id: uuid.MustParse(s.ID), Secret: secret, CreatedAt: s.CreatedAt.UTC(), ExpiresAt: utc(s.ExpiresAt),
		},
		Headers: api.CreateApplicationSecret201ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

// DeleteApplicationSecret deletes a client secret.
func (h *Handlers) DeleteApplicationSecret(ctx context.Context, req api.DeleteApplicationSecretRequestObject) (api.DeleteApplicationSecretResponseObject, error) {
	if err := h.svc.DeleteApplicationSecret(ctx, req.Id.String(), req.SecretId, principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.DeleteApplicationSecret204Response{}, nil
}

// GetApplicationJWKS reads an application's public keys for private_key_jwt.
func (h *Handlers) GetApplicationJWKS(ctx context.Context, req api.GetApplicationJWKSRequestObject) (api.GetApplicationJWKSResponseObject, error) {
	keys, err := h.svc.ApplicationJWKS(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.GetApplicationJWKS200JSONResponse(fromClientJWKs(keys)), nil
}

// PutApplicationJWKS replaces an application's public keys.
func (h *Handlers) PutApplicationJWKS(ctx context.Context, req api.PutApplicationJWKSRequestObject) (api.PutApplicationJWKSResponseObject, error) {
	in := make([]auth.JWK, len(req.Body.Keys))
	for i, k := range req.Body.Keys {
		in[i] = auth.JWK{
			Kty: k.Kty, Kid: k.Kid, Alg: string(deref(k.Alg)), Use: deref(k.Use),
			Crv: deref(k.Crv), X: deref(k.X), Y: deref(k.Y), N: deref(k.N), E: deref(k.E),
		}
	}
	keys, err := h.svc.PutApplicationJWKS(ctx, req.Id.String(), in, principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.PutApplicationJWKS200JSONResponse(fromClientJWKs(keys)), nil
}

func fromClientJWKs(keys []auth.JWK) api.ClientJWKSet {
	out := api.ClientJWKSet{Keys: make([]api.ClientJWK, len(keys))}
	for i, k := range keys {
		out.Keys[i] = api.ClientJWK{
			Kty: k.Kty, Kid: k.Kid, Alg: ptr(api.SigningAlg(k.Alg)),
			Crv: nonEmpty(k.Crv), X: nonEmpty(k.X), Y: nonEmpty(k.Y), N: nonEmpty(k.N), E: nonEmpty(k.E),
		}
		out.Keys[i].Use = nonEmpty(k.Use)
	}
	return out
}

// clientCredentials is what a request sent to authenticate a client, from
// HTTP Basic or the body.
type clientCredentials struct {
	id, secret, assertion, assertionType string
	basic                                bool
}

// present reports whether the request tried to authenticate a
// confidential client (a secret or an assertion, not only a client_id).
func (c clientCredentials) present() bool {
	return c.secret != "" || c.assertion != "" || c.assertionType != ""
}

// clientCredentialsOf reads the client's credentials: HTTP Basic (RFC 6749
// §2.3.1, both parts form-encoded), or client_id with client_secret or a
// client assertion in the body. Using more than one method is refused
// (RFC 6749 §2.3).
func clientCredentialsOf(ctx context.Context, id, secret, assertion *string, assertionType *api.ClientAssertionType) (clientCredentials, error) {
	info := infoFrom(ctx)
	body := clientCredentials{id: deref(id), secret: deref(secret), assertion: deref(assertion), assertionType: string(deref(assertionType))}
	if info.basicSet {
		if body.present() {
			return clientCredentials{}, errorf(KindInvalid, "the client authenticated with more than one method")
		}
		return clientCredentials{id: info.basicClientID, secret: info.basicSecret, basic: true}, nil
	}
	if body.secret != "" && (body.assertion != "" || body.assertionType != "") {
		return clientCredentials{}, errorf(KindInvalid, "the client authenticated with more than one method")
	}
	if (body.assertion == "") != (body.assertionType == "") {
		return clientCredentials{}, errorf(KindInvalid, "client_assertion and client_assertion_type go together")
	}
	return body, nil
}

// errInvalidClient answers a confidential client whose authentication
// failed, whatever the reason.
func errInvalidClient(err error) *Error {
	return &Error{Kind: KindUnauthenticated, Code: codeInvalidClient, Detail: "client authentication failed", TokenGiven: true, Err: err}
}

// authenticateClient checks the credentials of a confidential client.
func (h *Handlers) authenticateClient(ctx context.Context, cc clientCredentials) (store.Application, error) {
	app, err := h.svc.AuthenticateClient(ctx, auth.ClientAuth{
		ID: cc.id, Secret: cc.secret, Assertion: cc.assertion,
		Audiences: []string{h.tokenEndpoint(ctx), h.svc.Issuer()},
	}, originFrom(ctx))
	if errors.Is(err, auth.ErrInvalidClient) {
		return store.Application{}, errInvalidClient(err)
	}
	return app, err
}

// identifyClient is the client a request names (HTTP Basic or the body),
// checked by the one client rule (auth.IdentifyClient): a zero
// application when it names none.
func (h *Handlers) identifyClient(ctx context.Context, cc clientCredentials) (store.Application, error) {
	app, err := h.svc.IdentifyClient(ctx, auth.ClientAuth{
		ID: cc.id, Secret: cc.secret, Assertion: cc.assertion,
		Audiences: []string{h.tokenEndpoint(ctx), h.svc.Issuer()},
	}, originFrom(ctx))
	return app, clientError(err)
}

// clientError maps a client's failure to authenticate to RFC 6749's
// invalid_client; other errors pass.
func clientError(err error) error {
	switch {
	case errors.Is(err, auth.ErrUnknownClient):
		return errUnknownClient()
	case errors.Is(err, auth.ErrInvalidClient):
		return errInvalidClient(err)
	}
	return err
}

// tokenEndpoint is the token endpoint's URL, as the discovery documents
// give it.
func (h *Handlers) tokenEndpoint(ctx context.Context) string {
	return h.baseURL(ctx) + "/oauth/token"
}

func (h *Handlers) baseURL(ctx context.Context) string {
	if h.cfg.PublicURL != "" {
		return h.cfg.PublicURL
	}
	return infoFrom(ctx).baseURL
}

// clientCredentialsGrant is grant_type=client_credentials.
func (h *Handlers) clientCredentialsGrant(ctx context.Context, body *api.TokenRequest) (api.CreateTokenResponseObject, error) {
	cc, err := clientCredentialsOf(ctx, body.ClientId, body.ClientSecret, body.ClientAssertion, body.ClientAssertionType)
	if err != nil {
		return nil, err
	}
	if !cc.present() && !cc.basic {
		return nil, &Error{Kind: KindUnauthenticated, Code: codeInvalidClient, Detail: "the client_credentials grant needs client authentication"}
	}
	app, err := h.authenticateClient(ctx, cc)
	if err != nil {
		return nil, err
	}
	tok, err := h.svc.ClientCredentials(ctx, app, deref(body.Scope), originFrom(ctx))
	if err != nil {
		return nil, oauthTokenError(err)
	}
	return tokenResponse(tok, "", "", tok.Claims.Scope), nil
}

func isInvalidClient(err error) bool { return errors.Is(err, auth.ErrInvalidClient) }

// authenticateOAuthClient is the oauthClient security scheme: a
// confidential application's client authentication, by HTTP Basic or in
// the body, which it reads from the validator's copy and puts back.
func (h *Handlers) authenticateOAuthClient(ctx context.Context, in *openapi3filter.AuthenticationInput) (Principal, error) {
	r := in.RequestValidationInput.Request
	var raw []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return Principal{}, err
		}
		raw = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	var fields struct {
		ClientID            *string                  `json:"client_id"`
		ClientSecret        *string                  `json:"client_secret"`
		ClientAssertion     *string                  `json:"client_assertion"`
		ClientAssertionType *api.ClientAssertionType `json:"client_assertion_type"`
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == formType:
		form, _ := url.ParseQuery(string(raw))
		get := func(k string) *string {
			if form.Has(k) {
				return ptr(form.Get(k))
			}
			return nil
		}
		fields.ClientID, fields.ClientSecret, fields.ClientAssertion = get("client_id"), get("client_secret"), get("client_assertion")
		if t := get("client_assertion_type"); t != nil {
			fields.ClientAssertionType = ptr(api.ClientAssertionType(*t))
		}
	case isJSON(mt):
		_ = json.Unmarshal(raw, &fields) // the validator reports a bad body
	}
	cc, err := clientCredentialsOf(ctx, fields.ClientID, fields.ClientSecret, fields.ClientAssertion, fields.ClientAssertionType)
	if err != nil {
		return Principal{}, err
	}
	if !cc.present() && !cc.basic {
		return Principal{}, errorf(KindUnauthenticated, "client authentication is required")
	}
	app, err := h.authenticateClient(ctx, cc)
	if err != nil {
		return Principal{}, err
	}
	return Principal{UserID: app.ID, Scopes: app.Scopes}, nil
}

// orEmpty is s, or an empty list for nil: lists are never null in JSON.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
