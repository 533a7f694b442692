// Package gatehouse holds the OpenAPI contract; `go generate ./...` rewrites
// gen/ from it.
package gatehouse

import _ "embed"

//go:generate go tool oapi-codegen -config gen/api/server.cfg.yaml openapi.yaml
//go:generate go tool oapi-codegen -config gen/client/client.cfg.yaml openapi.yaml

// OpenAPI is the contract, served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
