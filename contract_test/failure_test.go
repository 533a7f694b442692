package contract_test

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// nativeOp is one guarded operation of the native API, called with valid
// input through the generated client.
type nativeOp struct {
	id    string // operationId
	scope string // the scope it needs
	call  func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error)
	// withBody sends body as its JSON request body; nil when the
	// operation takes none.
	withBody func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error)
}

// basicOps also accept HTTP Basic (the way out of an expired password).
var basicOps = []string{"changeMyPassword"}

const jsonType = "application/json"

// nativeOps are the operations of the tags users, me, applications, roles,
// signing-keys, mfa and webhooks. Ids are random: authentication comes first, and a
// random UUID is valid input.
func nativeOps() []nativeOp {
	id, other := uuid.New(), uuid.New()
	return []nativeOp{
		{"listUsers", "users:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListUsers(ctx, &client.ListUsersParams{Limit: ptr(10), Q: ptr("a")}, eds...)
		}, nil},
		{"createUser", "users:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.CreateUser(ctx, client.UserCreate{Username: "newcomer", Password: "newcomer-password"}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.CreateUserWithBody(ctx, jsonType, body, eds...)
		}},
		{"getUser", "users:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.GetUser(ctx, id, eds...)
		}, nil},
		{"updateUser", "users:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.UpdateUser(ctx, id, client.UserUpdate{FirstName: ptr("x")}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.UpdateUserWithBody(ctx, id, jsonType, body, eds...)
		}},
		{"deleteUser", "users:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.DeleteUser(ctx, id, eds...)
		}, nil},
		{"setUserPassword", "users:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.SetUserPassword(ctx, id, client.PasswordSet{NewPassword: "a-new-password"}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.SetUserPasswordWithBody(ctx, id, jsonType, body, eds...)
		}},
		{"listUserSessions", "users:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListUserSessions(ctx, id, eds...)
		}, nil},
		{"endUserSessions", "users:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.EndUserSessions(ctx, id, eds...)
		}, nil},
		{"endUserSession", "users:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.EndUserSession(ctx, id, other, eds...)
		}, nil},
		{"inviteUser", "users:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.InviteUser(ctx, id, eds...)
		}, nil},
		{"getMe", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.GetMe(ctx, eds...)
		}, nil},
		{"updateMe", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.UpdateMe(ctx, client.ProfileUpdate{LastName: ptr("x")}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.UpdateMeWithBody(ctx, jsonType, body, eds...)
		}},
		{"changeMyPassword", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ChangeMyPassword(ctx, client.PasswordChange{CurrentPassword: adminPassword, NewPassword: "a-new-password"}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ChangeMyPasswordWithBody(ctx, jsonType, body, eds...)
		}},
		{"listMySessions", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListMySessions(ctx, eds...)
		}, nil},
		{"endMyOtherSessions", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.EndMyOtherSessions(ctx, eds...)
		}, nil},
		{"endMySession", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.EndMySession(ctx, id, eds...)
		}, nil},
		{"sendMyVerification", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.SendMyVerification(ctx, eds...)
		}, nil},
		{"listApplications", "applications:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListApplications(ctx, &client.ListApplicationsParams{Limit: ptr(10)}, eds...)
		}, nil},
		{"createApplication", "applications:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.CreateApplication(ctx, client.ApplicationCreate{Name: "hub"}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.CreateApplicationWithBody(ctx, jsonType, body, eds...)
		}},
		{"getApplication", "applications:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.GetApplication(ctx, id, eds...)
		}, nil},
		{"updateApplication", "applications:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.UpdateApplication(ctx, id, client.ApplicationUpdate{Name: ptr("hub")}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.UpdateApplicationWithBody(ctx, id, jsonType, body, eds...)
		}},
		{"deleteApplication", "applications:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.DeleteApplication(ctx, id, eds...)
		}, nil},
		{"listApplicationMembers", "applications:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListApplicationMembers(ctx, id, &client.ListApplicationMembersParams{Limit: ptr(10)}, eds...)
		}, nil},
		{"addApplicationMember", "applications:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.AddApplicationMember(ctx, id, other, eds...)
		}, nil},
		{"removeApplicationMember", "applications:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.RemoveApplicationMember(ctx, id, other, eds...)
		}, nil},
		{"listApplicationSecrets", "applications:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListApplicationSecrets(ctx, id, eds...)
		}, nil},
		{"createApplicationSecret", "applications:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.CreateApplicationSecret(ctx, id, client.ApplicationSecretCreate{}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.CreateApplicationSecretWithBody(ctx, id, jsonType, body, eds...)
		}},
		{"deleteApplicationSecret", "applications:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.DeleteApplicationSecret(ctx, id, other.String(), eds...)
		}, nil},
		{"getApplicationJWKS", "applications:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.GetApplicationJWKS(ctx, id, eds...)
		}, nil},
		{"putApplicationJWKS", "applications:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.PutApplicationJWKS(ctx, id, client.ClientJWKSet{Keys: []client.ClientJWK{}}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.PutApplicationJWKSWithBody(ctx, id, jsonType, body, eds...)
		}},
		{"listWebhooks", "webhooks:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListWebhooks(ctx, &client.ListWebhooksParams{Limit: ptr(10)}, eds...)
		}, nil},
		{"createWebhook", "webhooks:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			// A public address literal: no DNS lookup stands before the store.
			return c.CreateWebhook(ctx, client.WebhookCreate{Url: "https://93.184.215.14/hook", Events: []string{"login"}}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.CreateWebhookWithBody(ctx, jsonType, body, eds...)
		}},
		{"getWebhook", "webhooks:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.GetWebhook(ctx, id, eds...)
		}, nil},
		{"updateWebhook", "webhooks:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.UpdateWebhook(ctx, id, client.WebhookUpdate{Disabled: ptr(true)}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.UpdateWebhookWithBody(ctx, id, jsonType, body, eds...)
		}},
		{"deleteWebhook", "webhooks:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.DeleteWebhook(ctx, id, eds...)
		}, nil},
		{"rotateWebhookSecret", "webhooks:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.RotateWebhookSecret(ctx, id, eds...)
		}, nil},
		{"listWebhookDeliveries", "webhooks:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListWebhookDeliveries(ctx, id, &client.ListWebhookDeliveriesParams{Limit: ptr(10)}, eds...)
		}, nil},
		{"retryWebhookDelivery", "webhooks:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.RetryWebhookDelivery(ctx, id, other, eds...)
		}, nil},
		{"listRoles", "roles:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListRoles(ctx, eds...)
		}, nil},
		{"getRole", "roles:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.GetRole(ctx, "educator", eds...)
		}, nil},
		{"putRole", "roles:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.PutRole(ctx, "educator", client.RolePut{Code: 4, Scopes: []string{"sleep:read"}}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.PutRoleWithBody(ctx, "educator", jsonType, body, eds...)
		}},
		{"deleteRole", "roles:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.DeleteRole(ctx, "educator", eds...)
		}, nil},
		{"listSigningKeys", "signing_keys:read", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ListSigningKeys(ctx, eds...)
		}, nil},
		{"rotateSigningKey", "signing_keys:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.RotateSigningKey(ctx, &client.RotateSigningKeyParams{Alg: ptr(client.ES256)}, eds...)
		}, nil},
		// Second factor (mfa_test.go).
		{"enrollTotp", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.EnrollTotp(ctx, eds...)
		}, nil},
		{"confirmTotp", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ConfirmTotp(ctx, client.TOTPConfirm{Code: "123456"}, eds...)
		}, func(ctx context.Context, c *client.ClientWithResponses, body io.Reader, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.ConfirmTotpWithBody(ctx, jsonType, body, eds...)
		}},
		{"regenerateRecoveryCodes", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.RegenerateRecoveryCodes(ctx, eds...)
		}, nil},
		{"removeMyTotp", "profile", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.RemoveMyTotp(ctx, eds...)
		}, nil},
		{"removeUserMfa", "users:write", func(ctx context.Context, c *client.ClientWithResponses, eds ...client.RequestEditorFn) (*http.Response, error) {
			return c.RemoveUserMfa(ctx, id, eds...)
		}, nil},
	}
}

