package echoverify_test

import (
	"context"
	"log"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/verify"
	"github.com/gatehouse-auth/gatehouse/verify/echoverify"
)

func Example() {
	v, err := verify.New(context.Background(), "https://auth.example.com", verify.Options{Audience: "api://orders"})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	e := echo.New()
	e.GET("/orders", func(c echo.Context) error {
		claims, _ := echoverify.ClaimsFrom(c)
		return c.String(http.StatusOK, "orders of "+claims.Subject)
	}, echoverify.Require(v, "orders:read"))
	log.Fatal(e.Start(":8080"))
}
