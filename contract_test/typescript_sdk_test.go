package contract_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sdkDir is the TypeScript SDK: package.json and its lock, the generated
// src/schema.ts, the hand-written src/index.ts and the compiled dist/.
var sdkDir = filepath.Join("..", "sdk", "typescript")

// TestTypeScriptSDKFresh fails when the committed SDK is stale: src/schema.ts
// must be what openapi-typescript makes of openapi.yaml now, and dist/ what
// `tsc --strict` makes of src/ (as gen_test.go checks gen/). The SDK's
// behaviour against a live server is interop/js/sdk.test.mjs, run by
// TestJavaScriptClients.
func TestTypeScriptSDKFresh(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(sdkDir, "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(bin, "tsc")); err != nil {
		t.Fatalf("the SDK's tools are not installed (%v): run `npm ci --prefix sdk/typescript` (make js-deps)", err)
	}
	tmp := t.TempDir()
	// A relative Path runs from Dir.
	gen := exec.Command(filepath.Join("node_modules", ".bin", "openapi-typescript"), filepath.Join("..", "..", "openapi.yaml"), "--output", filepath.Join(tmp, "schema.ts"))
	gen.Dir = sdkDir
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("openapi-typescript: %v\n%s", err, out)
	}
	same(t, filepath.Join(sdkDir, "src", "schema.ts"), filepath.Join(tmp, "schema.ts"), "cd sdk/typescript && npm run generate")

	out := filepath.Join(tmp, "dist")
	tsc := exec.Command(filepath.Join("node_modules", ".bin", "tsc"), "-p", "tsconfig.json", "--strict", "--outDir", out)
	tsc.Dir = sdkDir
	if b, err := tsc.CombinedOutput(); err != nil {
		t.Fatalf("tsc --strict: %v\n%s", err, b)
	}
	files, err := filepath.Glob(filepath.Join(out, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("tsc wrote nothing: %v", err)
	}
	committed, _ := filepath.Glob(filepath.Join(sdkDir, "dist", "*"))
	if len(committed) != len(files) {
		t.Errorf("dist/ holds %d files, tsc makes %d: run `cd sdk/typescript && npm run build`", len(committed), len(files))
	}
	for _, f := range files {
		same(t, filepath.Join(sdkDir, "dist", filepath.Base(f)), f, "cd sdk/typescript && npm run build")
	}
}

// same fails unless the committed file equals the fresh one.
func same(t *testing.T, committed, fresh, fix string) {
	t.Helper()
	want, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(committed)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s is stale (%v): run `%s` and commit it", committed, err, fix)
	}
}
