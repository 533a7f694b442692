package contract_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/gen/client"
)

// jsDir holds the JavaScript client tests, their package.json and the
// package-lock.json that pins the clients.
var jsDir = filepath.Join("..", "interop", "js")

// TestJavaScriptClients runs real npm clients (openid-client,
// oauth4webapi, jose, openapi-typescript, openapi-fetch, and
// standardwebhooks in a webhook receiver) under node --test
// against gatehouse serve started as a user starts it, with the default
// issuer. It creates what they need (a user, a second application with its
// own audience, a confidential application with a secret) and hands it over
// in INTEROP_* variables.
func TestJavaScriptClients(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "openid-client")); err != nil {
		t.Fatalf("the JavaScript clients are not installed (%v): run `npm ci --prefix interop/js`", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on the PATH (%v): the JavaScript client tests need Node.js 20 or later", err)
	}
	files, err := filepath.Glob(filepath.Join(jsDir, "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.test.mjs in %s (%v)", jsDir, err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}

	// webhooks.test.mjs's receiver listens on loopback.
	p := startGatehouse(t, "--webhook-allow-private")
	ctx := context.Background()
	admin := p.adminToken(t)
	const username, password, otherAudience = "js-client", "js-client-password", "https://other-api.example"
	user := p.createUser(t, admin, client.UserCreate{Username: username, Password: password})
	apps, err := p.Client.ListApplicationsWithResponse(ctx, nil, bearer(admin))
	if err != nil || apps.JSON200 == nil {
		t.Fatalf("list applications: %v", err)
	}
	var def client.Application
	for _, a := range apps.JSON200.Items {
		if a.IsDefault {
			def = a
		}
	}
	other, err := p.Client.CreateApplicationWithResponse(ctx, client.CreateApplicationJSONRequestBody{Name: "other-api", Audience: ptr(otherAudience)}, bearer(admin))
	if err != nil || other.JSON201 == nil {
		t.Fatalf("create application: %v %s", err, other.Body)
	}
	if r, err := p.Client.AddApplicationMemberWithResponse(ctx, other.JSON201.Id, user.Id, bearer(admin)); err != nil || r.StatusCode() != 204 {
		t.Fatalf("add member: %v %d %s", err, r.StatusCode(), r.Body)
	}

	// A confidential application for the client_credentials tests, which
	// may introspect.
	cc := p.newConfidentialApp(t, admin, "js-confidential", "orders:read", "tokens:introspect")

	cmd := exec.Command(node, append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, files...)...)
	cmd.Dir = jsDir
	cmd.Env = append(os.Environ(),
		"NO_COLOR=1",
		"INTEROP_URL="+p.URL,
		"INTEROP_ADMIN_USERNAME=admin", "INTEROP_ADMIN_PASSWORD="+adminPassword,
		"INTEROP_USERNAME="+username, "INTEROP_PASSWORD="+password,
		"INTEROP_DEFAULT_CLIENT_ID="+def.Id.String(), "INTEROP_DEFAULT_AUDIENCE="+def.Audience,
		"INTEROP_OTHER_CLIENT_ID="+other.JSON201.Id.String(), "INTEROP_OTHER_AUDIENCE="+otherAudience,
		"INTEROP_CC_CLIENT_ID="+cc.ID, "INTEROP_CC_CLIENT_SECRET="+cc.Secret, "INTEROP_CC_AUDIENCE="+cc.Audience,
	)
	if err := runLogged(t, cmd); err != nil {
		t.Fatalf("node --test %v: %v (its output is above)", files, err)
	}
}

// runLogged runs cmd with its output, line by line, in the test's log.
func runLogged(t *testing.T, cmd *exec.Cmd) error {
	out, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	var logged sync.WaitGroup
	logged.Go(func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			t.Log(sc.Text())
		}
		io.Copy(io.Discard, out)
	})
	err := cmd.Run()
	w.Close()
	logged.Wait()
	return err
}
