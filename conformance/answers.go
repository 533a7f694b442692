package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// WantProblem fails unless hr is an RFC 9457 problem of the status: its
// media type, type about:blank, the status's title, a detail, and the
// request's path as its instance. It returns the problem.
func WantProblem(hr *http.Response, body []byte, status int) (client.Problem, error) {
	var p client.Problem
	where := hr.Request.Method + " " + hr.Request.URL.Path
	if hr.StatusCode != status {
		return p, fmt.Errorf("%s: status %d, want %d: %.300s", where, hr.StatusCode, status, body)
	}
	if ct := hr.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		return p, fmt.Errorf("%s: Content-Type %q, want application/problem+json", where, ct)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("%s: problem body: %v: %.300s", where, err, body)
	}
	if p.Status != status || p.Type != "about:blank" || p.Title != http.StatusText(status) || p.Detail == nil || *p.Detail == "" {
		return p, fmt.Errorf("%s: problem %.300s, want status %d, type about:blank, title %q and a detail", where, body, status, http.StatusText(status))
	}
	if p.Instance == nil || *p.Instance != hr.Request.URL.Path {
		return p, fmt.Errorf("%s: problem instance %v, want %q", where, p.Instance, hr.Request.URL.Path)
	}
	return p, nil
}

// WantOAuthError fails unless an answer of the status, with the body, is
// the RFC 6749 §5.2 error got of wantStatus and wantCode.
func WantOAuthError(status int, body []byte, got *client.OAuthError, wantStatus int, wantCode client.OAuthErrorError) error {
	if status != wantStatus || got == nil || got.Error != wantCode {
		return fmt.Errorf("got %d %.300s, want %d %s", status, body, wantStatus, wantCode)
	}
	return nil
}
