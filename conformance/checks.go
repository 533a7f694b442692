package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// A Check is one check of the suite. It passes when Run returns nil and
// no exchange broke the contract. Whatever it creates it names with the
// Env's Prefix and hands to Env.OnCleanup; it changes nothing else.
type Check struct {
	// Name is the check's line after PASS or FAIL.
	Name string
	// Admin says Run needs Env.Admin, an administrator's access token.
	Admin bool
	Run   func(ctx context.Context, e *Env) error
}

// Env is what a check runs with.
type Env struct {
	// Client is the generated client, its doer a validating Doer.
	Client *client.ClientWithResponses
	// Username and Password are an administrator's (every gatehouse scope).
	Username, Password string
	// Admin is an access token of that administrator, for the checks that
	// say Admin.
	Admin string
	// Prefix begins the name of everything the checks create.
	Prefix string
	// OnCleanup takes a step that deletes what a check created; the steps
	// run after the checks, newest first.
	OnCleanup func(name string, step func(ctx context.Context) error)
}

func (e *Env) admin() client.RequestEditorFn { return bearer(e.Admin) }

// passwordGrant logs username in to the application clientID ("" for the
// default one) and fails unless it is answered 200.
func (e *Env) passwordGrant(ctx context.Context, username, password, clientID string) (*client.TokenResponse, error) {
	body := client.CreateTokenFormdataRequestBody{GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password}
	if clientID != "" {
		body.ClientId = &clientID
	}
	resp, err := e.Client.CreateTokenWithFormdataBodyWithResponse(ctx, body)
	if err != nil {
		return nil, err
	}
	if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
		return nil, err
	}
	return resp.JSON200, nil
}

// refresh runs the refresh grant and fails unless it is answered 200.
func (e *Env) refresh(ctx context.Context, token string) (*client.TokenResponse, error) {
	resp, err := e.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: &token,
	})
	if err != nil {
		return nil, err
	}
	if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
		return nil, err
	}
	return resp.JSON200, nil
}

// revoke revokes a token and fails unless it is answered 200.
func (e *Env) revoke(ctx context.Context, token string) error {
	resp, err := e.Client.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: token})
	if err != nil {
		return err
	}
	return status(resp.StatusCode(), 200, resp.Body)
}

// createRole creates the role name with the scopes ("profile" when none)
// and has it deleted at the end.
func (e *Env) createRole(ctx context.Context, name string, scopes ...string) error {
	if len(scopes) == 0 {
		scopes = []string{"profile"}
	}
	resp, err := e.Client.PutRoleWithResponse(ctx, name, client.RolePut{Code: 9000 + int(uuid.New().ID()%999), Scopes: scopes}, e.admin())
	if err != nil {
		return err
	}
	if resp.StatusCode() == 201 || resp.StatusCode() == 200 {
		e.OnCleanup("delete the role "+name, func(ctx context.Context) error {
			resp, err := e.Client.DeleteRoleWithResponse(ctx, name, e.admin())
			if err != nil {
				return err
			}
			if resp.StatusCode() == 404 {
				return nil // deleted by the check
			}
			return status(resp.StatusCode(), 204, resp.Body)
		})
	}
	return status(resp.StatusCode(), 201, resp.Body)
}

// createUser creates a user and has it deleted at the end, unless the
// check deletes it first.
func (e *Env) createUser(ctx context.Context, body client.UserCreate) (*client.User, error) {
	resp, err := e.Client.CreateUserWithResponse(ctx, body, e.admin())
	if err != nil {
		return nil, err
	}
	if resp.JSON201 != nil {
		id := resp.JSON201.Id
		e.OnCleanup("delete the user "+body.Username, func(ctx context.Context) error {
			resp, err := e.Client.DeleteUserWithResponse(ctx, id, e.admin())
			if err != nil {
				return err
			}
			if resp.StatusCode() == 404 {
				return nil // deleted by the check
			}
			return status(resp.StatusCode(), 204, resp.Body)
		})
	}
	if err := status(resp.StatusCode(), 201, resp.Body); err != nil {
		return nil, err
	}
	return resp.JSON201, nil
}

// createApplication creates an application and has it deleted at the end.
func (e *Env) createApplication(ctx context.Context, name string) (*client.Application, error) {
	aud := "urn:" + name
	resp, err := e.Client.CreateApplicationWithResponse(ctx, client.ApplicationCreate{Name: name, Audience: &aud}, e.admin())
	if err != nil {
		return nil, err
	}
	if resp.JSON201 != nil {
		id := resp.JSON201.Id
		e.OnCleanup("delete the application "+name, func(ctx context.Context) error {
			resp, err := e.Client.DeleteApplicationWithResponse(ctx, id, e.admin())
			if err != nil {
				return err
			}
			return status(resp.StatusCode(), 204, resp.Body)
		})
	}
	if err := status(resp.StatusCode(), 201, resp.Body); err != nil {
		return nil, err
	}
	return resp.JSON201, nil
}

// healthOK fails unless a health answer is 200 with the status ok.
func healthOK(code int, body []byte, h *client.Health) error {
	if err := status(code, 200, body); err != nil {
		return err
	}
	if h.Status != client.Ok {
		return fmt.Errorf("status %q, want ok", h.Status)
	}
	return nil
}

