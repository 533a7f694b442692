package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// The crash test re-executes its own test binary as the server: the child
// runs TestCrashChild, which is the CLI's `serve` on the parent's database.
const (
	crashChildEnv    = "GATEHOUSE_CRASH_CHILD"
	crashDBEnv       = "GATEHOUSE_CRASH_DB"
	crashAdminPasswd = "crash-test-admin-password"
)

// TestCrashChild is the server side of TestCrashSafety; run on its own it
// does nothing.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("the server half of TestCrashSafety")
	}
	// The parent holds our stdin open: when it dies, however it dies, we
	// see EOF and go too, rather than serve on as an orphan.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	// This test is about what survives a crash, not about hashing cost:
	// argon2id with OWASP's 19 MiB would make the logins, not the
	// refreshes, the load (and take seconds each under the race detector).
	// There is no flag for it, so the child lowers the default itself.
	auth.DefaultHashParams = auth.HashParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := []string{"gatehouse", "--db", os.Getenv(crashDBEnv), "--log-format", "json", "--log-level", "info",
		"serve", "--addr", "127.0.0.1:0", "--shutdown-timeout", "2s"}
	// Whatever the defaults of a per-IP rate limit, the load comes from
	// one address.
	for _, f := range serveCommand().Flags {
		if slices.Contains(f.Names(), "rate-limit") {
			args = append(args, "--rate-limit", "0")
		}
	}
	err := newApp().Run(ctx, args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// crashChild is one running server process.
type crashChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser // held open for the child's life; see TestCrashChild
	base  string         // http://127.0.0.1:PORT
	done  chan struct{}  // closed when the process has exited
	err   error          // Wait's error, once done
	log   *lockedBuffer
}

// startCrashChild starts the server on db, with env (GATEHOUSE_…
// settings) added to its environment, and waits until it is ready.
func startCrashChild(t *testing.T, db string, env ...string) *crashChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(),
		crashChildEnv+"=1", crashDBEnv+"="+db,
		"GATEHOUSE_ADMIN_USERNAME=admin", "GATEHOUSE_ADMIN_PASSWORD="+crashAdminPasswd), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &crashChild{cmd: cmd, stdin: stdin, done: make(chan struct{}), log: &lockedBuffer{}}
	addr := make(chan string, 1)
	go func() {
		scanServeLog(stderr, c.log, addr)
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			cmd.Process.Kill()
			<-c.done
		}
	})
	select {
	case c.base = <-addr:
	case <-c.done:
		t.Fatalf("server exited before listening: %v\n%s", c.err, c.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start listening in 20s\n%s", c.log)
	}
	mustBeReady(t, c.base, c.log)
	return c
}

// crashAPI is a plain net/http client of a child.
type crashAPI struct {
	base string
	hc   *http.Client
}

func (a crashAPI) do(ctx context.Context, method, path, contentType, body, token string) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("%s %s → %d: not a JSON object: %q", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, out, nil
}

// tokens runs a grant on /oauth/token.
func (a crashAPI) tokens(ctx context.Context, form url.Values) (status int, access, refresh string, err error) {
	status, out, err := a.do(ctx, http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", form.Encode(), "")
	if err != nil || status != http.StatusOK {
		return status, "", "", err
	}
	access, _ = out["access_token"].(string)
	refresh, _ = out["refresh_token"].(string)
	if access == "" || refresh == "" {
		return status, "", "", fmt.Errorf("token answer without tokens: %v", out)
	}
	return status, access, refresh, nil
}

func (a crashAPI) login(ctx context.Context, username, password string) (int, string, string, error) {
	return a.tokens(ctx, url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}})
}