// readBody reads and closes a raw response's body.
func readBody(t testing.TB, resp *http.Response, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNativeOpsMatchContract keeps nativeOps in step with openapi.yaml:
// every operation of its tags is there, with the scope the contract asks
// for and the statuses the tests below rely on.
func TestNativeOpsMatchContract(t *testing.T) {
	t.Parallel()
	loadContract(t)
	tags := []string{"users", "me", "applications", "roles", "signing-keys", "mfa", "webhooks"}
	byID := map[string]nativeOp{}
	for _, op := range nativeOps() {
		byID[op.id] = op
	}
	seen := 0
	for _, path := range contract.spec.Paths.InMatchingOrder() {
		for method, o := range contract.spec.Paths.Value(path).Operations() {
			if !slices.ContainsFunc(o.Tags, func(tag string) bool { return slices.Contains(tags, tag) }) {
				continue
			}
			seen++
			op, ok := byID[o.OperationID]
			if !ok {
				t.Errorf("%s %s (%s) is not in nativeOps", method, path, o.OperationID)
				continue
			}
			// The first alternative is the Bearer token with the one
			// scope; HTTP Basic is one only where basicOps says so.
			if o.Security == nil || len(*o.Security) == 0 || !reflect.DeepEqual((*o.Security)[0], openapi3.SecurityRequirement{"oauth2": {op.scope}}) ||
				slices.ContainsFunc(*o.Security, func(r openapi3.SecurityRequirement) bool { return r["passwordBasic"] != nil }) != slices.Contains(basicOps, op.id) {
				t.Errorf("%s: contract security %v, nativeOps scope %s, Basic %v", o.OperationID, o.Security, op.scope, slices.Contains(basicOps, op.id))
			}
			for _, status := range []string{"401", "403", "500"} {
				if o.Responses.Value(status) == nil {
					t.Errorf("%s documents no %s", o.OperationID, status)
				}
			}
			if (o.Responses.Value("413") != nil) != (op.withBody != nil) {
				t.Errorf("%s: 413 documented %v, body sent %v", o.OperationID, o.Responses.Value("413") != nil, op.withBody != nil)
			}
		}
	}
	if seen != len(byID) {
		t.Errorf("the contract has %d operations of the tags %v, nativeOps %d", seen, tags, len(byID))
	}
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	// A token signed by another server: well-formed, wrong key.
	foreign := newServer(t).adminToken(t)
	credentials := []struct {
		name       string
		auth       client.RequestEditorFn
		wantHeader string
	}{
		{"no credentials", noAuth, `Bearer realm="gatehouse"`},
		{"garbage token", bearer("garbage"), `Bearer realm="gatehouse", error="invalid_token"`},
		{"token of another server", bearer(foreign), `Bearer realm="gatehouse", error="invalid_token"`},
		{"tampered token", bearer(admin[:len(admin)-4] + "AAAA"), `Bearer realm="gatehouse", error="invalid_token"`},
		{"refresh token as bearer", bearer(s.login(t, "admin", adminPassword).RefreshToken), `Bearer realm="gatehouse", error="invalid_token"`},
		{"basic credentials", func(_ context.Context, r *http.Request) error {
			r.SetBasicAuth("admin", adminPassword)
			return nil
		}, `Bearer realm="gatehouse"`},
		{"wrong basic credentials", func(_ context.Context, r *http.Request) error {
			r.SetBasicAuth("admin", "not-the-password")
			return nil
		}, `Bearer realm="gatehouse"`},
		{"empty bearer", func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer ")
			return nil
		}, `Bearer realm="gatehouse"`},
	}
	t.Run("ops", func(t *testing.T) {
		for _, op := range nativeOps() {
			for _, cr := range credentials {
				if cr.name == "basic credentials" && slices.Contains(basicOps, op.id) {
					continue // valid credentials there
				}
				t.Run(op.id+"/"+cr.name, func(t *testing.T) {
					t.Parallel()
					resp, err := op.call(ctx, s.Client, cr.auth)
					body := readBody(t, resp, err)
					p := wantProblem(t, resp, body, http.StatusUnauthorized)
					if p.Errors != nil {
						t.Errorf("a 401 tells nothing of the request: %s", body)
					}
					h := resp.Header.Get("WWW-Authenticate")
					if cr.name == "wrong basic credentials" && slices.Contains(basicOps, op.id) {
						// Basic is a scheme here: its failure may be the one told.
						if !strings.HasPrefix(h, `Bearer realm="gatehouse"`) {
							t.Errorf("WWW-Authenticate %q", h)
						}
					} else if h != cr.wantHeader {
						t.Errorf("WWW-Authenticate %q, want %q", h, cr.wantHeader)
					}
				})
			}
		}
	})
	// Nothing happened: the same calls with the admin's token still find
	// the state untouched.
	if r, _ := s.Client.ListUsersWithResponse(ctx, nil, bearer(admin)); r.JSON200 == nil || len(r.JSON200.Items) != 1 {
		t.Errorf("users after the unauthenticated calls: %s", r.Body)
	}
}

