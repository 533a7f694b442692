package impl

import (
	"math"
	"net"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// rateLimitedClients bounds the memory of the per-IP limiter: past this
// many addresses the least recently seen one is forgotten (and starts
// afresh if it comes back).
const rateLimitedClients = 1 << 16

// ipRateLimiter gives each client IP a token bucket.
type ipRateLimiter struct {
	limit   rate.Limit
	burst   int
	buckets *lru.Cache[string, *rate.Limiter]
	// routes are the "METHOD path" pairs limited: the operations whose
	// contract documents a 429.
	routes map[string]bool
}

func newIPRateLimiter(perSecond float64, burst int, spec *openapi3.T) *ipRateLimiter {
	buckets, _ := lru.New[string, *rate.Limiter](rateLimitedClients)
	l := &ipRateLimiter{limit: rate.Limit(perSecond), burst: max(burst, 1), buckets: buckets, routes: map[string]bool{}}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Status(http.StatusTooManyRequests) != nil {
				l.routes[method+" "+path] = true
			}
		}
	}
	return l
}

// allow takes a token from ip's bucket, or says how long until one is there.
func (l *ipRateLimiter) allow(ip string, now time.Time) (bool, time.Duration) {
	b, ok := l.buckets.Get(ip)
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		if prev, found, _ := l.buckets.PeekOrAdd(ip, b); found {
			b = prev
		}
	}
	r := b.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// middleware answers 429, with Retry-After, in the route's own dialect.
func (l *ipRateLimiter) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !l.routes[r.Method+" "+r.URL.Path] {
			return next(c)
		}
		if ok, wait := l.allow(c.RealIP(), time.Now()); !ok {
			return &Error{Kind: KindTooManyRequests, Detail: "too many requests from this address",
				RetryAfter: int(math.Ceil(wait.Seconds()))}
		}
		return next(c)
	}
}

// ipExtractor reads the client's address from the socket, or, when the
// peer is one of the trusted proxies, from X-Forwarded-For.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