func (a crashAPI) refresh(ctx context.Context, token string) (int, string, string, error) {
	return a.tokens(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
}

func (a crashAPI) createUser(ctx context.Context, admin, username, password string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	status, out, err := a.do(ctx, http.MethodPost, "/v1/users", "application/json", string(body), admin)
	if err != nil || status != http.StatusCreated {
		return status, "", err
	}
	id, _ := out["id"].(string)
	return status, id, nil
}

func refreshHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TestCrashSafety kills the server with SIGKILL in the middle of a login,
// refresh and user-creation load, restarts it on the same SQLite file and
// checks that nothing acknowledged was lost and nothing was left half done:
// the file passes integrity_check, no refresh-token rotation is half
// applied, every user whose creation answered 201 exists, every refresh
// token handed out is stored and the one it replaced is spent, and the
// restarted server logs in and refreshes.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server three times")
	}
	if os.Getenv(crashChildEnv) == "1" {
		t.Skip("inside a child")
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := filepath.Join(t.TempDir(), "crash.db")
	first := startCrashChild(t, db)
	api := crashAPI{base: first.base, hc: &http.Client{Timeout: 5 * time.Second}}
	t.Logf("first server ready in %v", time.Since(started).Round(time.Millisecond))

	status, admin, _, err := api.login(ctx, "admin", crashAdminPasswd)
	if err != nil || status != http.StatusOK {
		t.Fatalf("admin login: %d %v\n%s", status, err, first.log)
	}

	// Users created before the load; each load worker logs in as one.
	const workers = 8
	// killAfter is how many refreshes the load has acknowledged when the
	// server is killed.
	const killAfter = 1000
	const password = "load-password-1"
	var (
		ackMu sync.Mutex
		acked = map[string]string{} // id → username, creations answered 201
	)
	for i := range workers {
		name := fmt.Sprintf("load-%d", i)
		status, id, err := api.createUser(ctx, admin, name, password)
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create %s: %d %v", name, status, err)
		}
		acked[id] = name
	}

	// The load: each worker logs in once, then refreshes as fast as it
	// can; one more worker creates users. Every answer is recorded.
	type workerState struct {
		issued []string // every refresh token received in a 200, in order
	}
	var (
		states              [workers]workerState
		inFlight, refreshes atomic.Int64
		creating            atomic.Int64
		// loaded is closed by the refresh that makes killAfter.
		loaded   = make(chan struct{})
		wg       sync.WaitGroup
		stopLoad = make(chan struct{})
		loadErrs = make(chan error, workers+1)
	)
	for i := range workers {
		wg.Go(func() {
			st := &states[i]
			status, _, rt, err := api.login(ctx, fmt.Sprintf("load-%d", i), password)
			if err != nil || status != http.StatusOK {
				loadErrs <- fmt.Errorf("worker %d login: %d %v", i, status, err)
				return
			}
			st.issued = append(st.issued, rt)
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				inFlight.Add(1)
				status, _, next, err := api.refresh(ctx, rt)
				inFlight.Add(-1)
				if err != nil {
					return // the kill
				}
				if status != http.StatusOK {
					loadErrs <- fmt.Errorf("worker %d refresh: %d", i, status)
					return
				}
				st.issued = append(st.issued, next)
				if refreshes.Add(1) == killAfter {
					close(loaded)
				}
				rt = next
			}
		})
	}
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stopLoad:
				return
			default:
			}
			name := fmt.Sprintf("during-load-%d", n)
			creating.Add(1)
			status, id, err := api.createUser(ctx, admin, name, password)
			creating.Add(-1)
			if err != nil {
				return // the kill
			}
			if status != http.StatusCreated {
				loadErrs <- fmt.Errorf("create %s during load: %d", name, status)
				return
			}
			ackMu.Lock()
			acked[id] = name
			ackMu.Unlock()
		}
	})

	// Kill once killAfter refreshes were acknowledged (however long the
	// machine takes to get there), while the other workers' refreshes and
	// the creations are in flight.
	loadStart := time.Now()
	select {
	case <-loaded:
	case err := <-loadErrs:
		t.Fatalf("load: %v\n%s", err, first.log)
	case <-ctx.Done():
		t.Fatalf("%d of %d refreshes acknowledged before the deadline\n%s", refreshes.Load(), killAfter, first.log)
	}
	flying, creatingAtKill := inFlight.Load(), creating.Load()
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killedAt := time.Since(loadStart)
	close(stopLoad)
	wg.Wait()
	close(loadErrs)
	for err := range loadErrs {
		t.Errorf("load: %v", err)
	}
	ackMu.Lock()
	ackedUsers := len(acked)
	ackMu.Unlock()
	t.Logf("SIGKILL after %v of load: %d refreshes acknowledged, %d refreshes and %d user creations in flight, %d users acknowledged",
		killedAt.Round(time.Millisecond), refreshes.Load(), flying, creatingAtKill, ackedUsers)
	if refreshes.Load() == 0 {
		t.Fatalf("no refresh succeeded before the kill\n%s", first.log)
	}
	var exit *exec.ExitError
	if !errors.As(first.err, &exit) {
		t.Fatalf("first server: %v, want killed", first.err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("first server ended %v, want SIGKILL", first.err)
	}

	// Restart on the same file.
	restart := time.Now()
	second := startCrashChild(t, db)
	api.base = second.base
	t.Logf("restarted and ready in %v", time.Since(restart).Round(time.Millisecond))

	status, admin, _, err = api.login(ctx, "admin", crashAdminPasswd)
	if err != nil || status != http.StatusOK {
		t.Fatalf("admin login after restart: %d %v\n%s", status, err, second.log)
	}
	ackMu.Lock()
	for id, name := range acked {
		status, out, err := api.do(ctx, http.MethodGet, "/v1/users/"+id, "", "", admin)
		if err != nil || status != http.StatusOK || out["username"] != name {
			t.Errorf("acknowledged user %s (%s) after restart: %d %v %v", name, id, status, out, err)
		}
	}
	ackMu.Unlock()

	// Each worker's newest acknowledged refresh token either still works
	// (its next refresh never reached the database, or reached it within
	// the reuse interval, which answers with the same successor) or was
	// spent by the request in flight at the kill longer ago, and replaying
	// it is reuse. Nothing else.
	outcomes := map[int]int{}
	for i := range states {
		if len(states[i].issued) == 0 {
			continue // its login failed, reported above
		}
		last := states[i].issued[len(states[i].issued)-1]
		status, _, _, err := api.refresh(ctx, last)
		if err != nil {
			t.Fatalf("worker %d: refresh after restart: %v", i, err)
		}
		outcomes[status]++
		if status != http.StatusOK && status != http.StatusBadRequest {
			t.Errorf("worker %d: refresh of its last token after restart: %d", i, status)
		}
	}
	t.Logf("refresh of each worker's last acknowledged token after restart: %v (400: spent by the request in flight at the kill)", outcomes)
	status, _, rt, err := api.login(ctx, "load-0", password)
	if err != nil || status != http.StatusOK {
		t.Fatalf("login after restart: %d %v", status, err)
	}
	for range 3 {
		if status, _, rt, err = api.refresh(ctx, rt); err != nil || status != http.StatusOK {
			t.Fatalf("refresh after restart: %d %v", status, err)
		}
	}
	if status, _, err := api.createUser(ctx, admin, "after-restart", password); err != nil || status != http.StatusCreated {
		t.Fatalf("create a user after restart: %d %v", status, err)
	}

	// Stop the second server cleanly, then look at the file.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.done:
		if second.err != nil {
			t.Errorf("second server did not stop cleanly on SIGTERM: %v\n%s", second.err, second.log)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("second server ignored SIGTERM for 10s")
	}

	conn, err := sql.Open("sqlite", db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var integrity string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q %v", integrity, err)
	}
	var fkViolations int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fkViolations); err != nil || fkViolations != 0 {
		t.Errorf("foreign_key_check: %d violations %v", fkViolations, err)
	}
	// A rotation marks the old token used at t and inserts its successor
	// created at t, in one transaction. Half of one would leave a used
	// token without a successor, or a family with two live heads.
	checks := []struct{ name, q string }{
		{"used tokens without exactly one successor", `SELECT count(*) FROM refresh_tokens t WHERE t.used_at IS NOT NULL
			AND (SELECT count(*) FROM refresh_tokens s WHERE s.family_id = t.family_id AND s.hash <> t.hash AND s.created_at = t.used_at) <> 1`},
		{"families without exactly one unused token", `SELECT count(*) FROM refresh_families f
			WHERE (SELECT count(*) FROM refresh_tokens t WHERE t.family_id = f.id AND t.used_at IS NULL) <> 1`},
		{"families whose tokens are not one more than their rotations", `SELECT count(*) FROM refresh_families f
			WHERE (SELECT count(*) FROM refresh_tokens t WHERE t.family_id = f.id)
			   <> (SELECT count(*) FROM refresh_tokens t WHERE t.family_id = f.id AND t.used_at IS NOT NULL) + 1`},
	}
	for _, c := range checks {
		var n int
		if err := conn.QueryRowContext(ctx, c.q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d %v", c.name, n, err)
		}
	}
	// Every refresh token handed out in a 200 was stored, and every one
	// but a worker's newest was spent by the refresh that replaced it.
	stored := 0
	for i, st := range states {
		for j, tok := range st.issued {
			var used sql.NullInt64
			err := conn.QueryRowContext(ctx, `SELECT used_at FROM refresh_tokens WHERE hash = ?`, refreshHash(tok)).Scan(&used)
			if err != nil {
				t.Errorf("worker %d token %d of %d: acknowledged but not stored: %v", i, j+1, len(st.issued), err)
				continue
			}
			stored++
			if j < len(st.issued)-1 && !used.Valid {
				t.Errorf("worker %d token %d of %d: replaced but not spent", i, j+1, len(st.issued))
			}
		}
	}
	var users, families, tokens int
	conn.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&users)
	conn.QueryRowContext(ctx, `SELECT count(*) FROM refresh_families`).Scan(&families)
	conn.QueryRowContext(ctx, `SELECT count(*) FROM refresh_tokens`).Scan(&tokens)
	t.Logf("after restart: integrity %q; %d users in the file (%d acknowledged + admin + after-restart); %d families, %d refresh tokens; %d acknowledged refresh tokens all found; total %v",
		integrity, users, ackedUsers, families, tokens, stored, time.Since(started).Round(time.Millisecond))
}
