package storetest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/store"
)

// testWebhookOutbox: an audit event, whichever way it is written, enqueues
// a delivery to each enabled endpoint subscribed to its action and to no
// other, in its own transaction (an event that is not stored enqueues
// nothing); a claim takes a due delivery for one attempt under a lease,
// its outcome is recorded unless another claim came since, 410 disables
// the endpoint; deliveries are purged when they expire.
func testWebhookOutbox(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	s := open(t)
	seed(t, s)
	mustCreateUser(t, s, newUser("u-1", "one", at(0)))
	hook := func(id string, disabled bool, events ...string) {
		w := store.Webhook{ID: id, URL: "https://hooks.example/" + id, Events: events, Disabled: disabled,
			Secret: []byte("sealed"), CreatedAt: at(0), UpdatedAt: at(0)}
		wantErr(t, "CreateWebhook "+id, s.CreateWebhook(ctx, w), nil)
	}
	hook("w-login", false, "login", "user.create")
	hook("w-other", false, "user.delete")
	hook("w-off", true, "login")
	count := func(id string) int {
		t.Helper()
		ds, _, err := s.ListWebhookDeliveries(ctx, id, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}

	login := store.AuditEvent{ID: "ev-1", Time: at(1), Action: "login", Outcome: "success", ActorID: "u-1"}
	wantErr(t, "AppendAuditEvent", s.AppendAuditEvent(ctx, login), nil)
	// The same id again is refused, and enqueues nothing either.
	wantErr(t, "AppendAuditEvent again", s.AppendAuditEvent(ctx, login), store.ErrConflict)
	tok := store.RefreshToken{Hash: "h1", FamilyID: "fam1", UserID: "u-1", AppID: "app-default", Scope: "profile",
		CreatedAt: at(2), ExpiresAt: at(3600), FamilyKey: []byte("k")}
	wantErr(t, "CreateRefreshToken with its event", s.CreateRefreshToken(ctx, tok,
		store.AuditEvent{ID: "ev-2", Time: at(2), Action: "login", Outcome: "success", ActorID: "u-1"}), nil)
	// A login whose session is refused stores neither its event nor its delivery.
	wantErr(t, "CreateRefreshToken of a taken hash", s.CreateRefreshToken(ctx, store.RefreshToken{Hash: "h1", FamilyID: "fam2", UserID: "u-1",
		AppID: tok.AppID, CreatedAt: at(2), ExpiresAt: at(3600), FamilyKey: []byte("k")},
		store.AuditEvent{ID: "ev-3", Time: at(2), Action: "login", Outcome: "success"}), store.ErrConflict)
	wantErr(t, "AppendAuditEvent lockout", s.AppendAuditEvent(ctx, store.AuditEvent{ID: "ev-4", Time: at(3), Action: "lockout", Outcome: "success"}), nil)
	if got := [3]int{count("w-login"), count("w-other"), count("w-off")}; got != [3]int{2, 0, 0} {
		t.Fatalf("deliveries of w-login, w-other, w-off: %v, want [2 0 0]", got)
	}

	// A claim at at(1) takes the event due then; at(5) the other.
	due, err := s.ClaimWebhookDeliveries(ctx, at(1), at(21), 10)
	if err != nil || len(due) != 1 || due[0].EventID != "ev-1" || due[0].Attempts != 1 || due[0].Event.ActorID != "u-1" || due[0].Webhook.URL != "https://hooks.example/w-login" {
		t.Fatalf("claim at 1: %+v %v", due, err)
	}
	if again, err := s.ClaimWebhookDeliveries(ctx, at(5), at(25), 10); err != nil || len(again) != 1 || again[0].EventID != "ev-2" {
		t.Fatalf("claim at 5 (ev-1 leased): %+v %v", again, err)
	}
	gone := store.DeliveryOutcome{WebhookID: "w-login", EventID: "ev-2", Attempt: 1, State: store.DeliveryFailed, Status: 410, At: at(6), Gone: true}
	if ok, err := s.FinishWebhookDelivery(ctx, gone); !ok || err != nil {
		t.Fatalf("finish 410: %v %v", ok, err)
	}
	if w, err := s.GetWebhook(ctx, "w-login"); err != nil || !w.Disabled {
		t.Errorf("after 410: %+v %v", w, err)
	}
	// The lease runs out (the claimer died): claimed again, attempt 2;
	// the first claimer's outcome then no longer counts.
	re, err := s.ClaimWebhookDeliveries(ctx, at(21), at(41), 1)
	if err != nil || len(re) != 1 || re[0].EventID != "ev-1" || re[0].Attempts != 2 {
		t.Fatalf("claim after the lease: %+v %v", re, err)
	}
	stale := store.DeliveryOutcome{WebhookID: "w-login", EventID: "ev-1", Attempt: 1, State: store.DeliveryDelivered, Status: 200, At: at(22)}
	if ok, err := s.FinishWebhookDelivery(ctx, stale); ok || err != nil {
		t.Errorf("a stale attempt's outcome recorded: %v %v", ok, err)
	}
	next := at(100)
	retry := store.DeliveryOutcome{WebhookID: "w-login", EventID: "ev-1", Attempt: 2, State: store.DeliveryPending, NextAttemptAt: &next, Status: 500, Error: "status 500", At: at(22)}
	if ok, err := s.FinishWebhookDelivery(ctx, retry); !ok || err != nil {
		t.Fatalf("finish attempt 2: %v %v", ok, err)
	}
	if due, _ := s.ClaimWebhookDeliveries(ctx, at(99), at(119), 10); len(due) != 0 {
		t.Errorf("claimed before the backoff ended: %+v", due)
	}
	if n, err := s.CountPendingWebhookDeliveries(ctx); err != nil || n != 1 {
		t.Errorf("pending: %d %v", n, err)
	}
	wantErr(t, "AppendAuditEvent to a disabled endpoint", s.AppendAuditEvent(ctx, store.AuditEvent{ID: "ev-5", Time: at(30), Action: "login", Outcome: "failure"}), nil)
	if n := count("w-login"); n != 2 {
		t.Errorf("a disabled endpoint got a delivery: %d", n)
	}
	d, err := s.RetryWebhookDelivery(ctx, "w-login", "ev-2", at(40))
	if err != nil || d.State != store.DeliveryPending || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(at(40)) || d.Attempts != 1 || d.LastStatus != 410 {
		t.Errorf("retry: %+v %v", d, err)
	}
	_, err = s.RetryWebhookDelivery(ctx, "w-login", "ev-404", at(40))
	wantErr(t, "retry an unknown delivery", err, store.ErrNotFound)

	// Purged when they expire, DeliveryRetention after their event.
	wantErr(t, "PurgeExpired before", s.PurgeExpired(ctx, at(1).Add(store.DeliveryRetention), nil), nil)
	if n := count("w-login"); n != 2 {
		t.Errorf("purged before expiry: %d left", n)
	}
	wantErr(t, "PurgeExpired after", s.PurgeExpired(ctx, at(3).Add(store.DeliveryRetention), nil), nil)
	if n := count("w-login"); n != 0 {
		t.Errorf("after expiry %d deliveries left", n)
	}
	wantErr(t, "DeleteWebhook", s.DeleteWebhook(ctx, "w-login"), nil)
	_, err = s.GetWebhook(ctx, "w-login")
	wantErr(t, "GetWebhook after delete", err, store.ErrNotFound)
}
