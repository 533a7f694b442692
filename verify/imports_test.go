package verify

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImportsNothingOfTheServer: verify, echoverify, and what they import
// of gatehouse (its generated client and internal/jose), import nothing
// else of gatehouse, so that a resource server does not build the server.
func TestImportsNothingOfTheServer(t *testing.T) {
	t.Parallel()
	const module = "github.com/gatehouse-auth/gatehouse"
	allowed := []string{module + "/gen/client", module + "/internal/jose", module + "/verify", module + "/verify/echoverify"}
	seen := map[string]bool{}
	var walk func(path, from string)
	walk = func(path, from string) {
		if seen[path] {
			return
		}
		seen[path] = true
		if !slices.Contains(allowed, path) {
			t.Errorf("%s imports %s", from, path)
			return
		}
		dir := filepath.Join("..", filepath.FromSlash(strings.TrimPrefix(path, module+"/")))
		p, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				walk(imp, path)
			}
		}
	}
	walk(module+"/verify", "the test")
	walk(module+"/verify/echoverify", "the test")
	if !seen[module+"/internal/jose"] {
		t.Error("verify no longer imports internal/jose: the walk checked less than it should")
	}
}
