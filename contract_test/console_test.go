package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/impl"
)

// consoleDir is the admin console: its package.json and lock, src/, the
// Vite config and the committed build in dist/.
var consoleDir = filepath.Join("..", "console")

// wantConsoleHeaders fails unless a console response carries the strict
// Content-Security-Policy and refuses framing.
func wantConsoleHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	if got := h.Get("Content-Security-Policy"); got != impl.ConsoleCSP {
		t.Errorf("%s: Content-Security-Policy %q, want %q", what, got, impl.ConsoleCSP)
	}
	if got := h.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s: X-Frame-Options %q, want DENY", what, got)
	}
}

// TestConsoleServed fetches the console's page and every asset it names
// through the generated client (the doer validates each response, its
// headers included, against the contract), an unknown asset (404) and the
// page of a server with the console switched off (404). The page holds no
// inline script or style and loads nothing from another origin.
func TestConsoleServed(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	page, err := s.Client.GetConsoleWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if page.StatusCode() != http.StatusOK || page.HTTPResponse.Header.Get("Content-Type") != "text/html" {
		t.Fatalf("GET /console/: %d %s", page.StatusCode(), page.HTTPResponse.Header.Get("Content-Type"))
	}
	wantConsoleHeaders(t, "GET /console/", page.HTTPResponse.Header)
	html := page.Body
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).Match(html) || bytes.Contains(html, []byte("<style")) || bytes.Contains(html, []byte(" style=")) {
		t.Errorf("the page holds inline script or style:\n%s", html)
	}
	if bytes.Contains(html, []byte("//")) && regexp.MustCompile(`(?:src|href)="(?:https?:)?//`).Match(html) {
		t.Errorf("the page loads from another origin:\n%s", html)
	}
	refs := regexp.MustCompile(`(?:src|href)="/console/([^"/]+)"`).FindAllSubmatch(html, -1)
	types := map[string]string{}
	for _, m := range refs {
		name := string(m[1])
		r, err := s.Client.GetConsoleAssetWithResponse(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode() != http.StatusOK || len(r.Body) == 0 {
			t.Errorf("GET /console/%s: %d, %d bytes", name, r.StatusCode(), len(r.Body))
		}
		wantConsoleHeaders(t, "GET /console/"+name, r.HTTPResponse.Header)
		types[filepath.Ext(name)] = r.HTTPResponse.Header.Get("Content-Type")
		if filepath.Ext(name) == ".js" && regexp.MustCompile(`\beval\(|new Function\(`).Match(r.Body) {
			t.Errorf("%s calls eval or new Function", name)
		}
	}
	if types[".js"] != "text/javascript" || types[".css"] != "text/css" {
		t.Errorf("the page names assets of types %v, want a text/javascript and a text/css", types)
	}
	if r, err := s.Client.GetConsoleAssetWithResponse(ctx, "index.html"); err != nil || r.StatusCode() != http.StatusOK || !bytes.Equal(r.Body, html) {
		t.Errorf("GET /console/index.html: %v %d", err, r.StatusCode())
	}
	for _, name := range []string{"no-such-asset.js", "embed.go", "index"} {
		r, err := s.Client.GetConsoleAssetWithResponse(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode() != http.StatusNotFound || r.ApplicationproblemJSON404 == nil {
			t.Errorf("GET /console/%s: %d %s, want a 404 problem", name, r.StatusCode(), r.Body)
		}
	}

	// Switched off, in the handler's settings and by serve's flag.
	off := newServerWith(t, impl.Config{NoConsole: true})
	bin := startGatehouse(t, "--no-console")
	for what, c := range map[string]*client.ClientWithResponses{"impl.Config.NoConsole": off.Client, "serve --no-console": bin.Client} {
		r, err := c.GetConsoleWithResponse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode() != http.StatusNotFound || r.ApplicationproblemJSON404 == nil {
			t.Errorf("GET /console/ with %s: %d %s, want a 404 problem", what, r.StatusCode(), r.Body)
		}
	}
}

// TestConsoleBuildFresh rebuilds the console with the locked Vite into a
// temporary folder and fails unless the result is byte for byte the
// committed dist/ (the build is reproducible), as gen_test.go checks gen/.
func TestConsoleBuildFresh(t *testing.T) {
	t.Parallel()
	vite := filepath.Join("node_modules", ".bin", "vite")
	if _, err := os.Stat(filepath.Join(consoleDir, vite)); err != nil {
		t.Fatalf("the console's tools are not installed (%v): run `npm ci --prefix console` (make js-deps)", err)
	}
	out := t.TempDir()
	tsc := exec.Command(filepath.Join("node_modules", ".bin", "tsc"), "--noEmit", "-p", "tsconfig.json")
	tsc.Dir = consoleDir
	if b, err := tsc.CombinedOutput(); err != nil {
		t.Fatalf("tsc --noEmit (the console against the SDK's types): %v\n%s", err, b)
	}
	build := exec.Command(vite, "build", "--outDir", out, "--emptyOutDir", "--logLevel", "warn")
	build.Dir = consoleDir
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("vite build: %v\n%s", err, b)
	}
	fresh, _ := filepath.Glob(filepath.Join(out, "*"))
	committed, _ := filepath.Glob(filepath.Join(consoleDir, "dist", "*"))
	if len(fresh) == 0 || len(committed) != len(fresh) {
		t.Errorf("dist/ holds %d files, vite makes %d: run `npm run build --prefix console` and commit console/dist", len(committed), len(fresh))
	}
	for _, f := range fresh {
		same(t, filepath.Join(consoleDir, "dist", filepath.Base(f)), f, "npm run build --prefix console")
	}
}

// consoleSessionAgent is the user agent of the session the browser test
// ends.
const consoleSessionAgent = "gatehouse-console-e2e-session"

