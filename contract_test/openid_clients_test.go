package contract_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// TestApplicationClientFields: an application's redirect URIs, client type
// and first-party flag are set, read back and audited; every redirect URI
// is an exact https URI (or http on a loopback host) without wildcard,
// fragment or user information; credentials make an application
// confidential, and one holding them cannot be made public.
func TestApplicationClientFields(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.adminToken(t)
	ctx := context.Background()

	def := s.defaultApplication(t, admin)
	if !def.FirstParty || def.ClientType != client.Public {
		t.Errorf("default application: first_party %t, client_type %s; want a first-party public client", def.FirstParty, def.ClientType)
	}

	app := s.createApplication(t, admin, client.ApplicationCreate{
		Name:                   "dashboard",
		RedirectUris:           &[]string{"https://dash.example.com/cb", "http://127.0.0.1:8000/cb", "http://localhost/cb", "https://dash.example.com/cb"},
		PostLogoutRedirectUris: &[]string{"https://dash.example.com/bye", "http://[::1]:9000/bye"},
		ClientType:             ptr(client.Confidential),
		FirstParty:             ptr(true),
	})
	want := []string{"https://dash.example.com/cb", "http://127.0.0.1:8000/cb", "http://localhost/cb"}
	if diff := cmp.Diff(want, app.RedirectUris); diff != "" {
		t.Errorf("redirect_uris, duplicates dropped (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"https://dash.example.com/bye", "http://[::1]:9000/bye"}, app.PostLogoutRedirectUris); diff != "" {
		t.Errorf("post_logout_redirect_uris (-want +got):\n%s", diff)
	}
	if app.ClientType != client.Confidential || !app.FirstParty {
		t.Errorf("created: client_type %s, first_party %t", app.ClientType, app.FirstParty)
	}
	if g, err := s.Client.GetApplicationWithResponse(ctx, app.Id, bearer(admin)); err != nil || g.JSON200 == nil || cmp.Diff(app, *g.JSON200) != "" {
		t.Errorf("get after create: %v %s", err, g.Body)
	}

	r, err := s.Client.UpdateApplicationWithResponse(ctx, app.Id, client.ApplicationUpdate{
		RedirectUris: &[]string{"https://dash.example.com/callback"}, ClientType: ptr(client.Public), FirstParty: ptr(false),
	}, bearer(admin))
	if err != nil || r.JSON200 == nil {
		t.Fatalf("update: %v %d %s", err, r.StatusCode(), r.Body)
	}
	if got := r.JSON200; cmp.Diff([]string{"https://dash.example.com/callback"}, got.RedirectUris) != "" || got.ClientType != client.Public || got.FirstParty {
		t.Errorf("updated: %+v", got)
	}
	events := auditEvents(t, s, admin, "application.update")
	wantDetail := "redirect_uris [https://dash.example.com/cb http://127.0.0.1:8000/cb http://localhost/cb] -> [https://dash.example.com/callback], " +
		"client_type confidential -> public, first_party true -> false"
	if len(events) != 1 || deref(events[0].Detail) != wantDetail {
		t.Errorf("audited update: %+v, want detail %q", events, wantDetail)
	}

	t.Run("bad redirect URIs", func(t *testing.T) {
		for _, tc := range []struct{ name, uri string }{
			{"wildcard host", "https://*.example.com/cb"},
			{"wildcard path", "https://dash.example.com/*"},
			{"fragment", "https://dash.example.com/cb#frag"},
			{"empty fragment", "https://dash.example.com/cb#"},
			{"plain http", "http://dash.example.com/cb"},
			{"localhost lookalike", "http://localhost.evil.example/cb"},
			{"loopback lookalike", "http://127.0.0.1.evil.example/cb"},
			{"user information", "https://user@dash.example.com/cb"},
			{"relative", "/cb"},
			{"no host", "https:///cb"},
			{"script", "javascript:alert(1)"},
			{"custom scheme", "com.example.app:/cb"},
			{"space", "https://dash.example.com/c b"},
			{"control character", "https://dash.example.com/cb\n"},
		} {
			for _, field := range []string{"redirect_uris", "post_logout_redirect_uris"} {
				body := `{"name": "bad", "` + field + `": ["https://ok.example/cb", ` + quote(tc.uri) + `]}`
				resp, err := s.Client.CreateApplicationWithBodyWithResponse(ctx, "application/json", strings.NewReader(body), bearer(admin))
				if err != nil {
					t.Fatal(err)
				}
				wantFieldError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "body", field+".1")
				patch, err := s.Client.UpdateApplicationWithBodyWithResponse(ctx, app.Id, "application/json",
					strings.NewReader(`{"`+field+`": [`+quote(tc.uri)+`]}`), bearer(admin))
				if err != nil {
					t.Fatal(err)
				}
				wantFieldError(t, wantProblem(t, patch.HTTPResponse, patch.Body, 400), "body", field+".0")
			}
		}
		resp, err := s.Client.CreateApplicationWithBodyWithResponse(invalid(ctx), "application/json",
			strings.NewReader(`{"name": "bad", "client_type": "secret"}`), bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantFieldError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "body", "client_type")
	})

	t.Run("credentials make a client confidential", func(t *testing.T) {
		pub := s.createApplication(t, admin, client.ApplicationCreate{Name: "tool"})
		sec, err := s.Client.CreateApplicationSecretWithResponse(ctx, pub.Id, client.ApplicationSecretCreate{}, bearer(admin))
		if err != nil || sec.JSON201 == nil {
			t.Fatalf("create secret: %v", err)
		}
		if g, _ := s.Client.GetApplicationWithResponse(ctx, pub.Id, bearer(admin)); g.JSON200 == nil || g.JSON200.ClientType != client.Confidential {
			t.Errorf("after a secret: %s", g.Body)
		}
		resp, err := s.Client.UpdateApplicationWithResponse(ctx, pub.Id, client.ApplicationUpdate{ClientType: ptr(client.Public)}, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantFieldError(t, wantProblem(t, resp.HTTPResponse, resp.Body, 400), "body", "client_type")
		if d, err := s.Client.DeleteApplicationSecretWithResponse(ctx, pub.Id, sec.JSON201.Id.String(), bearer(admin)); err != nil || d.StatusCode() != 204 {
			t.Fatalf("delete secret: %v", err)
		}
		if r, _ := s.Client.UpdateApplicationWithResponse(ctx, pub.Id, client.ApplicationUpdate{ClientType: ptr(client.Public)}, bearer(admin)); r.JSON200 == nil || r.JSON200.ClientType != client.Public {
			t.Errorf("made public without credentials: %d %s", r.StatusCode(), r.Body)
		}
	})
}

// quote is s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
