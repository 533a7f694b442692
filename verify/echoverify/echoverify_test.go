package echoverify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/internal/testclock"
	"github.com/gatehouse-auth/gatehouse/verify"
	"github.com/gatehouse-auth/gatehouse/verify/echoverify"
	"github.com/gatehouse-auth/gatehouse/verify/internal/testissuer"
)

const audience = "api://orders"

// The echo middleware answers every case as the net/http one does, and
// the handler finds the claims both through echoverify.ClaimsFrom and in
// the request context, where strict handlers look.
func TestRequire(t *testing.T) {
	t.Parallel()
	es := testissuer.NewKey(t, "ES256", "es-1")
	iss := testissuer.New(t, es)
	clock := testclock.New()
	v, err := verify.New(context.Background(), iss.URL, verify.Options{Audience: audience, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	e := echo.New()
	handler := func(c echo.Context) error {
		claims, ok := echoverify.ClaimsFrom(c)
		inCtx, ok2 := verify.ClaimsFrom(c.Request().Context())
		if !ok || !ok2 || claims != inCtx {
			return c.String(http.StatusInternalServerError, "no claims")
		}
		return c.String(http.StatusOK, fmt.Sprintf("%s %s", claims.Subject, claims.Scope))
	}
	e.GET("/read", handler, echoverify.Require(v, "read"))
	e.GET("/admin", handler, echoverify.Require(v, "read", "admin"))
	srv := httptest.NewServer(e)
	defer srv.Close()

	sign := func(change func(jwt.MapClaims)) string {
		c := iss.Claims(audience, clock.Now())
		change(c)
		return es.Sign(t, c)
	}
	testissuer.CheckMiddleware(t, srv.URL, testissuer.MiddlewareCases(
		sign(func(jwt.MapClaims) {}),
		sign(func(c jwt.MapClaims) { c["exp"] = clock.Now().Add(-time.Hour).Unix() }),
		sign(func(c jwt.MapClaims) { c["aud"] = "api://other" }),
	))
}

// RequireActive introspects: an inactive token is 401 invalid_token.
func TestRequireActive(t *testing.T) {
	t.Parallel()
	es := testissuer.NewKey(t, "ES256", "es-1")
	iss := testissuer.New(t, es)
	iss.HandleIntrospection(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"active":%v}`, r.PostFormValue("token") != "" && r.Header.Get("X-API-Key") == "k")
	})
	v, err := verify.New(context.Background(), iss.URL, verify.Options{Audience: audience, Introspection: &verify.Credentials{APIKey: "k"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	e := echo.New()
	e.GET("/read", func(c echo.Context) error { return c.String(http.StatusOK, "user-1 read write") }, echoverify.RequireActive(v, "read"))
	srv := httptest.NewServer(e)
	defer srv.Close()
	tok := es.Sign(t, iss.Claims(audience, time.Now()))
	testissuer.CheckMiddleware(t, srv.URL, []testissuer.MiddlewareCase{
		{Name: "active", Path: "/read", Authorization: []string{"Bearer " + tok}, Status: http.StatusOK},
	})
	iss.HandleIntrospection(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"active":false}`) })
	testissuer.CheckMiddleware(t, srv.URL, []testissuer.MiddlewareCase{
		{Name: "inactive", Path: "/read", Authorization: []string{"Bearer " + tok}, Status: http.StatusUnauthorized, Challenge: `Bearer error="invalid_token"`},
	})
}
