package contract_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
	"github.com/gatehouse-auth/gatehouse/webhook"
)

// receiver is a webhook endpoint on loopback that records what it is
// sent and answers with the status answer gives for each request (200
// when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) int
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), b})
		n := len(r.got)
		r.mu.Unlock()
		status := http.StatusOK
		if r.answer != nil {
			status = r.answer(n)
		}
		if status == http.StatusFound {
			http.Redirect(w, req, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// messages returns what the receiver got so far.
func (r *receiver) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// signedBy reports whether m carries a v1 signature under each secret,
// computed here as Standard Webhooks defines it (independently of
// webhook.Signature), and how many signatures it carries.
func signedBy(t *testing.T, m received, secrets ...string) int {
	t.Helper()
	sigs := strings.Fields(m.header.Get("webhook-signature"))
	for _, secret := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			t.Fatalf("secret %q: %v", secret, err)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(m.header.Get("webhook-id") + "." + m.header.Get("webhook-timestamp") + "."))
		mac.Write(m.body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		found := false
		for _, s := range sigs {
			found = found || hmac.Equal([]byte(s), []byte(want))
		}
		if !found {
			t.Errorf("no signature of secret %s…: %q", secret[:10], sigs)
		}
	}
	return len(sigs)
}

// payload decodes a delivery's body.
func payload(t *testing.T, m received) webhook.Payload {
	t.Helper()
	var p webhook.Payload
	if err := json.Unmarshal(m.body, &p); err != nil {
		t.Fatalf("payload %s: %v", m.body, err)
	}
	return p
}

// withWebhooks lets webhooks reach loopback (the receivers) and tells
// their time by clk.
func withWebhooks(clk *fakeClock) func(*gatehouse.Options) {
	return func(o *gatehouse.Options) {
		o.Auth.Now = clk.Now
		o.Webhooks.Guard.AllowPrivate = true
		o.Webhooks.Jitter = func() float64 { return 0.5 } // the schedule's own waits
	}
}

// createWebhook creates an endpoint and returns it with its secret.
func createWebhook(t *testing.T, s *server, admin, url string, events ...string) client.WebhookCreated {
	t.Helper()
	resp, err := s.Client.CreateWebhookWithResponse(context.Background(), client.WebhookCreate{Url: url, Events: events}, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	if resp.JSON201 == nil {
		t.Fatalf("create webhook: %d %s", resp.StatusCode(), resp.Body)
	}
	return *resp.JSON201
}

// deliverDue runs one pass of the node's worker and returns how many
// deliveries it attempted.
func deliverDue(t *testing.T, s *server) int {
	t.Helper()
	n, err := s.Webhooks.DeliverDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func deliveries(t *testing.T, s *server, admin string, id uuid.UUID) []client.WebhookDelivery {
	t.Helper()
	resp, err := s.Client.ListWebhookDeliveriesWithResponse(context.Background(), id, nil, bearer(admin))
	if err != nil || resp.JSON200 == nil {
		t.Fatalf("deliveries: %v %d %s", err, resp.StatusCode(), resp.Body)
	}
	return resp.JSON200.Items
}

// TestWebhooksAPI: endpoints are created with their secret shown once,
// listed, read, changed, rotated and deleted; bad input is a 400 naming
// the field; unknown ids are 404.
func TestWebhooksAPI(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServerOptions(t, withWebhooks(clk))
	admin := s.adminToken(t)
	ctx := context.Background()
	rcv := newReceiver(t, nil)

	created := createWebhook(t, s, admin, rcv.URL+"/hook", "user.create", "login", "user.create")
	if !strings.HasPrefix(created.Secret, "whsec_") || len(created.Events) != 2 || created.Disabled {
		t.Errorf("created: %+v", created)
	}
	if r, err := s.Client.GetWebhookWithResponse(ctx, created.Id, bearer(admin)); err != nil || r.JSON200 == nil || r.JSON200.Url != rcv.URL+"/hook" {
		t.Fatalf("get: %v %s", err, r.Body)
	} else if strings.Contains(string(r.Body), created.Secret[6:]) {
		t.Errorf("get shows the secret: %s", r.Body)
	}
	list, err := s.Client.ListWebhooksWithResponse(ctx, &client.ListWebhooksParams{Limit: ptr(1)}, bearer(admin))
	if err != nil || list.JSON200 == nil || len(list.JSON200.Items) != 1 || list.JSON200.Items[0].Id != created.Id {
		t.Fatalf("list: %v %s", err, list.Body)
	}
	if strings.Contains(string(list.Body), created.Secret[6:]) {
		t.Errorf("the list shows the secret: %s", list.Body)
	}
	if strings.Contains(s.Log.String(), created.Secret[6:]) {
		t.Errorf("the log holds the secret")
	}

	up, err := s.Client.UpdateWebhookWithResponse(ctx, created.Id, client.WebhookUpdate{Events: &[]string{"user.delete"}, Description: ptr("crm")}, bearer(admin))
	if err != nil || up.JSON200 == nil || up.JSON200.Description != "crm" || len(up.JSON200.Events) != 1 || up.JSON200.Events[0] != "user.delete" {
		t.Fatalf("update: %v %s", err, up.Body)
	}
	rot, err := s.Client.RotateWebhookSecretWithResponse(ctx, created.Id, bearer(admin))
	if err != nil || rot.JSON200 == nil || rot.JSON200.Secret == created.Secret || rot.HTTPResponse.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate: %v %s", err, rot.Body)
	}
	if want := clk.Now().Add(24 * time.Hour).Truncate(time.Second); !rot.JSON200.PreviousSecretExpiresAt.Equal(want) {
		t.Errorf("previous secret until %v, want %v", rot.JSON200.PreviousSecretExpiresAt, want)
	}
	if ds := deliveries(t, s, admin, created.Id); len(ds) != 0 {
		t.Errorf("deliveries before any event: %+v", ds)
	}

	missing := uuid.New()
	for name, call := range map[string]func() (*http.Response, error){
		"get": func() (*http.Response, error) { return s.Client.GetWebhook(ctx, missing, bearer(admin)) },
		"update": func() (*http.Response, error) {
			return s.Client.UpdateWebhook(ctx, missing, client.WebhookUpdate{Disabled: ptr(true)}, bearer(admin))
		},
		"delete": func() (*http.Response, error) { return s.Client.DeleteWebhook(ctx, missing, bearer(admin)) },
		"rotate": func() (*http.Response, error) { return s.Client.RotateWebhookSecret(ctx, missing, bearer(admin)) },
		"deliveries": func() (*http.Response, error) {
			return s.Client.ListWebhookDeliveries(ctx, missing, nil, bearer(admin))
		},
		"retry": func() (*http.Response, error) {
			return s.Client.RetryWebhookDelivery(ctx, created.Id, missing, bearer(admin))
		},
	} {
		t.Run("unknown/"+name, func(t *testing.T) {
			resp, err := call()
			body := readBody(t, resp, err)
			wantProblem(t, resp, body, http.StatusNotFound)
		})
	}
	for name, call := range map[string]func() (*http.Response, error){
		"get": func() (*http.Response, error) {
			return s.Client.GetWebhook(invalid(ctx), created.Id, bearer(admin), replacePath(created.Id.String(), "crm"))
		},
		"update": func() (*http.Response, error) {
			return s.Client.UpdateWebhook(invalid(ctx), created.Id, client.WebhookUpdate{Disabled: ptr(true)}, bearer(admin), replacePath(created.Id.String(), "crm"))
		},
		"delete": func() (*http.Response, error) {
			return s.Client.DeleteWebhook(invalid(ctx), created.Id, bearer(admin), replacePath(created.Id.String(), "crm"))
		},
		"rotate": func() (*http.Response, error) {
			return s.Client.RotateWebhookSecret(invalid(ctx), created.Id, bearer(admin), replacePath(created.Id.String(), "crm"))
		},
		"deliveries": func() (*http.Response, error) {
			return s.Client.ListWebhookDeliveries(invalid(ctx), created.Id, nil, bearer(admin), replacePath(created.Id.String(), "crm"))
		},
		"retry": func() (*http.Response, error) {
			return s.Client.RetryWebhookDelivery(invalid(ctx), created.Id, missing, bearer(admin), replacePath(missing.String(), "first"))
		},
	} {
		t.Run("bad id/"+name, func(t *testing.T) {
			resp, err := call()
			body := readBody(t, resp, err)
			wantProblem(t, resp, body, http.StatusBadRequest)
		})
	}
	t.Run("bad limit", func(t *testing.T) {
		r, err := s.Client.ListWebhooksWithResponse(invalid(ctx), &client.ListWebhooksParams{Limit: ptr(0)}, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantParamError(t, wantProblem(t, r.HTTPResponse, r.Body, 400), "query", "limit")
		d, err := s.Client.ListWebhookDeliveriesWithResponse(invalid(ctx), created.Id, &client.ListWebhookDeliveriesParams{Limit: ptr(501)}, bearer(admin))
		if err != nil {
			t.Fatal(err)
		}
		wantParamError(t, wantProblem(t, d.HTTPResponse, d.Body, 400), "query", "limit")
	})

	bad := []struct {
		name, body     string
		field, unknown string
	}{
		{"no url", `{"events": ["login"]}`, "url", ""},
		{"not a URL", `{"url": "::not a url", "events": ["login"]}`, "url", ""},
		{"not http", `{"url": "ftp://hooks.example.com/x", "events": ["login"]}`, "url", ""},
		{"user information", `{"url": "https://user:pw@hooks.example.com/x", "events": ["login"]}`, "url", ""},
		{"no events", `{"url": "https://hooks.example.com/x"}`, "events", ""},
		{"an empty list", `{"url": "https://hooks.example.com/x", "events": []}`, "events", ""},
		{"an unknown event", `{"url": "https://hooks.example.com/x", "events": ["login", "user.explode"]}`, "events.1", ""},
		{"an unknown property", `{"url": "https://hooks.example.com/x", "events": ["login"], "secret": "whsec_x"}`, "", "secret"},
	}
	for _, tc := range bad {
		t.Run("create/"+tc.name, func(t *testing.T) {
			r, err := s.Client.CreateWebhookWithBodyWithResponse(invalid(ctx), jsonType, strings.NewReader(tc.body), bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantBodyError(t, wantProblem(t, r.HTTPResponse, r.Body, 400), tc.field, tc.unknown)
		})
	}
	badUpdates := []struct {
		name, body     string
		field, unknown string
	}{
		{"no field", `{}`, "", ""},
		{"not http", `{"url": "gopher://hooks.example.com/"}`, "url", ""},
		{"an empty list", `{"events": []}`, "events", ""},
		{"an unknown event", `{"events": ["lockout", "nope"]}`, "events.1", ""},
		{"disabled not a boolean", `{"disabled": "yes"}`, "disabled", ""},
	}
	for _, tc := range badUpdates {
		t.Run("update/"+tc.name, func(t *testing.T) {
			r, err := s.Client.UpdateWebhookWithBodyWithResponse(invalid(ctx), created.Id, jsonType, strings.NewReader(tc.body), bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantBodyError(t, wantProblem(t, r.HTTPResponse, r.Body, 400), tc.field, tc.unknown)
		})
	}

	del, err := s.Client.DeleteWebhookWithResponse(ctx, created.Id, bearer(admin))
	if err != nil || del.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %v %d %s", err, del.StatusCode(), del.Body)
	}
	if r, _ := s.Client.GetWebhookWithResponse(ctx, created.Id, bearer(admin)); r.StatusCode() != http.StatusNotFound {
		t.Errorf("get after delete: %d", r.StatusCode())
	}
	// Each change was audited.
	events, err := s.Client.ListAuditEventsWithResponse(ctx, &client.ListAuditEventsParams{SubjectId: ptr(created.Id.String())}, bearer(admin))
	if err != nil || events.JSON200 == nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events.JSON200.Items {
		actions = append(actions, e.Action)
	}
	slices.Sort(actions)
	if want := []string{"webhook.create", "webhook.delete", "webhook.secret_rotate", "webhook.update"}; !slices.Equal(actions, want) {
		t.Errorf("audited %v, want %v", actions, want)
	}
}

// TestWebhookAddressGuard: without --webhook-allow-private a URL whose
// host is, or resolves to, a loopback, private, link-local, metadata or
// otherwise non-public address is refused at creation; and a name that
// resolved to a public address then but to loopback at delivery time is
// not dialled.
func TestWebhookAddressGuard(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	rcv := newReceiver(t, nil)
	var mu sync.Mutex
	rebound := netip.MustParseAddr("93.184.215.14") // public, until the test rebinds it
	s := newServerOptions(t, func(o *gatehouse.Options) {
		o.Auth.Now = clk.Now
		o.Webhooks.Guard.Resolve = func(_ context.Context, host string) ([]netip.Addr, error) {
			switch host {
			case "localhost":
				return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
			case "internal.example":
				return []netip.Addr{netip.MustParseAddr("10.1.2.3")}, nil
			case "mixed.example":
				return []netip.Addr{netip.MustParseAddr("93.184.215.15"), netip.MustParseAddr("192.168.0.7")}, nil
			case "hooks.example":
				return []netip.Addr{netip.MustParseAddr("93.184.215.16")}, nil
			case "rebinding.example":
				mu.Lock()
				defer mu.Unlock()
				return []netip.Addr{rebound}, nil
			}
			return nil, &net_error{host}
		}
	})
	admin := s.adminToken(t)
	ctx := context.Background()
	refused := []string{
		"http://127.0.0.1/hook",
		"http://127.1.2.3:8080/hook",
		"http://localhost/hook",
		"http://[::1]/hook",
		"http://[::ffff:127.0.0.1]/hook",
		"http://10.0.0.1/hook",
		"http://172.16.5.4/hook",
		"http://192.168.1.1/hook",
		"http://[fd00::1]/hook",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fe80::1]/hook",
		"http://100.100.100.200/latest/meta-data/",
		"http://0.0.0.0/hook",
		"http://[::]/hook",
		"http://224.0.0.1/hook",
		"http://internal.example/hook",
		"http://mixed.example/hook",
		"http://unresolvable.example/hook",
		rcv.URL + "/hook",
	}
	for _, url := range refused {
		t.Run(url, func(t *testing.T) {
			r, err := s.Client.CreateWebhookWithResponse(ctx, client.WebhookCreate{Url: url, Events: []string{"login"}}, bearer(admin))
			if err != nil {
				t.Fatal(err)
			}
			wantFieldError(t, wantProblem(t, r.HTTPResponse, r.Body, 400), "body", "url")
		})
	}
	for _, url := range []string{"https://hooks.example/gatehouse", "https://93.184.215.14/x", "http://[2606:2800:220:1:248:1893:25c8:1946]/x"} {
		createWebhook(t, s, admin, url, "login")
	}
	// A change of URL is checked as a creation is.
	ok := createWebhook(t, s, admin, "https://hooks.example/other", "login")
	r, err := s.Client.UpdateWebhookWithResponse(ctx, ok.Id, client.WebhookUpdate{Url: ptr("http://localhost:9/")}, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	wantFieldError(t, wantProblem(t, r.HTTPResponse, r.Body, 400), "body", "url")

	// DNS rebinding: public at creation, loopback (the receiver's port) at
	// delivery. The dial refuses it; the receiver hears nothing.
	port := rcv.Listener.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	rb := createWebhook(t, s, admin, "http://rebinding.example:"+strconv.Itoa(int(port))+"/hook", "user.create")
	mu.Lock()
	rebound = netip.MustParseAddr("127.0.0.1")
	mu.Unlock()
	s.createUser(t, admin, client.UserCreate{Username: "rebind", Password: "rebind-password"})
	if n := deliverDue(t, s); n != 1 {
		t.Fatalf("attempted %d deliveries, want 1", n)
	}
	if got := rcv.messages(); len(got) != 0 {
		t.Fatalf("the receiver on loopback was reached: %d messages", len(got))
	}
	ds := deliveries(t, s, admin, rb.Id)
	if len(ds) != 1 || ds[0].State != client.DeliveryPending || ds[0].Attempts != 1 || !strings.Contains(deref(ds[0].LastError), "not public") {
		t.Errorf("deliveries: %+v (error %q)", ds, deref(ds[0].LastError))
	}
}

type net_error struct{ host string }

func (e *net_error) Error() string { return "no such host " + e.host }

// TestWebhookDelivery: each audit event reaches the endpoints subscribed
// to its action, signed, with the audit event as data and no secret; a
// failing endpoint is retried with the backoff on the test's clock, with
// the same webhook-id, then failed; a redirect is not followed; 410
// disables; rotation signs with both secrets for 24 hours; a retried
// delivery is sent again.
func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s := newServerOptions(t, withWebhooks(clk))
	admin := s.adminToken(t)
	ctx := context.Background()

	ok := newReceiver(t, nil)
	hook := createWebhook(t, s, admin, ok.URL+"/ok", "user.create", "login")
	alice := s.createUser(t, admin, client.UserCreate{Username: "alice", Password: "alice-password"})
	s.login(t, "alice", "alice-password") // a login's event rides its session's transaction
	if r, _ := s.Client.CreateTokenWithFormdataBodyWithResponse(ctx, client.CreateTokenFormdataRequestBody{
		GrantType: client.TokenRequestGrantTypePassword, Username: ptr("alice"), Password: ptr("wrong-password"),
	}); r.StatusCode() != http.StatusBadRequest {
		t.Fatalf("wrong password: %d", r.StatusCode())
	}
	// The admin's logins came before the endpoint: they are not sent.
	if n := deliverDue(t, s); n != 3 {
		t.Fatalf("attempted %d, want 3 (user.create, login, failed login)", n)
	}
	got := ok.messages()
	if len(got) != 3 {
		t.Fatalf("received %d", len(got))
	}
	byType := map[string]webhook.Payload{}
	for _, m := range got {
		if n := signedBy(t, m, hook.Secret); n != 1 {
			t.Errorf("%d signatures, want 1", n)
		}
		p := payload(t, m)
		if m.header.Get("webhook-id") != p.Data.ID || m.header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook-id %q for event %s", m.header.Get("webhook-id"), p.Data.ID)
		}
		if ts := m.header.Get("webhook-timestamp"); ts != strconv.Itoa(int(clk.Now().Unix())) {
			t.Errorf("webhook-timestamp %s, want %d", ts, clk.Now().Unix())
		}
		for _, secret := range []string{"alice-password", "wrong-password", hook.Secret[6:]} {
			if strings.Contains(string(m.body), secret) {
				t.Errorf("the payload holds a secret: %s", m.body)
			}
		}
		byType[p.Type+"/"+p.Data.Outcome] = p
	}
	if p := byType["user.create/success"]; p.Data.SubjectID != alice.Id.String() {
		t.Errorf("user.create: %+v", p)
	}
	if p := byType["login/success"]; p.Data.ActorID != alice.Id.String() {
		t.Errorf("login: %+v", p)
	}
	if _, ok := byType["login/failure"]; !ok {
		t.Errorf("no failed login among %v", byType)
	}
	if n := deliverDue(t, s); n != 0 {
		t.Errorf("a second pass attempted %d", n)
	}
	for _, d := range deliveries(t, s, admin, hook.Id) {
		if d.State != client.DeliveryDelivered || d.Attempts != 1 || deref(d.LastStatus) != 200 || d.DeliveredAt == nil || d.NextAttemptAt != nil {
			t.Errorf("delivery %+v", d)
		}
	}

	// The subtests' endpoints hear user.create alone; this one, until the
	// last subtest, only what none of them does.
	if r, _ := s.Client.UpdateWebhookWithResponse(ctx, hook.Id, client.WebhookUpdate{Events: &[]string{"user.delete"}}, bearer(admin)); r.JSON200 == nil {
		t.Fatalf("update: %s", r.Body)
	}

	t.Run("retries with backoff, then failed", func(t *testing.T) {
		failing := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
		fh := createWebhook(t, s, admin, failing.URL, "user.create")
		s.createUser(t, admin, client.UserCreate{Username: "bob", Password: "bob-password"})
		start := clk.Now()
		for attempt := 1; ; attempt++ {
			admin := s.adminToken(t) // an hour may have gone by
			if n := deliverDue(t, s); n != 1 {
				t.Fatalf("attempt %d: attempted %d", attempt, n)
			}
			ds := deliveries(t, s, admin, fh.Id)
			if len(ds) != 1 || ds[0].Attempts != attempt || deref(ds[0].LastStatus) != 503 {
				t.Fatalf("after attempt %d: %+v", attempt, ds)
			}
			if attempt == len(webhook.Backoff)+1 {
				if ds[0].State != client.DeliveryFailed || ds[0].NextAttemptAt != nil {
					t.Errorf("after the last attempt: %+v", ds[0])
				}
				break
			}
			wait := webhook.Backoff[attempt-1] // the jitter's middle
			if ds[0].State != client.DeliveryPending || !ds[0].NextAttemptAt.Equal(clk.Now().Add(wait).Truncate(time.Microsecond)) && !ds[0].NextAttemptAt.Equal(clk.Now().Add(wait)) {
				t.Fatalf("after attempt %d: next %v, want %v", attempt, ds[0].NextAttemptAt, clk.Now().Add(wait))
			}
			clk.Advance(wait - time.Millisecond)
			if n := deliverDue(t, s); n != 0 {
				t.Fatalf("attempted %d before the backoff ended", n)
			}
			clk.Advance(time.Millisecond)
		}
		if took := clk.Now().Sub(start); took < 24*time.Hour || took > 30*time.Hour {
			t.Errorf("failed after %v, want about a day", took)
		}
		msgs := failing.messages()
		if len(msgs) != len(webhook.Backoff)+1 {
			t.Fatalf("received %d attempts", len(msgs))
		}
		for _, m := range msgs {
			if m.header.Get("webhook-id") != msgs[0].header.Get("webhook-id") {
				t.Errorf("webhook-id changed across retries: %q, %q", msgs[0].header.Get("webhook-id"), m.header.Get("webhook-id"))
			}
			signedBy(t, m, fh.Secret)
		}
		// A failed delivery retried through the API is sent again, with
		// its id, and now delivered.
		failing.answer = nil
		admin := s.adminToken(t)
		id := uuidOf(t, msgs[0].header.Get("webhook-id"))
		r, err := s.Client.RetryWebhookDeliveryWithResponse(ctx, fh.Id, id, bearer(admin))
		if err != nil || r.JSON202 == nil || r.JSON202.State != client.DeliveryPending {
			t.Fatalf("retry: %v %s", err, r.Body)
		}
		if n := deliverDue(t, s); n != 1 {
			t.Fatalf("attempted %d after the retry", n)
		}
		if ds := deliveries(t, s, admin, fh.Id); ds[0].State != client.DeliveryDelivered {
			t.Errorf("after the retry: %+v", ds[0])
		}
		s.Client.DeleteWebhook(ctx, fh.Id, bearer(admin))
	})

	t.Run("a redirect is not followed", func(t *testing.T) {
		admin := s.adminToken(t)
		redirecting := newReceiver(t, func(int) int { return http.StatusFound })
		rh := createWebhook(t, s, admin, redirecting.URL+"/moved", "user.create")
		s.createUser(t, admin, client.UserCreate{Username: "carol", Password: "carol-password"})
		deliverDue(t, s)
		if got := redirecting.messages(); len(got) != 1 {
			t.Fatalf("the redirect was followed: %d requests", len(got))
		}
		if ds := deliveries(t, s, admin, rh.Id); ds[0].State != client.DeliveryPending || deref(ds[0].LastStatus) != http.StatusFound {
			t.Errorf("after a redirect: %+v", ds[0])
		}
		if m, _ := s.Client.GetMetricsWithResponse(ctx); m == nil || !strings.Contains(string(m.Body), "gatehouse_webhook_deliveries_pending 1\n") {
			t.Errorf("the pending gauge does not count the redirected delivery")
		}
		s.Client.DeleteWebhook(ctx, rh.Id, bearer(admin))
	})

	t.Run("410 disables the endpoint", func(t *testing.T) {
		admin := s.adminToken(t)
		gone := newReceiver(t, func(int) int { return http.StatusGone })
		gh := createWebhook(t, s, admin, gone.URL, "user.create")
		s.createUser(t, admin, client.UserCreate{Username: "dave", Password: "dave-password"})
		deliverDue(t, s)
		g, _ := s.Client.GetWebhookWithResponse(ctx, gh.Id, bearer(admin))
		if g.JSON200 == nil || !g.JSON200.Disabled {
			t.Fatalf("after 410: %s", g.Body)
		}
		if ds := deliveries(t, s, admin, gh.Id); len(ds) != 1 || ds[0].State != client.DeliveryFailed {
			t.Errorf("after 410: %+v", ds)
		}
		audit, _ := s.Client.ListAuditEventsWithResponse(ctx, &client.ListAuditEventsParams{SubjectId: ptr(gh.Id.String()), Action: ptr("webhook.disable")}, bearer(admin))
		if audit.JSON200 == nil || len(audit.JSON200.Items) != 1 {
			t.Errorf("no webhook.disable audited: %s", audit.Body)
		}
		// A disabled endpoint is sent nothing new.
		s.createUser(t, admin, client.UserCreate{Username: "erin", Password: "erin-password"})
		deliverDue(t, s)
		if len(gone.messages()) != 1 || len(deliveries(t, s, admin, gh.Id)) != 1 {
			t.Errorf("a disabled endpoint got more")
		}
	})

	t.Run("metrics", func(t *testing.T) {
		// So far: 3 delivered at first, 7 retries and a failure then a
		// delivery (the retried one), a redirect to retry, a 410 failed;
		// nothing pending (the redirected delivery went with its endpoint).
		r, err := s.Client.GetMetricsWithResponse(ctx)
		if err != nil || r.StatusCode() != 200 {
			t.Fatalf("metrics: %v %d", err, r.StatusCode())
		}
		for _, want := range []string{
			`gatehouse_webhook_attempts_total{outcome="delivered"} 4`,
			`gatehouse_webhook_attempts_total{outcome="retry"} 8`,
			`gatehouse_webhook_attempts_total{outcome="failed"} 2`,
			`gatehouse_webhook_deliveries_pending 0`,
			`gatehouse_webhook_delivery_latency_seconds_count 4`,
		} {
			if !strings.Contains(string(r.Body), want) {
				t.Errorf("metrics lack %s:\n%s", want, grepLines(string(r.Body), "gatehouse_webhook"))
			}
		}
	})

	t.Run("rotation signs with both secrets for a day", func(t *testing.T) {
		admin := s.adminToken(t) // the retries' day went by
		if r, _ := s.Client.UpdateWebhookWithResponse(ctx, hook.Id, client.WebhookUpdate{Events: &[]string{"user.create"}}, bearer(admin)); r.JSON200 == nil {
			t.Fatalf("update: %s", r.Body)
		}
		before := len(ok.messages())
		rot, err := s.Client.RotateWebhookSecretWithResponse(ctx, hook.Id, bearer(admin))
		if err != nil || rot.JSON200 == nil {
			t.Fatal(err)
		}
		s.createUser(t, admin, client.UserCreate{Username: "frank", Password: "frank-password"})
		deliverDue(t, s)
		msgs := ok.messages()
		if len(msgs) != before+1 || signedBy(t, msgs[before], hook.Secret, rot.JSON200.Secret) != 2 {
			t.Fatalf("during the overlap: %d messages", len(msgs)-before)
		}
		clk.Advance(24*time.Hour + time.Second)
		admin = s.adminToken(t)
		s.createUser(t, admin, client.UserCreate{Username: "grace", Password: "grace-password"})
		deliverDue(t, s)
		msgs = ok.messages()
		if len(msgs) != before+2 || signedBy(t, msgs[before+1], rot.JSON200.Secret) != 1 {
			t.Errorf("after the overlap: %d messages", len(msgs)-before)
		}
	})
}

// TestMultiNodeWebhooks: two nodes on one PostgreSQL database run their
// workers at once over the same due deliveries; each event is sent once
// (one attempt, by one node or the other), none twice. It needs
// GATEHOUSE_TEST_POSTGRES; make test skips it, with the other
// TestMultiNode tests, in the SQLite run of the contract suite.
func TestMultiNodeWebhooks(t *testing.T) {
	t.Parallel()
	dsn := storetest.NewPostgresDatabase(t, storetest.PostgresServer(t))
	clk := newFakeClock()
	node := func() *server {
		return newServerOptions(t, func(o *gatehouse.Options) {
			withWebhooks(clk)(o)
			o.DB = dsn
			o.Webhooks.Batch = 8 // several claims each, interleaved
		})
	}
	a, b := node(), node()
	admin := a.adminToken(t)
	var (
		mu     sync.Mutex
		counts = map[string]int{}
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		counts[r.Header.Get("webhook-id")]++
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	createWebhook(t, a, admin, rcv.URL, "user.create")
	const users = 60
	for i := range users {
		s := a
		if i%2 == 1 {
			s = b
		}
		s.createUser(t, admin, client.UserCreate{Username: "user-" + strconv.Itoa(i), Password: "user-password"})
	}
	attempted := [2]int{}
	var wg sync.WaitGroup
	for i, s := range []*server{a, b} {
		wg.Go(func() {
			for {
				n, err := s.Webhooks.DeliverDue(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
				attempted[i] += n
			}
		})
	}
	wg.Wait()
	if attempted[0]+attempted[1] != users {
		t.Errorf("attempts: A %d, B %d, want %d in all", attempted[0], attempted[1], users)
	}
	if len(counts) != users {
		t.Errorf("%d distinct events received, want %d", len(counts), users)
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("event %s received %d times", id, n)
		}
	}
	t.Logf("%d events: node A sent %d, node B %d, each once", users, attempted[0], attempted[1])
}
