package impl

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// shedder bounds the requests in progress that may wait on the database
// (--max-in-flight): beyond the bound a request is answered 503 at once
// rather than queued behind a database that may be stalled, so a node
// under a stall holds a bounded number of requests and goroutines, and a
// client learns at once to retry (Retry-After) or go to another node.
type shedder struct {
	// slots holds a token per request in progress; nil is no bound.
	slots chan struct{}
}

func newShedder(maxInFlight int) *shedder {
	if maxInFlight <= 0 {
		return &shedder{}
	}
	return &shedder{slots: make(chan struct{}, maxInFlight)}
}

// waitsOnDatabase reports whether a request to path may wait on the
// database. The health checks, discovery documents, JWKS, metrics,
// contract and console assets are answered from memory (/readyz bounds its
// own check), so a stall never sheds them.
func waitsOnDatabase(path string) bool {
	switch {
	case path == "/healthz", path == "/readyz", path == "/metrics", path == "/openapi.yaml",
		strings.HasPrefix(path, "/.well-known/"), strings.HasPrefix(path, "/console/"):
		return false
	}
	return true
}

func (s *shedder) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	if s.slots == nil {
		return next
	}
	return func(c echo.Context) error {
		if !waitsOnDatabase(c.Request().URL.Path) {
			return next(c)
		}
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
			return next(c)
		default:
			return &Error{Kind: KindDatabaseUnavailable, Detail: "too many requests are waiting on the database, retry shortly", RetryAfter: 1}
		}
	}
}
