// Package console holds the admin console's build (dist/, committed, made
// by `npm run build --prefix console` from src/), embedded so that `go
// build` needs no Node.js. impl serves it at /console/.
package console

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist is the build: index.html and the assets it names, at its root.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path
	}
	return sub
}