func TestForbidden(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	s.createUser(t, admin, client.UserCreate{Username: "plain", Password: "plain-password"})
	user := s.login(t, "plain", "plain-password").AccessToken
	// An admin token narrowed to users:read lacks profile.
	narrowed, err := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: ptr("admin"), Password: ptr(adminPassword), Scope: ptr("users:read"),
	})
	if err != nil || narrowed.JSON200 == nil {
		t.Fatalf("narrowed token: %v", err)
	}
	t.Run("ops", func(t *testing.T) {
		for _, op := range nativeOps() {
			token := user
			if op.scope == "profile" {
				token = narrowed.JSON200.AccessToken
			}
			t.Run(op.id, func(t *testing.T) {
				t.Parallel()
				resp, err := op.call(ctx, s.Client, bearer(token))
				body := readBody(t, resp, err)
				p := wantProblem(t, resp, body, http.StatusForbidden)
				if !strings.Contains(*p.Detail, op.scope) || p.Errors != nil {
					t.Errorf("detail does not name the missing scope %s: %s", op.scope, body)
				}
				want := `Bearer realm="gatehouse", error="insufficient_scope", scope="` + op.scope + `"`
				if h := resp.Header.Get("WWW-Authenticate"); h != want {
					t.Errorf("WWW-Authenticate %q, want %q", h, want)
				}
			})
		}
	})
	// The refusals changed nothing.
	if r, _ := s.Client.ListUsersWithResponse(ctx, nil, bearer(admin)); r.JSON200 == nil || len(r.JSON200.Items) != 2 {
		t.Errorf("users after the forbidden calls: %s", r.Body)
	}
	if r, _ := s.Client.ListRolesWithResponse(ctx, bearer(admin)); r.JSON200 == nil || len(r.JSON200.Items) != 2 {
		t.Errorf("roles after the forbidden calls: %s", r.Body)
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()
	big := `{"name": "` + strings.Repeat("x", 1<<20) + `"}`
	for _, op := range nativeOps() {
		if op.withBody == nil {
			continue
		}
		t.Run(op.id, func(t *testing.T) {
			t.Parallel()
			resp, err := op.withBody(invalid(ctx), s.Client, strings.NewReader(big), bearer(admin))
			body := readBody(t, resp, err)
			p := wantProblem(t, resp, body, http.StatusRequestEntityTooLarge)
			if *p.Detail != "request body is over 1 MiB" {
				t.Errorf("detail: %s", body)
			}
		})
	}
	// Just under the limit is no 413 (but a 400: the body is not valid).
	under := `{"first_name": "` + strings.Repeat("x", 1<<20-100) + `"}`
	resp, err := s.Client.UpdateMeWithBody(invalid(ctx), jsonType, strings.NewReader(under), bearer(admin))
	body := readBody(t, resp, err)
	wantFieldError(t, wantProblem(t, resp, body, http.StatusBadRequest), "body", "first_name")
}

