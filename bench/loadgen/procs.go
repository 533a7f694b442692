package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// The credentials every benchmark user and the administrator have.
const (
	benchPassword = "bench-password-1"
	adminPassword = "bench-admin-password"
)

func username(i int) string { return fmt.Sprintf("user%07d", i) }
func email(i int) string    { return fmt.Sprintf("user%07d@bench.example", i) }

// buildBinary builds pkg (./cmd/gatehouse or ./bench/profserve) into dir.
func buildBinary(ctx context.Context, moduleDir, pkg, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = moduleDir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return out, nil
}

// moduleRoot finds the directory of go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the gatehouse module")
		}
		dir = parent
	}
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// seedInfo reports how a database was seeded.
type seedInfo struct {
	DB        string        `json:"db"`
	Users     int           `json:"users"`
	Seeded    bool          `json:"seeded"` // false: the users were there already
	HashTime  time.Duration `json:"hash_ns"`
	WriteTime time.Duration `json:"write_file_ns"`
	Migrate   time.Duration `json:"migrate_ns"`
	Import    time.Duration `json:"import_ns"`
	Total     time.Duration `json:"total_ns"`
	DBBytes   int64         `json:"db_bytes,omitempty"`
}

// seed makes sure db holds users 0..n-1 with benchPassword: it runs
// `gatehouse migrate`, then `gatehouse users import` of a JSON-lines file in
// which every user shares one argon2id hash, computed once here (a hash per
// user would take hours at a million). mode is auto (seed unless the last
// user exists), always or never. owned says the benchmark made db (it is
// in the work directory): a partly seeded one is then started afresh.
func seed(ctx context.Context, bin, db string, n int, dir, mode string, owned bool) (seedInfo, error) {
	info := seedInfo{DB: db, Users: n}
	start := time.Now()
	t := time.Now()
	if err := runCLI(ctx, bin, db, io.Discard, "migrate"); err != nil {
		return info, err
	}
	info.Migrate = time.Since(t)
	if mode == "never" {
		return info, nil
	}
	has := func(user string) bool {
		var out bytes.Buffer
		return runCLI(ctx, bin, db, &out, "users", "list", "-q", user) == nil && strings.Contains(out.String(), user)
	}
	if mode == "auto" && has(username(n-1)) {
		logf("seed: %s already holds %s; not seeding", db, username(n-1))
		if !isPostgres(db) {
			info.DBBytes = dbBytes(db)
		}
		return info, nil
	}
	// A database the benchmark made that holds only some of the users (an
	// interrupted seeding) is started afresh.
	if mode == "auto" && owned && !isPostgres(db) && has(username(0)) {
		logf("seed: %s holds only some of the bench users; starting it afresh", db)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		if err := runCLI(ctx, bin, db, io.Discard, "migrate"); err != nil {
			return info, err
		}
	}
	t = time.Now()
	hash, err := auth.NewHasher(auth.DefaultHashParams, 1, 0).Hash(ctx, benchPassword)
	if err != nil {
		return info, err
	}
	info.HashTime = time.Since(t)

	t = time.Now()
	file := filepath.Join(dir, fmt.Sprintf("users-%d.jsonl", n))
	if err := writeUsers(file, n, hash); err != nil {
		return info, err
	}
	defer os.Remove(file)
	info.WriteTime = time.Since(t)

	logf("seed: importing %d users into %s (one shared argon2id hash; `gatehouse users import`)", n, db)
	t = time.Now()
	if err := importUsers(ctx, bin, db, file, n); err != nil {
		return info, err
	}
	info.Import = time.Since(t)
	info.Total = time.Since(start)
	info.Seeded = true
	if !isPostgres(db) {
		info.DBBytes = dbBytes(db)
	}
	logf("seed: %d users in %s (import %s, %.0f users/s)", n, info.Total.Round(time.Millisecond),
		info.Import.Round(time.Millisecond), float64(n)/info.Import.Seconds())
	return info, nil
}

func dbBytes(db string) int64 {
	var total int64
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(db + suffix); err == nil {
			total += st.Size()
		}
	}
	return total
}

