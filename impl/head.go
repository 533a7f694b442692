package impl

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// HEAD is served wherever GET is (RFC 9110 §9.3.2): the same status and
// header fields, without the body. The contract declares a HEAD operation
// only where clients are known to send one (the discovery documents, the
// JWKS, health and the contract itself). On every other GET path a HEAD
// request goes down the chain as its GET, so request validation,
// authentication and scopes apply to it as to the GET, and net/http drops
// the body it writes, since the request it serves is still a HEAD. The
// contract lists no operation for those: conformance.Doer, the contract
// tests' validating client, checks such a HEAD as the GET it stands for.

// impliedHeads are the echo paths that the contract gives a GET and no
// HEAD.
func impliedHeads(spec *openapi3.T) map[string]bool {
	out := map[string]bool{}
	for path, item := range spec.Paths.Map() {
		if item.Get != nil && item.Head == nil {
			out[echoPath(path)] = true
		}
	}
	return out
}

// echoPath is the contract's path template in echo's spelling: {id} is :id.
func echoPath(path string) string { return pathParamRE.ReplaceAllString(path, ":$1") }

// headRouter is the router the generated handlers are registered on: the
// GET route of each implied path is its HEAD route too.
type headRouter struct {
	*echo.Echo
	implied map[string]bool
}

func (r headRouter) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	if r.implied[path] {
		r.Echo.HEAD(path, h, m...)
	}
	return r.Echo.GET(path, h, m...)
}

// headAsGet passes a HEAD request of an implied path down the chain as its
// GET.
func headAsGet(implied map[string]bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Method == http.MethodHead && implied[c.Path()] {
				get := r.WithContext(r.Context())
				get.Method = http.MethodGet
				c.SetRequest(get)
			}
			return next(c)
		}
	}
}
