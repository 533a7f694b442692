package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// run is the suite: read-only checks first, then what it creates.
func (r *runner) run(ctx context.Context) {
	c := r.c
	r.check("GET /healthz answers 200", func() error {
		resp, err := c.GetHealthWithResponse(ctx)
		if err != nil {
			return err
		}
		return status(resp.StatusCode(), 200, resp.Body)
	})
	r.check("GET /readyz answers 200", func() error {
		resp, err := c.GetReadinessWithResponse(ctx)
		if err != nil {
			return err
		}
		return status(resp.StatusCode(), 200, resp.Body)
	})
	r.check("GET /openapi.yaml serves the contract", func() error {
		resp, err := c.GetOpenAPISpecWithResponse(ctx)
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, nil); err != nil {
			return err
		}
		if !strings.HasPrefix(string(resp.Body), "openapi: ") {
			return errors.New("the body is not an OpenAPI document")
		}
		return nil
	})
	var jwksKids []string
	r.check("GET /.well-known/jwks.json lists signing keys with max-age", func() error {
		resp, err := c.GetJWKSWithResponse(ctx)
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		if len(resp.JSON200.Keys) == 0 {
			return errors.New("no keys")
		}
		for _, k := range resp.JSON200.Keys {
			jwksKids = append(jwksKids, k.Kid)
		}
		return nil
	})
	var md *client.ServerMetadata
	r.check("GET /.well-known/openid-configuration", func() error {
		resp, err := c.GetOpenIDConfigurationWithResponse(ctx)
		if err != nil {
			return err
		}
		md = resp.JSON200
		return status(resp.StatusCode(), 200, resp.Body)
	})
	r.check("GET /.well-known/oauth-authorization-server matches it", func() error {
		resp, err := c.GetAuthorizationServerMetadataWithResponse(ctx)
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		if md != nil && resp.JSON200.Issuer != md.Issuer {
			return fmt.Errorf("issuer %q, the OIDC document says %q", resp.JSON200.Issuer, md.Issuer)
		}
		return nil
	})
	r.check("a wrong password is 400 invalid_grant", func() error {
		resp, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypePassword, Username: &r.opts.Username, Password: ptr(r.opts.Password + "-wrong"),
		})
		if err != nil {
			return err
		}
		if resp.JSON400 == nil || resp.JSON400.Error != client.OAuthErrorErrorInvalidGrant {
			return status(resp.StatusCode(), 400, resp.Body)
		}
		return nil
	})
	r.check("an unknown client_id is 401 invalid_client", func() error {
		resp, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypePassword, Username: &r.opts.Username, Password: &r.opts.Password, ClientId: ptr(uuid.NewString()),
		})
		if err != nil {
			return err
		}
		return status(resp.StatusCode(), 401, resp.Body)
	})
	var adminTok client.TokenResponse
	if !r.check("the administrator logs in (password grant)", func() error {
		resp, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypePassword, Username: &r.opts.Username, Password: &r.opts.Password,
		})
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		adminTok = *resp.JSON200
		return nil
	}) {
		return // nothing else can run
	}
	r.admin, r.adminRefresh = adminTok.AccessToken, adminTok.RefreshToken
	admin := bearer(r.admin)

	r.check("without credentials /v1/users is 401", func() error {
		resp, err := c.ListUsersWithResponse(ctx, nil)
		if err != nil {
			return err
		}
		return status(resp.StatusCode(), 401, resp.Body)
	})
	r.check("GET /v1/me as the administrator", func() error {
		resp, err := c.GetMeWithResponse(ctx, admin)
		if err != nil {
			return err
		}
		return status(resp.StatusCode(), 200, resp.Body)
	})
	r.check("GET /v1/signing-keys lists the JWKS's keys (no rotation)", func() error {
		resp, err := c.ListSigningKeysWithResponse(ctx, admin)
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		for _, k := range resp.JSON200.Items {
			if k.RetiredAt == nil && !slices.Contains(jwksKids, k.Kid) {
				return fmt.Errorf("key %s is not in the JWKS", k.Kid)
			}
		}
		return nil
	})
	r.check("GET /v1/audit-events", func() error {
		resp, err := c.ListAuditEventsWithResponse(ctx, &client.ListAuditEventsParams{Limit: ptr(5)}, admin)
		if err != nil {
			return err
		}
		return status(resp.StatusCode(), 200, resp.Body)
	})
	r.check("GET /v1/users/{unknown} is 404", func() error {
		resp, err := c.GetUserWithResponse(ctx, uuid.New(), admin)
		if err != nil {
			return err
		}
		return status(resp.StatusCode(), 404, resp.Body)
	})
	r.check("a refresh rotates the refresh token", func() error {
		// A session of its own: revoking it below ends it, access tokens
		// included, and the run's admin token must outlive it.
		login, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypePassword, Username: &r.opts.Username, Password: &r.opts.Password,
		})
		if err != nil {
			return err
		}
		if err := status(login.StatusCode(), 200, login.Body); err != nil {
			return err
		}
		first := login.JSON200.RefreshToken
		resp, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
			GrantType: client.TokenRequestGrantTypeRefreshToken, RefreshToken: &first,
		})
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
			return err
		}
		if resp.JSON200.RefreshToken == first {
			return errors.New("the refresh token did not rotate")
		}
		// Revoke the new family: the run leaves no live session behind.
		rv, err := c.RevokeTokenWithFormdataBodyWithResponse(ctx, client.RevokeTokenFormdataRequestBody{Token: resp.JSON200.RefreshToken})
		if err != nil {
			return err
		}
		return status(rv.StatusCode(), 200, rv.Body)
	})

	// What the run creates: a role, a user holding it, an application
	// the user is a member of, an API key.
	roleName := r.prefix + "role"
	r.check("PUT /v1/roles/{name} creates a role", func() error {
		resp, err := c.PutRoleWithResponse(ctx, roleName, client.RolePut{Code: 9000 + int(uuid.New().ID()%999), Scopes: []string{"profile"}}, admin)
		if err != nil {
			return err
		}
		if resp.StatusCode() == 201 || resp.StatusCode() == 200 {
			r.onCleanup("delete the role", func(ctx context.Context) error {
				resp, err := c.DeleteRoleWithResponse(ctx, roleName, admin)
				if err != nil {
					return err
				}
				return status(resp.StatusCode(), 204, resp.Body)
			})
		}
		return status(resp.StatusCode(), 201, resp.Body)
	})
	username, password := r.prefix+"user", "conformance-"+uuid.NewString()
	var user *client.User
	r.check("POST /v1/users creates a user with the role", func() error {
		resp, err := c.CreateUserWithResponse(ctx, client.UserCreate{Username: username, Password: password, Role: &roleName}, admin)
		if err != nil {
			return err
		}
		if resp.JSON201 != nil {
			user = resp.JSON201
			r.onCleanup("delete the user", func(ctx context.Context) error {
				resp, err := c.DeleteUserWithResponse(ctx, user.Id, admin)
				if err != nil {
					return err
				}
				return status(resp.StatusCode(), 204, resp.Body)
			})
		}
		return status(resp.StatusCode(), 201, resp.Body)
	})
	if user != nil {
		r.check("PATCH /v1/users/{id}", func() error {
			resp, err := c.UpdateUserWithResponse(ctx, user.Id, client.UserUpdate{FirstName: ptr("Conformance")}, admin)
			if err != nil {
				return err
			}
			return status(resp.StatusCode(), 200, resp.Body)
		})
		r.check("the new user logs in; its token is 403 on /v1/users", func() error {
			resp, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
				GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password,
			})
			if err != nil {
				return err
			}
			if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
				return err
			}
			list, err := c.ListUsersWithResponse(ctx, nil, bearer(resp.JSON200.AccessToken))
			if err != nil {
				return err
			}
			if err := status(list.StatusCode(), 403, list.Body); err != nil {
				return err
			}
			in, err := c.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: resp.JSON200.AccessToken}, admin)
			if err != nil {
				return err
			}
			if err := status(in.StatusCode(), 200, in.Body); err != nil {
				return err
			}
			if !in.JSON200.Active || deref(in.JSON200.Username) != username {
				return fmt.Errorf("introspection: %s", in.Body)
			}
			return nil
		})
	}
	var app *client.Application
	r.check("POST /v1/applications creates an application", func() error {
		aud := "urn:" + r.prefix + "app"
		resp, err := c.CreateApplicationWithResponse(ctx, client.ApplicationCreate{Name: r.prefix + "app", Audience: &aud}, admin)
		if err != nil {
			return err
		}
		if resp.JSON201 != nil {
			app = resp.JSON201
			r.onCleanup("delete the application", func(ctx context.Context) error {
				resp, err := c.DeleteApplicationWithResponse(ctx, app.Id, admin)
				if err != nil {
					return err
				}
				return status(resp.StatusCode(), 204, resp.Body)
			})
		}
		return status(resp.StatusCode(), 201, resp.Body)
	})
	if app != nil && user != nil {
		r.check("a member logs in to the application; the token has its audience", func() error {
			add, err := c.AddApplicationMemberWithResponse(ctx, app.Id, user.Id, admin)
			if err != nil {
				return err
			}
			if err := status(add.StatusCode(), 204, add.Body); err != nil {
				return err
			}
			id := app.Id.String()
			resp, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
				GrantType: client.TokenRequestGrantTypePassword, Username: &username, Password: &password, ClientId: &id,
			})
			if err != nil {
				return err
			}
			if err := status(resp.StatusCode(), 200, resp.Body); err != nil {
				return err
			}
			in, err := c.IntrospectTokenWithFormdataBodyWithResponse(ctx, client.IntrospectTokenFormdataRequestBody{Token: resp.JSON200.AccessToken}, admin)
			if err != nil {
				return err
			}
			if in.JSON200 == nil || deref(in.JSON200.Aud) != app.Audience {
				return fmt.Errorf("introspection: %s", in.Body)
			}
			return nil
		})
	}
	if app != nil {
		r.check("client credentials: a secret, a token, the secret deleted", func() error {
			scopes := []string{"conformance:read"}
			up, err := c.UpdateApplicationWithResponse(ctx, app.Id, client.ApplicationUpdate{Scopes: &scopes}, admin)
			if err != nil {
				return err
			}
			if err := status(up.StatusCode(), 200, up.Body); err != nil {
				return err
			}
			sec, err := c.CreateApplicationSecretWithResponse(ctx, app.Id, client.ApplicationSecretCreate{}, admin)
			if err != nil {
				return err
			}
			if err := status(sec.StatusCode(), 201, sec.Body); err != nil {
				return err
			}
			id := app.Id.String()
			tok, err := c.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
				GrantType: client.TokenRequestGrantTypeClientCredentials,
			}, func(_ context.Context, req *http.Request) error { req.SetBasicAuth(id, sec.JSON201.Secret); return nil })
			if err != nil {
				return err
			}
			if err := status(tok.StatusCode(), 200, tok.Body); err != nil {
				return err
			}
			if tok.JSON200.Scope != "conformance:read" || tok.JSON200.RefreshToken != "" {
				return fmt.Errorf("token response %s", tok.Body)
			}
			del, err := c.DeleteApplicationSecretWithResponse(ctx, app.Id, sec.JSON201.Id.String(), admin)
			if err != nil {
				return err
			}
			return status(del.StatusCode(), 204, del.Body)
		})
	}
	r.check("an API key: created, used, revoked", func() error {
		resp, err := c.CreateApiKeyWithResponse(ctx, client.ApiKeyCreate{Name: r.prefix + "key"}, admin)
		if err != nil {
			return err
		}
		if err := status(resp.StatusCode(), 201, resp.Body); err != nil {
			return err
		}
		key := resp.JSON201
		r.onCleanup("revoke the API key", func(ctx context.Context) error {
			del, err := c.DeleteApiKeyWithResponse(ctx, key.Id, admin)
			if err != nil {
				return err
			}
			if del.StatusCode() == 404 {
				return nil // revoked by the check
			}
			return status(del.StatusCode(), 204, del.Body)
		})
		me, err := c.GetMeWithResponse(ctx, func(_ context.Context, req *http.Request) error {
			req.Header.Set("X-API-Key", key.Key)
			return nil
		})
		if err != nil {
			return err
		}
		if err := status(me.StatusCode(), 200, me.Body); err != nil {
			return err
		}
		del, err := c.DeleteApiKeyWithResponse(ctx, key.Id, admin)
		if err != nil {
			return err
		}
		return status(del.StatusCode(), 204, del.Body)
	})
}

// leftovers fails when anything named with the prefix remains.
func (r *runner) leftovers(ctx context.Context) error {
	c, admin := r.c, bearer(r.admin)
	var left []string
	users, err := c.ListUsersWithResponse(ctx, &client.ListUsersParams{Q: &r.prefix}, admin)
	if err != nil {
		return err
	}
	if users.JSON200 == nil {
		return status(users.StatusCode(), 200, users.Body)
	}
	for _, u := range users.JSON200.Items {
		left = append(left, "user "+u.Username)
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
			if strings.HasPrefix(a.Name, r.prefix) {
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
		if strings.HasPrefix(ro.Name, r.prefix) {
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
		if strings.HasPrefix(k.Name, r.prefix) {
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
