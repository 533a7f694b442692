package gatehouse_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates gen/ from openapi.yaml into a
// temporary directory and fails unless the result is byte-identical to what
// is committed. It runs oapi-codegen exactly as generate.go does, through
// the tool declared in go.mod, so the version is the pinned one.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	output := regexp.MustCompile(`(?m)^output:\s*(\S+)\s*$`)
	for _, cfg := range []string{"gen/api/server.cfg.yaml", "gen/client/client.cfg.yaml"} {
		t.Run(filepath.Base(filepath.Dir(cfg)), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := output.FindSubmatch(src)
			if m == nil {
				t.Fatalf("%s has no output: line", cfg)
			}
			committed := string(m[1])
			want, err := os.ReadFile(committed)
			if err != nil {
				t.Fatalf("gen/ is stale: run go generate ./... and commit gen/ (%v)", err)
			}
			// oapi-codegen's -o does not override a config's output: (the
			// config wins), so the check runs a copy of the config whose
			// output: names a temporary file; gen/ is never written.
			tmp := t.TempDir()
			out := filepath.Join(tmp, "x.go")
			tmpCfg := filepath.Join(tmp, filepath.Base(cfg))
			rewritten := output.ReplaceAll(src, []byte("output: "+out))
			if err := os.WriteFile(tmpCfg, rewritten, 0o644); err != nil {
				t.Fatal(err)
			}
			// go test puts its own GOROOT/bin first on the PATH, so "go"
			// is the toolchain running the tests.
			cmd := exec.Command("go", "tool", "oapi-codegen", "-config", tmpCfg, "openapi.yaml")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, b)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("gen/ is stale: run go generate ./... and commit gen/ (%s differs from what %s generates from openapi.yaml; first difference at line %d)",
					committed, cfg, firstDiffLine(got, want))
			}
		})
	}
}

// firstDiffLine is the 1-based line where a and b first differ.
func firstDiffLine(a, b []byte) int {
	line := 1
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return line
		}
		if a[i] == '\n' {
			line++
		}
	}
	return line
}