// Suite is every check, in the order they run: those that need no
// credentials first, then those of the administrator.
var Suite = []Check{
	{Name: "GET /healthz answers 200", Run: func(ctx context.Context, e *Env) error {
		resp, err := e.Client.GetHealthWithResponse(ctx)
		if err != nil {
			return err
		}
		return healthOK(resp.StatusCode(), resp.Body, resp.JSON200)
	}},
	{Name: "GET /readyz answers 200", Run: func(ctx context.Context, e *Env) error {
		resp, err := e.Client.GetReadinessWithResponse(ctx)
		if err != nil {
			return err
		}
		return healthOK(resp.StatusCode(), resp.Body, resp.JSON200)
	}},
	{Name: "GET /openapi.yaml serves the contract", Run: func(ctx context.Context, e *Env) error {
		resp, err := e.Client.GetOpenAPISpecWithResponse(ctx)
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, nil); err != nil {
			return err
		}
		if ct := resp.HTTPResponse.Header.Get("Content-Type"); !strings.Contains(ct, "yaml") {
			return fmt.Errorf("Content-Type %q, want YAML", ct)
		}
		var doc struct {
			OpenAPI string `yaml:"openapi"`
		}
		if err := yaml.Unmarshal(resp.Body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
			return fmt.Errorf("the body is not an OpenAPI 3 document: %v", err)
		}
		return nil
	}},
	{Name: "GET /.well-known/jwks.json lists signing keys with max-age", Run: func(ctx context.Context, e *Env) error {
		resp, err := e.Client.GetJWKSWithResponse(ctx)
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		if cc := resp.HTTPResponse.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			return fmt.Errorf("Cache-Control %q, want a max-age", cc)
		}
		if len(resp.JSON200.Keys) == 0 {
			return errors.New("no keys")
		}
		kty := map[client.SigningAlg]client.JWKKty{client.ES256: client.EC, client.RS256: client.RSA, client.EdDSA: client.OKP}
		for _, k := range resp.JSON200.Keys {
			if kty[k.Alg] != k.Kty || k.Use != client.Sig || k.Kid == "" {
				return fmt.Errorf("key %+v: want a signing key with a kid, its kty its alg's", k)
			}
			switch k.Kty {
			case client.EC:
				if k.Crv == nil || *k.Crv != "P-256" || k.X == nil || k.Y == nil || k.N != nil {
					return fmt.Errorf("EC key %s: want P-256 with x and y only", k.Kid)
				}
			case client.RSA:
				if k.N == nil || k.E == nil || k.X != nil || k.Crv != nil {
					return fmt.Errorf("RSA key %s: want n and e only", k.Kid)
				}
			}
		}
		return nil
	}},
	{Name: "GET /.well-known/oauth-authorization-server matches openid-configuration", Run: func(ctx context.Context, e *Env) error {
		oidc, err := e.Client.GetOpenIDConfigurationWithResponse(ctx)
		if err != nil {
			return err
		}
		if err := status(oidc.StatusCode(), 200, oidc.Body); err != nil {
			return err
		}
		resp, err := e.Client.GetAuthorizationServerMetadataWithResponse(ctx)
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		if string(resp.Body) != string(oidc.Body) {
			return fmt.Errorf("RFC 8414 metadata %s, the OIDC document %s", resp.Body, oidc.Body)
		}
		return nil
	}},
	{Name: "the token endpoint's errors (RFC 6749 §5.2)", Run: func(ctx context.Context, e *Env) error {
		form := func(grant client.TokenRequestGrantType, f func(*client.CreateTokenFormdataRequestBody)) client.CreateTokenFormdataRequestBody {
			b := client.CreateTokenFormdataRequestBody{GrantType: grant}
			f(&b)
			return b
		}
		cases := []struct {
			name       string
			body       client.CreateTokenFormdataRequestBody
			wantStatus int
			wantCode   client.OAuthErrorError
		}{
			{"a wrong password", form("password", func(b *client.CreateTokenFormdataRequestBody) {
				b.Username, b.Password = &e.Username, ptr(e.Password+"-wrong")
			}), 400, client.OAuthErrorErrorInvalidGrant},
			{"an unknown user", form("password", func(b *client.CreateTokenFormdataRequestBody) {
				b.Username, b.Password = ptr(e.Prefix+"nobody"), ptr("nope")
			}), 400, client.OAuthErrorErrorInvalidGrant},
			{"no password", form("password", func(b *client.CreateTokenFormdataRequestBody) { b.Username = &e.Username }), 400, client.OAuthErrorErrorInvalidRequest},
			{"a scope not granted", form("password", func(b *client.CreateTokenFormdataRequestBody) {
				b.Username, b.Password, b.Scope = &e.Username, &e.Password, ptr("launch:missiles")
			}), 400, client.OAuthErrorErrorInvalidScope},
			{"an unknown client_id", form("password", func(b *client.CreateTokenFormdataRequestBody) {
				b.Username, b.Password, b.ClientId = &e.Username, &e.Password, ptr(uuid.NewString())
			}), 401, client.OAuthErrorErrorInvalidClient},
			{"an unknown refresh token", form("refresh_token", func(b *client.CreateTokenFormdataRequestBody) { b.RefreshToken = ptr("nope") }), 400, client.OAuthErrorErrorInvalidGrant},
			{"no refresh token", form("refresh_token", func(*client.CreateTokenFormdataRequestBody) {}), 400, client.OAuthErrorErrorInvalidRequest},
		}
		for _, tc := range cases {
			resp, err := e.Client.CreateTokenWithFormdataBodyWithResponse(ctx, tc.body)
			if err != nil {
				return err
			}
			got := resp.JSON400
			if tc.wantStatus == 401 {
				got = resp.JSON401
			}
			if err := WantOAuthError(resp.StatusCode(), resp.Body, got, tc.wantStatus, tc.wantCode); err != nil {
				return fmt.Errorf("%s: %w", tc.name, err)
			}
			if cc := resp.HTTPResponse.Header.Get("Cache-Control"); cc != "no-store" {
				return fmt.Errorf("%s: Cache-Control %q, want no-store", tc.name, cc)
			}
		}
		return nil
	}},
	{Name: "without credentials /v1/users is 401", Run: func(ctx context.Context, e *Env) error {
		resp, err := e.Client.ListUsersWithResponse(ctx, nil)
		if err != nil {
			return err
		}
		return status(resp.StatusCode(), 401, resp.Body)
	}},
	{Name: "GET /v1/me as the administrator", Admin: true, Run: func(ctx context.Context, e *Env) error {
		resp, err := e.Client.GetMeWithResponse(ctx, e.admin())
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		if !strings.EqualFold(resp.JSON200.Username, e.Username) && !strings.EqualFold(deref(resp.JSON200.Email), e.Username) {
			return fmt.Errorf("GET /v1/me is %s, signed in as %s", resp.JSON200.Username, e.Username)
		}
		return nil
	}},
	{Name: "GET /v1/signing-keys lists the JWKS's keys (no rotation)", Admin: true, Run: func(ctx context.Context, e *Env) error {
		jwks, err := e.Client.GetJWKSWithResponse(ctx)
		if err != nil {
			return err
		}
		if err := status(jwks.StatusCode(), 200, jwks.Body); err != nil {
			return err
		}
		var kids []string
		for _, k := range jwks.JSON200.Keys {
			kids = append(kids, k.Kid)
		}
		resp, err := e.Client.ListSigningKeysWithResponse(ctx, e.admin())
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		listed := map[string]client.SigningAlg{}
		for _, k := range resp.JSON200.Items {
			listed[k.Kid] = k.Alg
			if k.RetiredAt == nil && !slices.Contains(kids, k.Kid) {
				return fmt.Errorf("key %s is not in the JWKS", k.Kid)
			}
		}
		// A retired key stays published until its tokens expire, and so
		// stays listed: every published key is a listed one.
		for _, k := range jwks.JSON200.Keys {
			if alg, ok := listed[k.Kid]; !ok || alg != k.Alg {
				return fmt.Errorf("the JWKS's key %s (%s) is not a signing key listed", k.Kid, k.Alg)
			}
		}
		return nil
	}},
	{Name: "GET /v1/audit-events", Admin: true, Run: func(ctx context.Context, e *Env) error {
		resp, err := e.Client.ListAuditEventsWithResponse(ctx, &client.ListAuditEventsParams{Limit: ptr(5)}, e.admin())
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		if len(resp.JSON200.Items) > 5 {
			return fmt.Errorf("%d events, asked for at most 5", len(resp.JSON200.Items))
		}
		return nil
	}},
	{Name: "GET /v1/users/{unknown} is 404", Admin: true, Run: func(ctx context.Context, e *Env) error {
		resp, err := e.Client.GetUserWithResponse(ctx, uuid.New(), e.admin())
		if err != nil {
			return err
		}
		_, err = WantProblem(resp.HTTPResponse, resp.Body, 404)
		return err
	}},
	{Name: "a refresh rotates the refresh token; replaying a spent one revokes its family", Run: func(ctx context.Context, e *Env) error {
		// Sessions of its own, ended by the check: the run's admin token
		// must outlive them, and the run leaves no live session behind.
		first, err := e.passwordGrant(ctx, e.Username, e.Password, "")
		if err != nil {
			return err
		}
		second, err := e.refresh(ctx, first.RefreshToken)
		if err != nil {
			return err
		}
		if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
			return errors.New("the refresh token did not rotate")
		}
		third, err := e.refresh(ctx, second.RefreshToken)
		if err != nil {
			return err
		}
		// Replaying a spent token is reuse: it fails and revokes the
		// family, so even the newest token of the family stops working.
		for _, use := range []struct{ name, token string }{{"the replayed token", first.RefreshToken}, {"the family's newest token after the replay", third.RefreshToken}} {
			resp, err := e.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
				GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: &use.token,
			})
			if err != nil {
				return err
			}
			if err := WantOAuthError(resp.StatusCode(), resp.Body, resp.JSON400, 400, client.OAuthErrorErrorInvalidGrant); err != nil {
				return fmt.Errorf("%s: %w", use.name, err)
			}
		}
		// Another login starts a family of its own, untouched.
		other, err := e.passwordGrant(ctx, e.Username, e.Password, "")
		if err != nil {
			return err
		}
		next, err := e.refresh(ctx, other.RefreshToken)
		if err != nil {
			return fmt.Errorf("a family of its own: %w", err)
		}
		return e.revoke(ctx, next.RefreshToken)
	}},
	{Name: "revocation (RFC 7009): a revoked access token and refresh token are refused; unknown tokens answer 200", Run: func(ctx context.Context, e *Env) error {
		tok, err := e.passwordGrant(ctx, e.Username, e.Password, "")
		if err != nil {
			return err
		}
		me, err := e.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken))
		if err != nil {
			return err
		}
		if err := status(me.StatusCode(), 200, me.Body); err != nil {
			return fmt.Errorf("before the revocation: %w", err)
		}
		if err := e.revoke(ctx, tok.AccessToken); err != nil {
			return err
		}
		if me, err = e.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken)); err != nil {
			return err
		}
		if err := status(me.StatusCode(), 401, me.Body); err != nil {
			return fmt.Errorf("the revoked access token: %w", err)
		}
		if err := e.revoke(ctx, tok.RefreshToken); err != nil {
			return err
		}
		resp, err := e.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: &tok.RefreshToken,
		})
		if err != nil {
			return err
		}
		if err := WantOAuthError(resp.StatusCode(), resp.Body, resp.JSON400, 400, client.OAuthErrorErrorInvalidGrant); err != nil {
			return fmt.Errorf("the revoked refresh token: %w", err)
		}
		if err := e.revoke(ctx, "not-a-token"); err != nil {
			return fmt.Errorf("an unknown token: %w", err)
		}
		js, err := e.Client.RevokeTokenWithResponse(ctx, client.RevokeTokenJSONRequestBody{Token: "a.b.c"})
		if err != nil {
			return err
		}
		return status(js.StatusCode(), 200, js.Body)
	}},
	{Name: "a role: created, read, listed, deleted", Admin: true, Run: func(ctx context.Context, e *Env) error {
		name := e.Prefix + "role"
		if err := e.createRole(ctx, name); err != nil {
			return err
		}
		got, err := e.Client.GetRoleWithResponse(ctx, name, e.admin())
		if err != nil {
			return err
		}
		if err := status(got.StatusCode(), 200, got.Body); err != nil {
			return err
		}
		if got.JSON200.Name != name || !slices.Equal(got.JSON200.Scopes, []string{"profile"}) {
			return fmt.Errorf("GET the role: %s", got.Body)
		}
		list, err := e.Client.ListRolesWithResponse(ctx, e.admin())
		if err != nil {
			return err
		}
		if err := status(list.StatusCode(), 200, list.Body); err != nil {
			return err
		}
		if !slices.ContainsFunc(list.JSON200.Items, func(r client.Role) bool { return r.Name == name }) {
			return errors.New("the role is not listed")
		}
		del, err := e.Client.DeleteRoleWithResponse(ctx, name, e.admin())
		if err != nil {
			return err
		}
		if err := status(del.StatusCode(), 204, del.Body); err != nil {
			return err
		}
		gone, err := e.Client.GetRoleWithResponse(ctx, name, e.admin())
		if err != nil {
			return err
		}
		return status(gone.StatusCode(), 404, gone.Body)
	}},
	{Name: "a role held by a user is not deleted (409) until nobody holds it; a deleted role is 404 and cannot be given", Admin: true, Run: func(ctx context.Context, e *Env) error {
		gone, held := e.Prefix+"gone", e.Prefix+"held"
		for _, name := range []string{gone, held} {
			if err := e.createRole(ctx, name); err != nil {
				return err
			}
		}
		holder, err := e.createUser(ctx, client.UserCreate{Username: e.Prefix + "holder", Password: "conformance-" + uuid.NewString(), Role: &held})
		if err != nil {
			return err
		}
		del := func(name string, want int) error {
			resp, err := e.Client.DeleteRoleWithResponse(ctx, name, e.admin())
			if err != nil {
				return err
			}
			if want == 204 {
				if err := status(resp.StatusCode(), 204, resp.Body); err != nil {
					return err
				}
				if len(resp.Body) != 0 {
					return fmt.Errorf("204 with a body: %.300s", resp.Body)
				}
				return nil
			}
			_, err = WantProblem(resp.HTTPResponse, resp.Body, want)
			return err
		}
		get := func(name string, want int) error {
			resp, err := e.Client.GetRoleWithResponse(ctx, name, e.admin())
			if err != nil {
				return err
			}
			return status(resp.StatusCode(), want, resp.Body)
		}
		if err := del(gone, 204); err != nil {
			return err
		}
		if err := get(gone, 404); err != nil {
			return fmt.Errorf("GET after the delete: %w", err)
		}
		// A deleted role can no longer be given.
		given, err := e.Client.CreateUserWithResponse(ctx, client.UserCreate{Username: e.Prefix + "given", Password: "conformance-" + uuid.NewString(), Role: &gone}, e.admin())
		if err != nil {
			return err
		}
		if given.StatusCode() == 201 {
			id := given.JSON201.Id
			e.OnCleanup("delete the user "+e.Prefix+"given", func(ctx context.Context) error {
				_, err := e.Client.DeleteUserWithResponse(ctx, id, e.admin())
				return err
			})
		}
		if err := status(given.StatusCode(), 400, given.Body); err != nil {
			return fmt.Errorf("a user created with the deleted role: %w", err)
		}
		for _, tc := range []struct {
			name string
			want int
		}{{gone, 404}, {e.Prefix + "never", 404}, {held, 409}} {
			if err := del(tc.name, tc.want); err != nil {
				return err
			}
		}
		if err := get(held, 200); err != nil {
			return fmt.Errorf("the held role after the refused delete: %w", err)
		}
		// Once nobody holds it, it goes.
		up, err := e.Client.UpdateUserWithResponse(ctx, holder.Id, client.UserUpdate{Role: ptr("user")}, e.admin())
		if err != nil {
			return err
		}
		if err := status(up.StatusCode(), 200, up.Body); err != nil {
			return err
		}
		return del(held, 204)
	}},
	{Name: "a user with a role: created, read, updated, signed in, deleted", Admin: true, Run: func(ctx context.Context, e *Env) error {
		role, username, password := e.Prefix+"user-role", e.Prefix+"user", "conformance-"+uuid.NewString()
		if err := e.createRole(ctx, role); err != nil {
			return err
		}
		user, err := e.createUser(ctx, client.UserCreate{Username: username, Password: password, Role: &role})
		if err != nil {
			return err
		}
		if user.Role != role || user.Username != username {
			return fmt.Errorf("created %+v", user)
		}
		got, err := e.Client.GetUserWithResponse(ctx, user.Id, e.admin())
		if err != nil {
			return err
		}
		if err := status(got.StatusCode(), 200, got.Body); err != nil {
			return err
		}
		up, err := e.Client.UpdateUserWithResponse(ctx, user.Id, client.UserUpdate{FirstName: ptr("Conformance")}, e.admin())
		if err != nil {
			return err
		}
		if err := status(up.StatusCode(), 200, up.Body); err != nil {
			return err
		}
		if deref(up.JSON200.FirstName) != "Conformance" {
			return fmt.Errorf("PATCH answered %s", up.Body)
		}
		list, err := e.Client.ListUsersWithResponse(ctx, &client.ListUsersParams{Q: &username}, e.admin())
		if err != nil {
			return err
		}
		if err := status(list.StatusCode(), 200, list.Body); err != nil {
			return err
		}
		if !slices.ContainsFunc(list.JSON200.Items, func(u client.User) bool { return u.Id == user.Id }) {
			return errors.New("GET /v1/users?q= does not find the user")
		}
		// Its token carries its role, is refused where the role has no
		// scope, and introspects as its.
		tok, err := e.passwordGrant(ctx, username, password, "")
		if err != nil {
			return err
		}
		forbidden, err := e.Client.ListUsersWithResponse(ctx, nil, bearer(tok.AccessToken))
		if err != nil {
			return err
		}
		if err := status(forbidden.StatusCode(), 403, forbidden.Body); err != nil {
			return err
		}
		in, err := e.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: tok.AccessToken}, e.admin())
		if err != nil {
			return err
		}
		if err := status(in.StatusCode(), 200, in.Body); err != nil {
			return err
		}
		if !in.JSON200.Active || deref(in.JSON200.Username) != username {
			return fmt.Errorf("introspection: %s", in.Body)
		}
		del, err := e.Client.DeleteUserWithResponse(ctx, user.Id, e.admin())
		if err != nil {
			return err
		}
		if err := status(del.StatusCode(), 204, del.Body); err != nil {
			return err
		}
		gone, err := e.Client.GetUserWithResponse(ctx, user.Id, e.admin())
		if err != nil {
			return err
		}
		return status(gone.StatusCode(), 404, gone.Body)
	}},
	{Name: "a user's own profile: GET /v1/me is the user, PATCH /v1/me changes names and e-mail, an e-mail taken is 409", Admin: true, Run: func(ctx context.Context, e *Env) error {
		username, password := e.Prefix+"profile", "conformance-"+uuid.NewString()
		other := client.Email(e.Prefix + "other@example.com")
		if _, err := e.createUser(ctx, client.UserCreate{Username: e.Prefix + "other", Password: "conformance-" + uuid.NewString(), Email: &other}); err != nil {
			return err
		}
		u, err := e.createUser(ctx, client.UserCreate{Username: username, Password: password, Email: ptr(client.Email(e.Prefix + "profile@example.com"))})
		if err != nil {
			return err
		}
		tok, err := e.passwordGrant(ctx, username, password, "")
		if err != nil {
			return err
		}
		me, err := e.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken))
		if err != nil {
			return err
		}
		if err := status(me.StatusCode(), 200, me.Body); err != nil {
			return err
		}
		if !reflect.DeepEqual(*u, *me.JSON200) {
			return fmt.Errorf("GET /v1/me %.300s, the user created %+v", me.Body, *u)
		}
		if strings.Contains(string(me.Body), password) {
			return errors.New("GET /v1/me holds the password")
		}
		want := *u
		steps := []struct {
			name  string
			patch client.ProfileUpdate
			apply func(*client.User)
		}{
			{"names", client.ProfileUpdate{FirstName: ptr("Mae"), LastName: ptr("Jemison")}, func(w *client.User) { w.FirstName, w.LastName = ptr("Mae"), ptr("Jemison") }},
			{"e-mail", client.ProfileUpdate{Email: ptr(client.Email(e.Prefix + "moved@example.com"))}, func(w *client.User) { w.Email = ptr(e.Prefix + "moved@example.com") }},
		}
		for _, st := range steps {
			resp, err := e.Client.UpdateMeWithResponse(ctx, st.patch, bearer(tok.AccessToken))
			if err != nil {
				return err
			}
			if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
				return fmt.Errorf("PATCH /v1/me %s: %w", st.name, err)
			}
			st.apply(&want)
			got := *resp.JSON200
			got.UpdatedAt = want.UpdatedAt
			if !reflect.DeepEqual(want, got) {
				return fmt.Errorf("PATCH /v1/me %s answered %.300s", st.name, resp.Body)
			}
		}
		if me, err = e.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken)); err != nil {
			return err
		}
		if me.JSON200 == nil || deref(me.JSON200.Email) != e.Prefix+"moved@example.com" || deref(me.JSON200.LastName) != "Jemison" {
			return fmt.Errorf("GET /v1/me after the changes: %d %.300s", me.StatusCode(), me.Body)
		}
		// Another user's e-mail, in another case, is taken.
		conflict, err := e.Client.UpdateMeWithResponse(ctx, client.ProfileUpdate{Email: ptr(client.Email(strings.ToUpper(string(other))))}, bearer(tok.AccessToken))
		if err != nil {
			return err
		}
		_, err = WantProblem(conflict.HTTPResponse, conflict.Body, 409)
		return err
	}},
	{Name: "introspection (RFC 7662): a user's tokens are active, spent and unknown ones not; the caller needs tokens:introspect", Admin: true, Run: func(ctx context.Context, e *Env) error {
		username, password := e.Prefix+"introspected", "conformance-"+uuid.NewString()
		if _, err := e.createUser(ctx, client.UserCreate{Username: username, Password: password}); err != nil {
			return err
		}
		user, err := e.passwordGrant(ctx, username, password, "")
		if err != nil {
			return err
		}
		introspect := func(token string, auth client.RequestEditorFn) (*client.IntrospectTokenResponse, error) {
			return e.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: token}, auth)
		}
		access, err := introspect(user.AccessToken, e.admin())
		if err != nil {
			return err
		}
		if a := access.JSON200; a == nil || !a.Active || deref(a.TokenType) != client.IntrospectionTokenTypeAccessToken || deref(a.Scope) != user.Scope || deref(a.Username) != username {
			return fmt.Errorf("the access token: %d %.300s", access.StatusCode(), access.Body)
		}
		rt, err := introspect(user.RefreshToken, e.admin())
		if err != nil {
			return err
		}
		if a := rt.JSON200; a == nil || !a.Active || deref(a.TokenType) != client.IntrospectionTokenTypeRefreshToken {
			return fmt.Errorf("the refresh token: %d %.300s", rt.StatusCode(), rt.Body)
		}
		if _, err := e.refresh(ctx, user.RefreshToken); err != nil {
			return err
		}
		for name, token := range map[string]string{"the spent refresh token": user.RefreshToken, "junk": "junk"} {
			r, err := introspect(token, e.admin())
			if err != nil {
				return err
			}
			if r.JSON200 == nil || r.JSON200.Active {
				return fmt.Errorf("%s: %d %.300s, want active false", name, r.StatusCode(), r.Body)
			}
		}
		noAuth, err := introspect(user.AccessToken, func(context.Context, *http.Request) error { return nil })
		if err != nil {
			return err
		}
		if err := WantOAuthError(noAuth.StatusCode(), noAuth.Body, noAuth.JSON401, 401, client.OAuthErrorErrorInvalidToken); err != nil {
			return fmt.Errorf("without credentials: %w", err)
		}
		if noAuth.HTTPResponse.Header.Get("WWW-Authenticate") == "" {
			return errors.New("401 without WWW-Authenticate")
		}
		noScope, err := introspect(user.AccessToken, bearer(user.AccessToken))
		if err != nil {
			return err
		}
		if err := WantOAuthError(noScope.StatusCode(), noScope.Body, noScope.JSON403, 403, client.OAuthErrorErrorInsufficientScope); err != nil {
			return fmt.Errorf("without tokens:introspect: %w", err)
		}
		if h := noScope.HTTPResponse.Header.Get("WWW-Authenticate"); !strings.Contains(h, `scope="tokens:introspect"`) {
			return fmt.Errorf("403 WWW-Authenticate %q, want the scope tokens:introspect", h)
		}
		return nil
	}},
	{Name: "a deleted user: GET and DELETE are 404, its password, refresh token and access token are refused, its name is free", Admin: true, Run: func(ctx context.Context, e *Env) error {
		username, password := e.Prefix+"deleted", "conformance-"+uuid.NewString()
		u, err := e.createUser(ctx, client.UserCreate{Username: username, Password: password})
		if err != nil {
			return err
		}
		tok, err := e.passwordGrant(ctx, username, password, "")
		if err != nil {
			return err
		}
		del, err := e.Client.DeleteUserWithResponse(ctx, u.Id, e.admin())
		if err != nil {
			return err
		}
		if err := status(del.StatusCode(), 204, del.Body); err != nil {
			return err
		}
		if len(del.Body) != 0 {
			return fmt.Errorf("204 with a body: %.300s", del.Body)
		}
		get, err := e.Client.GetUserWithResponse(ctx, u.Id, e.admin())
		if err != nil {
			return err
		}
		if _, err := WantProblem(get.HTTPResponse, get.Body, 404); err != nil {
			return err
		}
		again, err := e.Client.DeleteUserWithResponse(ctx, u.Id, e.admin())
		if err != nil {
			return err
		}
		if _, err := WantProblem(again.HTTPResponse, again.Body, 404); err != nil {
			return err
		}
		login, err := e.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password,
		})
		if err != nil {
			return err
		}
		if login.JSON400 == nil || login.JSON400.Error != client.OAuthErrorErrorInvalidGrant || deref(login.JSON400.ErrorDescription) != "invalid username or password" {
			return fmt.Errorf("the deleted user's login: %d %.300s, want 400 invalid_grant \"invalid username or password\"", login.StatusCode(), login.Body)
		}
		rt, err := e.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: &tok.RefreshToken,
		})
		if err != nil {
			return err
		}
		if err := WantOAuthError(rt.StatusCode(), rt.Body, rt.JSON400, 400, client.OAuthErrorErrorInvalidGrant); err != nil {
			return fmt.Errorf("the deleted user's refresh: %w", err)
		}
		me, err := e.Client.GetMeWithResponse(ctx, bearer(tok.AccessToken))
		if err != nil {
			return err
		}
		if _, err := WantProblem(me.HTTPResponse, me.Body, 401); err != nil {
			return fmt.Errorf("the deleted user's access token: %w", err)
		}
		// The username is free again.
		_, err = e.createUser(ctx, client.UserCreate{Username: username, Password: "conformance-" + uuid.NewString()})
		return err
	}},
	{Name: "an application: created, read, listed; a member logs in to it with its audience", Admin: true, Run: func(ctx context.Context, e *Env) error {
		app, err := e.createApplication(ctx, e.Prefix+"app")
		if err != nil {
			return err
		}
		got, err := e.Client.GetApplicationWithResponse(ctx, app.Id, e.admin())
		if err != nil {
			return err
		}
		if err := status(got.StatusCode(), 200, got.Body); err != nil {
			return err
		}
		if got.JSON200.Audience != app.Audience || got.JSON200.Name != app.Name {
			return fmt.Errorf("GET the application: %s", got.Body)
		}
		username, password := e.Prefix+"member", "conformance-"+uuid.NewString()
		user, err := e.createUser(ctx, client.UserCreate{Username: username, Password: password})
		if err != nil {
			return err
		}
		add, err := e.Client.AddApplicationMemberWithResponse(ctx, app.Id, user.Id, e.admin())
		if err != nil {
			return err
		}
		if err := status(add.StatusCode(), 204, add.Body); err != nil {
			return err
		}
		members, err := e.Client.ListApplicationMembersWithResponse(ctx, app.Id, nil, e.admin())
		if err != nil {
			return err
		}
		if err := status(members.StatusCode(), 200, members.Body); err != nil {
			return err
		}
		tok, err := e.passwordGrant(ctx, username, password, app.Id.String())
		if err != nil {
			return err
		}
		in, err := e.Client.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: tok.AccessToken}, e.admin())
		if err != nil {
			return err
		}
		if in.JSON200 == nil || deref(in.JSON200.Aud) != app.Audience {
			return fmt.Errorf("introspection: %s", in.Body)
		}
		return e.revoke(ctx, tok.RefreshToken)
	}},
	{Name: "client credentials: a secret, a token, the secret deleted", Admin: true, Run: func(ctx context.Context, e *Env) error {
		app, err := e.createApplication(ctx, e.Prefix+"client")
		if err != nil {
			return err
		}
		scopes := []string{"conformance:read"}
		up, err := e.Client.UpdateApplicationWithResponse(ctx, app.Id, client.ApplicationUpdate{Scopes: &scopes}, e.admin())
		if err != nil {
			return err
		}
		if err := status(up.StatusCode(), 200, up.Body); err != nil {
			return err
		}
		sec, err := e.Client.CreateApplicationSecretWithResponse(ctx, app.Id, client.ApplicationSecretCreate{}, e.admin())
		if err != nil {
			return err
		}
		if err := status(sec.StatusCode(), 201, sec.Body); err != nil {
			return err
		}
		id := app.Id.String()
		tok, err := e.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypeClientCredentials,
		}, func(_ context.Context, req *http.Request) error { req.SetBasicAuth(id, sec.JSON201.Secret); return nil })
		if err != nil {
			return err
		}
		if err := status(tok.StatusCode(), 200, tok.Body); err != nil {
			return err
		}
		if tok.JSON200.Scope != "conformance:read" || tok.JSON200.RefreshToken != "" {
			return fmt.Errorf("token response with scope %q and a refresh token %t, want conformance:read and none", tok.JSON200.Scope, tok.JSON200.RefreshToken != "")
		}
		del, err := e.Client.DeleteApplicationSecretWithResponse(ctx, app.Id, sec.JSON201.Id.String(), e.admin())
		if err != nil {
			return err
		}
		return status(del.StatusCode(), 204, del.Body)
	}},
	{Name: "API keys: a user's acts with its scopes in either header; lists and gets are masked and the owner's only; revoked, expired, mistyped keys and a disabled owner's are 401", Admin: true, Run: apiKeysCheck},
}