// TestConsoleInBrowser drives the console in headless Chromium
// (playwright-core and Debian's /usr/bin/chromium) against a real server on
// loopback: console/e2e/console.e2e.mjs (README, "The console", lists its
// steps) is refused a wrong password in words, signs in as the
// administrator from the keyboard, finds on the overview the logins made
// here over the last day (an hour's successes and failures apart, as
// figures, bars and a table), the live sessions, the locked and the
// disabled accounts, drives the roles page, creates a user,
// changes its role and disables it, ends the session carol holds here,
// makes an API key and an application secret that work until deleted,
// edits an application, rotates a signing key, finds each change in the
// audit log through its filters (by username, application name or id;
// actors and subjects shown by name, linking to their pages), checks every control's accessible name
// and that nothing reached localStorage, sessionStorage or a cookie, and
// signs out (revoking its refresh token); then a user with TOTP signs in
// with the password and the code, and the console refreshes before the
// access token expires (on Playwright's fake clock). No
// Content-Security-Policy violation or page error may occur. Afterwards
// carol's refresh token is refused, the user the console made is disabled
// with its new role, and no session of the administrator's is the
// browser's.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	chromium := os.Getenv("GATEHOUSE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s (%v): `apt-get install -y chromium` (.ci/run does)", chromium, err)
	}
	if _, err := os.Stat(filepath.Join(consoleDir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed (%v): run `npm ci --prefix console` (make js-deps)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on the PATH: %v", err)
	}
	// The server's clock runs with the wall clock, shifted back for the
	// logins of the hours before, which the overview counts; from a day
	// back, so the first signing key signs them.
	var shift atomic.Int64
	at := func(ago time.Duration) { shift.Store(int64(-ago)) }
	at(24 * time.Hour)
	s := newServer(t, func(c *authConfig) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
		c.MaxFailedLogins = 3
	})
	// The overview's logins, by hours ago (an hour's middle, so the
	// browser, a little later, bins them the same): successes and failures.
	type hour struct {
		Success int `json:"success"`
		Failure int `json:"failure"`
	}
	logins := map[int]hour{23: {1, 0}, 5: {2, 1}, 2: {1, 2}, 0: {1, 3}}
	at(23*time.Hour + 30*time.Minute)
	admin := s.adminToken(t)
	for _, name := range []string{"carol", "erin", "frank"} {
		s.createUser(t, admin, client.UserCreate{Username: name, Password: name + "-password"})
	}
	gwen := s.createUser(t, admin, client.UserCreate{Username: "gwen", Password: "gwen-password"})
	if r, err := s.Client.UpdateUserWithResponse(context.Background(), gwen.Id, client.UserUpdate{Disabled: ptr(true)}, bearer(admin)); err != nil || r.JSON200 == nil {
		t.Fatalf("disable gwen: %v", err)
	}
	for _, ago := range []int{5, 2} {
		at(time.Duration(ago)*time.Hour + 30*time.Minute)
		for range logins[ago].Success {
			s.login(t, "erin", "erin-password")
		}
		for range logins[ago].Failure {
			failLogin(t, s, "erin")
		}
	}
	at(0)
	// carol has a session (a login from elsewhere) for the console to end;
	// frank's failures lock him.
	carol := s.loginAs(t, "carol", "carol-password", consoleSessionAgent)
	for range logins[0].Failure {
		failLogin(t, s, "frank")
	}
	// Live: the administrator's, erin's three and carol's sessions.
	want, err := json.Marshal(map[string]any{"logins": logins, "live_sessions": 5, "locked": 1, "disabled": 1, "users": 5})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("e2e", "console.e2e.mjs"))
	cmd.Dir = consoleDir
	cmd.Env = append(os.Environ(), "NO_COLOR=1",
		"CONSOLE_URL="+s.URL+"/console/", "CONSOLE_CHROMIUM="+chromium,
		"CONSOLE_ADMIN_USERNAME=admin", "CONSOLE_ADMIN_PASSWORD="+adminPassword,
		"CONSOLE_SESSION_USERNAME=carol", "CONSOLE_SESSION_AGENT="+consoleSessionAgent,
		"CONSOLE_NEW_USERNAME=dana", "CONSOLE_OVERVIEW="+string(want),
	)
	if err := runLogged(t, cmd); err != nil {
		t.Fatalf("console e2e: %v (its output is above)", err)
	}
	// The session the console ended is over; the user it made has the
	// role it chose and is disabled.
	wantRefreshRefused(t, s, carol.RefreshToken, "carol's session the console ended")
	admin = s.adminToken(t) // the first expired hours ago
	users, err := s.Client.ListUsersWithResponse(context.Background(), &client.ListUsersParams{Q: ptr("dana")}, bearer(admin))
	if err != nil || users.JSON200 == nil || len(users.JSON200.Items) != 1 {
		t.Fatalf("find dana: %v %s", err, users.Body)
	}
	if dana := users.JSON200.Items[0]; dana.Role != "support" || !dana.Disabled {
		t.Errorf("dana after the console: role %q, disabled %v; want support, true", dana.Role, dana.Disabled)
	}
	// The sign-out ended the console's session: none of the
	// administrator's sessions is the browser's.
	r, err := s.Client.ListUserSessionsWithResponse(context.Background(), s.adminID(t, admin), bearer(admin))
	if err != nil || r.JSON200 == nil {
		t.Fatalf("list the administrator's sessions: %v", err)
	}
	for _, sess := range r.JSON200.Items {
		if strings.Contains(sess.UserAgent, "HeadlessChrome") {
			t.Errorf("the console's session %s outlived its sign-out (%s)", sess.Id, sess.UserAgent)
		}
	}
}