// writeUsers writes the import file: users 0..n-1, each with an e-mail (the
// jmvstream dialect logs in by e-mail) and the shared hash.
func writeUsers(file string, n int, hash string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		line, _ := json.Marshal(map[string]string{
			"username": username(i), "password_hash": hash, "email": email(i),
			"first_name": "Bench", "last_name": strconv.Itoa(i),
		})
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runCLI runs a gatehouse subcommand on db.
func runCLI(ctx context.Context, bin, db string, stdout io.Writer, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append([]string{"--db", db, "--log-level", "warn"}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("gatehouse %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

// importUsers runs `gatehouse users import FILE`, turning its once-a-second
// "imported N users (R/s)" lines into progress with a percentage and ETA.
func importUsers(ctx context.Context, bin, db, file string, n int) error {
	cmd := exec.CommandContext(ctx, bin, "--db", db, "--log-level", "warn", "users", "import", file)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	start := time.Now()
	var tail []string
	sc := bufio.NewScanner(stderr)
	lastPrint := time.Time{}
	for sc.Scan() {
		line := sc.Text()
		var done int
		var rate float64
		if _, err := fmt.Sscanf(line, "imported %d users (%f/s)", &done, &rate); err == nil && rate > 0 {
			eta := time.Duration(float64(n-done) / rate * float64(time.Second))
			msg := fmt.Sprintf("seed: %d/%d users (%.1f%%, %.0f/s, %s elapsed, ETA %s)", done, n,
				100*float64(done)/float64(n), rate, time.Since(start).Round(time.Second), eta.Round(time.Second))
			if stderrIsTTY {
				fmt.Fprintf(os.Stderr, "\r\033[K%s", msg)
			} else if time.Since(lastPrint) >= 10*time.Second {
				fmt.Fprintln(os.Stderr, msg)
				lastPrint = time.Now()
			}
			continue
		}
		tail = append(tail, line)
		if len(tail) > 20 {
			tail = tail[1:]
		}
	}
	if stderrIsTTY {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("gatehouse users import: %w\n%s", err, strings.Join(tail, "\n"))
	}
	for _, l := range tail {
		logf("seed: %s", l)
	}
	return nil
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// process is a server the benchmark started.
type process struct {
	name string
	cmd  *exec.Cmd
	base string // http://host:port
	log  string
	done chan error
}

// startGatehouse starts `gatehouse serve` (or the profiling variant, when
// pprofAddr is set) on a free loopback port and waits until /readyz answers.
func startGatehouse(ctx context.Context, bin, db, dir, pprofAddr string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var args []string
	if pprofAddr == "" {
		args = []string{"--db", db, "serve", "--addr", addr, "--rate-limit", "0", "--admin-password", adminPassword,
			"--webhook-allow-private"} // the webhook scenarios' receiver is on loopback
	} else {
		args = []string{"-db", db, "-addr", addr, "-admin-password", adminPassword, "-pprof-addr", pprofAddr}
	}
	p, err := startProcess(ctx, "gatehouse", bin, args, filepath.Join(dir, "gatehouse.log"))
	if err != nil {
		return nil, err
	}
	p.base = "http://" + addr
	if err := p.waitReady(ctx, "/readyz", 120*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// startBaseline re-executes this binary as the baseline server.
func startBaseline(ctx context.Context, dir string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "serve-baseline", "-db", filepath.Join(dir, "baseline.db"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "baseline.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{name: "baseline", cmd: cmd, log: logFile.Name(), done: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "BASELINE_ADDR="); ok {
				addrc <- a
			}
		}
	}()
	go func() { p.done <- cmd.Wait(); logFile.Close() }()
	select {
	case a := <-addrc:
		p.base = "http://" + a
	case err := <-p.done:
		return nil, fmt.Errorf("baseline exited: %v (log %s)", err, p.log)
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("baseline did not start in 30 s")
	}
	if err := p.waitReady(ctx, "/healthz", 30*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func startProcess(ctx context.Context, name, bin string, args []string, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The server dies with the benchmark, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logFile.Close() }()
	return p, nil
}

func (p *process) waitReady(ctx context.Context, path string, limit time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited before it was ready: %v; its log (%s):\n%s", p.name, err, p.log, tailFile(p.log, 20))
		default:
		}
		if resp, err := c.Get(p.base + path); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s; its log (%s):\n%s", p.name, limit, p.log, tailFile(p.log, 20))
}

// alive tells whether the process is still running.
func (p *process) alive() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, waits up to 20 s, then kills.
func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// memory reads VmRSS and VmHWM (peak RSS) of the process, in bytes.
func (p *process) memory() (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			hwm = n << 10
		}
	}
	return rss, hwm, nil
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
