package contract_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/gen/client"
	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
)

// binary is cmd/gatehouse, built once per test process into a temporary
// folder that TestMain removes.
var binary struct {
	once      sync.Once
	dir, path string
	err       error
	out       []byte
}

// gatehouseBinary builds cmd/gatehouse (with the race detector when the
// tests have it) and returns its path.
func gatehouseBinary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "gatehouse-contract-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "gatehouse")
		args := []string{"build", "-o", binary.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		// go test puts its own toolchain's bin first on the PATH.
		cmd := exec.Command("go", append(args, "./cmd/gatehouse")...)
		cmd.Dir = ".."
		binary.out, binary.err = cmd.CombinedOutput()
	})
	if binary.err != nil {
		t.Fatalf("go build ./cmd/gatehouse: %v\n%s", binary.err, binary.out)
	}
	return binary.path
}

func removeBinary() {
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
}

// process is `gatehouse serve` running as a user starts it: the built
// binary, its flags and environment, on a loopback port the kernel picks.
// Its server's URL is the address it logged it listens on, its Log
// everything it wrote (stdout and stderr); it has no Store or Svc.
type process struct {
	*server
	// Issuer is the issuer it logged.
	Issuer string
}

// gatehouseCommand is the binary with --db on a fresh database (PostgreSQL
// when the suite runs on it) and the JSON log, then args. Its environment
// is the test's without any GATEHOUSE_ variable (a developer's shell may
// set some), plus env.
func gatehouseCommand(t testing.TB, env []string, args ...string) *exec.Cmd {
	t.Helper()
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	if pg := os.Getenv(storetest.PostgresEnv); pg != "" {
		db = storetest.NewPostgresDatabase(t, pg)
	}
	cmd := exec.Command(gatehouseBinary(t), append([]string{"--db", db, "--log-format", "json"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if store.IsPostgresURL(db) {
		// PostgreSQL needs a master key; SQLite makes its own.
		keyFile := filepath.Join(t.TempDir(), "master.key")
		if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(testMasterKey)), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "GATEHOUSE_MASTER_KEY_FILE="+keyFile)
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// startGatehouse runs `gatehouse serve --addr 127.0.0.1:0 args...` with
// the administrator admin/adminPassword, waits for the line that says
// where it listens and stops it (SIGINT, as Ctrl-C) when the test ends,
// failing the test unless it then exits 0.
func startGatehouse(t testing.TB, args ...string) *process {
	t.Helper()
	loadContract(t)
	cmd := gatehouseCommand(t, []string{"GATEHOUSE_ADMIN_PASSWORD=" + adminPassword},
		append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	p := &process{server: &server{Log: &syncBuffer{}}}
	cmd.Stdout = p.Log
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type listening struct{ Addr, Issuer string }
	ready := make(chan listening, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			p.Log.Write(append(line, '\n'))
			var rec struct {
				Msg string `json:"msg"`
				listening
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "gatehouse listening" {
				ready <- rec.listening
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	exited := make(chan error, 1)
	go func() {
		<-copied // Wait closes the pipe: read it all first.
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("gatehouse serve exited with %v; its log:\n%s", err, p.Log)
			}
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Errorf("gatehouse serve did not stop within a minute of SIGINT; its log:\n%s", p.Log)
		}
	})
	select {
	case l := <-ready:
		p.URL, p.Issuer = l.Addr, l.Issuer
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("gatehouse serve exited before listening (%v); its log:\n%s", err, p.Log)
	case <-time.After(2 * time.Minute):
		t.Fatalf("gatehouse serve did not log where it listens within two minutes; its log:\n%s", p.Log)
	}
	if p.Client, err = client.NewClientWithResponses(p.URL, client.WithHTTPClient(&validatingDoer{t: t})); err != nil {
		t.Fatal(err)
	}
	return p
}

// gatehouseFails runs the binary with args and returns what it printed,
// failing the test unless it exits non-zero. A server that starts anyway
// is stopped as soon as it logs that it listens.
func gatehouseFails(t testing.TB, env []string, args ...string) string {
	t.Helper()
	cmd := gatehouseCommand(t, env, args...)
	out := &watchWriter{want: []byte(`"msg":"gatehouse listening"`), seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("gatehouse %s: %v, want a non-zero exit; it printed:\n%s", strings.Join(args, " "), err, out)
		}
	case <-out.seen:
		cmd.Process.Kill()
		<-exited
		t.Fatalf("gatehouse %s started, want it to refuse; it printed:\n%s", strings.Join(args, " "), out)
	}
	return out.String()
}

// watchWriter keeps what is written and closes seen once want was.
type watchWriter struct {
	syncBuffer
	want []byte
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if strings.Contains(w.String(), string(w.want)) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}