// Leftovers fails when anything named with the Env's prefix remains:
// users, applications, roles, the administrator's API keys.
func Leftovers(ctx context.Context, e *Env) error {
	c, admin := e.Client, e.admin()
	var left []string
	users, err := c.ListUsersWithResponse(ctx, &client.ListUsersParams{Q: &e.Prefix}, admin)
	if err != nil {
		return err
	}
	if users.JSON200 == nil {
		return status(users.StatusCode(), 200, users.Body)
	}
	for _, u := range users.JSON200.Items {
		if strings.HasPrefix(u.Username, e.Prefix) {
			left = append(left, "user "+u.Username)
		}
	}
	var cursor *string
	for {
		apps, err := c.ListApplicationsWithResponse(ctx, &client.ListApplicationsParams{Limit: ptr(100), Cursor: cursor}, admin)
		if err != nil {
			return err
		}
		if apps.JSON200 == nil {
			return status(apps.StatusCode(), 200, apps.Body)
		}
		for _, a := range apps.JSON200.Items {
			if strings.HasPrefix(a.Name, e.Prefix) {
				left = append(left, "application "+a.Name)
			}
		}
		if cursor = apps.JSON200.NextCursor; cursor == nil {
			break
		}
	}
	roles, err := c.ListRolesWithResponse(ctx, admin)
	if err != nil {
		return err
	}
	if roles.JSON200 == nil {
		return status(roles.StatusCode(), 200, roles.Body)
	}
	for _, ro := range roles.JSON200.Items {
		if strings.HasPrefix(ro.Name, e.Prefix) {
			left = append(left, "role "+ro.Name)
		}
	}
	keys, err := c.ListApiKeysWithResponse(ctx, &client.ListApiKeysParams{Limit: ptr(100)}, admin)
	if err != nil {
		return err
	}
	if keys.JSON200 == nil {
		return status(keys.StatusCode(), 200, keys.Body)
	}
	for _, k := range keys.JSON200.Items {
		if strings.HasPrefix(k.Name, e.Prefix) {
			left = append(left, "API key "+k.Name)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("left behind: %s", strings.Join(left, ", "))
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// apiKeysCheck is the API-key check of the Suite.
func apiKeysCheck(ctx context.Context, e *Env) error {
	// A role of its own, so that what the owner may do is known whatever
	// the deployment's user role grants.
	role, username, password := e.Prefix+"key-owner", e.Prefix+"key-owner", "conformance-"+uuid.NewString()
	if err := e.createRole(ctx, role, "profile", "api_keys"); err != nil {
		return err
	}
	owner, err := e.createUser(ctx, client.UserCreate{Username: username, Password: password, Role: &role})
	if err != nil {
		return err
	}
	tok, err := e.passwordGrant(ctx, username, password, "")
	if err != nil {
		return err
	}
	ownerAuth := bearer(tok.AccessToken)
	create := func(auth client.RequestEditorFn, name string, expires *time.Time) (*client.ApiKeyCreated, error) {
		resp, err := e.Client.CreateApiKeyWithResponse(ctx, client.ApiKeyCreate{Name: e.Prefix + name, ExpiresAt: expires}, auth)
		if err != nil {
			return nil, err
		}
		if err := status(resp.StatusCode(), 201, resp.Body); err != nil {
			return nil, err
		}
		return resp.JSON201, nil
	}
	k, err := create(ownerAuth, "ci", nil)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(k.Key, "gatehouse_") || len(k.Key) != len("gatehouse_")+38 || k.KeyHint != "gatehouse_…"+k.Key[len(k.Key)-4:] {
		return fmt.Errorf("the created key is not gatehouse_ and 38 characters, its hint the last 4: hint %q", k.KeyHint)
	}
	// The key acts with its owner's scopes, in either header.
	for name, auth := range map[string]client.RequestEditorFn{"X-API-Key": apiKeyHeader(k.Key), "Bearer": bearer(k.Key)} {
		me, err := e.Client.GetMeWithResponse(ctx, auth)
		if err != nil {
			return err
		}
		if me.JSON200 == nil || me.JSON200.Username != username {
			return fmt.Errorf("%s: GET /v1/me %d %.300s, want the owner", name, me.StatusCode(), me.Body)
		}
		users, err := e.Client.ListUsersWithResponse(ctx, &client.ListUsersParams{}, auth)
		if err != nil {
			return err
		}
		if users.ApplicationproblemJSON403 == nil || !strings.Contains(deref(users.ApplicationproblemJSON403.Detail), "users:read") {
			return fmt.Errorf("%s: GET /v1/users %d %.300s, want 403 for want of users:read", name, users.StatusCode(), users.Body)
		}
	}
	// The administrator's key acts as the administrator.
	adminKey, err := create(e.admin(), "ops", nil)
	if err != nil {
		return err
	}
	e.OnCleanup("revoke the API key "+e.Prefix+"ops", func(ctx context.Context) error {
		del, err := e.Client.DeleteApiKeyWithResponse(ctx, adminKey.Id, e.admin())
		if err != nil {
			return err
		}
		return status(del.StatusCode(), 204, del.Body)
	})
	if r, err := e.Client.ListUsersWithResponse(ctx, &client.ListUsersParams{Q: &username}, apiKeyHeader(adminKey.Key)); err != nil || r.JSON200 == nil {
		return fmt.Errorf("the administrator's key on /v1/users: %v %d %.300s", err, r.StatusCode(), r.Body)
	}
	// Lists and gets are masked and hold only the owner's keys.
	list, err := e.Client.ListApiKeysWithResponse(ctx, &client.ListApiKeysParams{}, ownerAuth)
	if err != nil {
		return err
	}
	if list.JSON200 == nil || len(list.JSON200.Items) != 1 || list.JSON200.Items[0].KeyHint != k.KeyHint {
		return fmt.Errorf("the owner's list: %d %.300s, want its one key", list.StatusCode(), list.Body)
	}
	if strings.Contains(string(list.Body), k.Key) || strings.Contains(string(list.Body), `"key"`) {
		return errors.New("the list shows the key")
	}
	got, err := e.Client.GetApiKeyWithResponse(ctx, k.Id, ownerAuth)
	if err != nil {
		return err
	}
	if got.JSON200 == nil || got.JSON200.Name != e.Prefix+"ci" || strings.Contains(string(got.Body), k.Key) {
		return fmt.Errorf("GET the key: %d, want it masked", got.StatusCode())
	}
	other, err := e.Client.GetApiKeyWithResponse(ctx, adminKey.Id, ownerAuth)
	if err != nil {
		return err
	}
	if _, err := WantProblem(other.HTTPResponse, other.Body, 404); err != nil {
		return fmt.Errorf("another user's key: %w", err)
	}
	// Revoked, mistyped, unknown, expired keys and disabled owners get 401.
	expired, err := create(ownerAuth, "short-lived", ptr(time.Now().Add(-time.Second)))
	if err != nil {
		return err
	}
	doomed, err := create(ownerAuth, "doomed", nil)
	if err != nil {
		return err
	}
	for _, want := range []int{204, 404} {
		del, err := e.Client.DeleteApiKeyWithResponse(ctx, doomed.Id, ownerAuth)
		if err != nil {
			return err
		}
		if err := status(del.StatusCode(), want, del.Body); err != nil {
			return fmt.Errorf("DELETE the key: %w", err)
		}
	}
	typo := []byte(k.Key)
	typo[15] ^= 1
	refused := []struct{ name, key string }{
		{"revoked", doomed.Key}, {"expired", expired.Key}, {"mistyped", string(typo)},
		{"unknown", "gatehouse_00000000000000000000000000000000000000"}, {"garbage", "gatehouse_x"},
	}
	for _, r := range refused {
		if err := wantKeyRefused(ctx, e, r.name, r.key); err != nil {
			return err
		}
	}
	up, err := e.Client.UpdateUserWithResponse(ctx, owner.Id, client.UserUpdate{Disabled: ptr(true)}, e.admin())
	if err != nil {
		return err
	}
	if err := status(up.StatusCode(), 200, up.Body); err != nil {
		return fmt.Errorf("disable the owner: %w", err)
	}
	return wantKeyRefused(ctx, e, "disabled owner's", k.Key)
}

// wantKeyRefused fails unless GET /v1/me with the key is 401 invalid_token.
func wantKeyRefused(ctx context.Context, e *Env, name, key string) error {
	me, err := e.Client.GetMeWithResponse(ctx, apiKeyHeader(key))
	if err != nil {
		return err
	}
	if me.ApplicationproblemJSON401 == nil || !strings.Contains(me.HTTPResponse.Header.Get("WWW-Authenticate"), "invalid_token") {
		return fmt.Errorf("a %s key: %d %.300s, want 401 invalid_token", name, me.StatusCode(), me.Body)
	}
	return nil
}

func apiKeyHeader(key string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-API-Key", key)
		return nil
	}
}
