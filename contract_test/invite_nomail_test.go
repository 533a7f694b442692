package contract_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/store"
)

// TestInvitationWithoutMail: a server without --smtp-url cannot mail an
// invitation, so it says so (503 problem+json naming the flag, no
// Retry-After) instead of answering that one is on its way; POST /v1/users
// creates no user, and both refusals are audited as user.invite failure.
func TestInvitationWithoutMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newServer(t, withMail(nil, t))
	admin := s.adminToken(t)
	refused := func(resp *http.Response, body []byte) {
		t.Helper()
		p := wantProblem(t, resp, body, http.StatusServiceUnavailable)
		if p.Detail == nil || !strings.Contains(*p.Detail, "--smtp-url") {
			t.Errorf("detail does not name --smtp-url: %s", body)
		}
		if h := resp.Header.Get("Retry-After"); h != "" {
			t.Errorf("Retry-After %q: no wait mends it", h)
		}
	}

	r, err := s.Client.CreateUserWithResponse(ctx, client.UserCreate{Username: "ivy", Email: ptr(client.Email("ivy@example.com")), Invite: ptr(true)}, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	refused(r.HTTPResponse, r.Body)
	if _, err := s.Store.GetUserByLogin(ctx, "ivy"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused invitation created the user: %v", err)
	}

	u := s.createUser(t, admin, client.UserCreate{Username: "jay", Password: "jay-password", Email: ptr(client.Email("jay@example.com"))})
	ir, err := s.Client.InviteUserWithResponse(ctx, u.Id, bearer(admin))
	if err != nil {
		t.Fatal(err)
	}
	refused(ir.HTTPResponse, ir.Body)

	s.settle()
	events, _, err := s.Store.ListAuditEvents(ctx, store.AuditFilter{Action: "user.invite"}, store.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]bool{}
	for _, e := range events {
		if e.Outcome != "failure" || e.ActorID != s.adminID(t, admin).String() {
			t.Errorf("audited %+v", e)
		}
		subjects[e.SubjectID] = true
	}
	if len(events) != 2 || !subjects[""] || !subjects[u.Id.String()] {
		t.Errorf("user.invite events %+v, want a failure for the new user and one for %s", events, u.Id)
	}
	if n := auditCount(t, s, "mail.send", "failure", "invite"); n != 0 {
		t.Errorf("%d invitation mails attempted", n)
	}
}