// With its database gone, every guarded operation fails with a 500 whose
// problem says nothing of the cause. The access token still verifies (the
// revocation check reads the node's in-memory copy of the log), so each
// fails at its own first store call.
func TestServerError(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServer(t, withClock(clk))
	// The admin's token comes from a TOTP login (amr otp), so the
	// operations that need a second step get past that check too.
	secret, _, _ := enrol(t, s, clk, s.adminToken(t))
	clk.Set(30 * time.Second) // the next TOTP step: the confirming code is spent
	step := mfaGrant(t, s, grantMFAOTP, mfaToken(t, s, "admin", adminPassword), totpCode(t, secret, clk.Now()))
	if step.JSON200 == nil {
		t.Fatalf("mfa-otp login: %d %s", step.StatusCode(), step.Body)
	}
	admin := step.JSON200.AccessToken
	ctx := context.Background()
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, op := range nativeOps() {
		t.Run(op.id, func(t *testing.T) {
			t.Parallel()
			resp, err := op.call(ctx, s.Client, bearer(admin))
			body := readBody(t, resp, err)
			p := wantProblem(t, resp, body, http.StatusInternalServerError)
			if *p.Detail != "internal error" || p.Errors != nil {
				t.Errorf("problem: %s", body)
			}
			for _, leak := range []string{"sql", "database", "closed", "revoc", "store"} {
				if strings.Contains(strings.ToLower(string(body)), leak) {
					t.Errorf("the problem leaks %q: %s", leak, body)
				}
			}
			if h := resp.Header.Get("WWW-Authenticate"); h != "" {
				t.Errorf("a 500 with WWW-Authenticate %q", h)
			}
		})
	}
	t.Cleanup(func() {
		// The cause is logged, once per request.
		if n := strings.Count(s.Log.String(), `"msg":"request failed"`); n < len(nativeOps()) {
			t.Errorf("%d failures logged, want %d", n, len(nativeOps()))
		}
		if !strings.Contains(s.Log.String(), "database is closed") {
			t.Errorf("the log does not hold the cause: %.500s", s.Log.String())
		}
	})
	// Discovery needs no database.
	if r, err := s.Client.GetJWKSWithResponse(ctx); err != nil || r.JSON200 == nil || len(r.JSON200.Keys) == 0 {
		t.Errorf("jwks without a database: %v", err)
	}
}
