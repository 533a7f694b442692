// Command loadgen is gatehouse's load benchmark (`make bench`). It builds
// the server, seeds a temporary SQLite database with -users users through
// `gatehouse migrate` and `gatehouse users import`, starts `gatehouse
// serve` on a free loopback port (rate limit off), and drives it with an
// in-process load generator, scenario by scenario. Each scenario is paired
// with a baseline measured in the same run, alternating baseline and
// gatehouse for -rounds short rounds each; the table shows the medians and
// gatehouse/baseline. The baseline is a minimal server doing only the
// unavoidable work of each request (see baseline.go); it runs as a second
// process, this binary re-executed.
//
// -growth instead measures how login and refresh latency grow from -users
// to -growth-users users, and how long seeding takes.
//
//	go run ./bench/loadgen                     # the default run: 10,000 users, c=64
//	go run ./bench/loadgen -growth             # 10,000 against 1,000,000 users
//	go run ./bench/loadgen -profile /tmp/prof  # the same with CPU profiles of the server
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

type config struct {
	Users         int           `json:"users"`
	Concurrency   int           `json:"concurrency"`
	Duration      time.Duration `json:"round_duration_ns"`
	Warmup        time.Duration `json:"warmup_ns"`
	Rounds        int           `json:"rounds"`
	FloodC        int           `json:"flood_concurrency"`
	FloodDuration time.Duration `json:"flood_duration_ns"`
	Scenarios     []string      `json:"scenarios"`
	DB            string        `json:"db,omitempty"`
	Seed          string        `json:"seed"`
	Growth        bool          `json:"growth"`
	GrowthUsers   int           `json:"growth_users,omitempty"`
	GrowthC       []int         `json:"growth_concurrency,omitempty"`
	Timeout       time.Duration `json:"client_timeout_ns"`
	out, workdir  string
	profile       string
	keep          bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve-baseline" {
		if err := serveBaseline(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	var scen, growthC string
	flag.IntVar(&cfg.Users, "users", 10000, "users seeded into the database")
	flag.IntVar(&cfg.Concurrency, "c", 64, "concurrent clients of the throughput scenarios")
	flag.DurationVar(&cfg.Duration, "d", 3*time.Second, "duration of one round")
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured warm-up of each target before a scenario's rounds")
	flag.IntVar(&cfg.Rounds, "rounds", 3, "rounds per target and scenario (baseline and gatehouse alternate; medians are reported)")
	flag.IntVar(&cfg.FloodC, "flood-c", 500, "concurrent clients of the login flood (0: no flood)")
	flag.DurationVar(&cfg.FloodDuration, "flood-d", 10*time.Second, "duration of the login flood")
	flag.StringVar(&scen, "scenarios", "", "comma-separated scenarios to run (default: all): "+strings.Join(scenarioNames(), ","))
	flag.StringVar(&cfg.DB, "db", "", "the server's --db (a SQLite path, or a postgres:// URL passed through as is); default: a temporary SQLite file")
	flag.StringVar(&cfg.Seed, "seed", "auto", "seeding: auto (unless the database holds the users already), always or never")
	flag.BoolVar(&cfg.Growth, "growth", false, "measure login and refresh p50 at -users and at -growth-users users instead")
	flag.IntVar(&cfg.GrowthUsers, "growth-users", 1000000, "the larger database of -growth")
	flag.StringVar(&growthC, "growth-c", "1,64", "concurrencies of the -growth measurements (comma-separated)")
	flag.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "client timeout of one request (above the server's 5 s hash queue limit)")
	flag.StringVar(&cfg.out, "out", "", "also write the results as JSON to this file")
	flag.StringVar(&cfg.workdir, "workdir", "", "keep databases, logs and binaries here (seeded databases are reused); default: a temporary directory, removed at the end")
	flag.StringVar(&cfg.profile, "profile", "", "run the pprof-enabled server (./bench/profserve) and save CPU, block and mutex profiles of each scenario's first gatehouse round, a CPU profile of gatehouse during the flood and a heap profile after it, in this directory")
	flag.Parse()
	if scen != "" {
		cfg.Scenarios = strings.Split(scen, ",")
		for _, s := range cfg.Scenarios {
			if !slices.Contains(append(scenarioNames(), "flood"), s) {
				fatal(fmt.Errorf("-scenarios: unknown %q (have %s, flood)", s, strings.Join(scenarioNames(), ", ")))
			}
		}
	}
	for _, f := range strings.Split(growthC, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-growth-c: %q is not a positive number", f))
		}
		cfg.GrowthC = append(cfg.GrowthC, n)
	}
	if cfg.Users < 1 || cfg.Concurrency < 1 || cfg.Rounds < 1 || cfg.Duration <= 0 {
		fatal(errors.New("-users, -c, -rounds and -d must be positive"))
	}
	if !slices.Contains([]string{"auto", "always", "never"}, cfg.Seed) {
		fatal(errors.New("-seed must be auto, always or never"))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := runBench(ctx, cfg)
	if rep != nil && cfg.out != "" {
		if werr := writeJSON(cfg.out, rep); werr != nil {
			fmt.Fprintln(os.Stderr, "loadgen: write -out:", werr)
		} else {
			logf("results written to %s", cfg.out)
		}
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

func scenarioNames() []string {
	var names []string
	for _, s := range scenarios() {
		names = append(names, s.Name)
	}
	return names
}

func (c config) wants(name string) bool {
	return len(c.Scenarios) == 0 || slices.Contains(c.Scenarios, name)
}

// report is the -out JSON.
type report struct {
	Time      time.Time      `json:"time"`
	Machine   machine        `json:"machine"`
	Config    config         `json:"config"`
	Seed      []seedInfo     `json:"seed"`
	Scenarios []pairedResult `json:"scenarios,omitempty"`
	Flood     []floodResult  `json:"flood,omitempty"`
	Growth    []growthResult `json:"growth,omitempty"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

type pairedResult struct {
	scenario
	// OtherCPU is the CPU (in cores) that processes other than the
	// benchmark's used during the scenario: on a shared machine they
	// compete with the servers and make the figures noisy.
	OtherCPU  float64 `json:"other_processes_cpu"`
	Gatehouse summary `json:"gatehouse"`
	Base      summary `json:"baseline_result"`
	Ratio     float64 `json:"ratio"` // gatehouse rps / baseline rps
	Met       bool    `json:"target_met"`
}

func runBench(ctx context.Context, cfg config) (*report, error) {
	rep := &report{Time: time.Now().UTC(), Config: cfg,
		Machine: machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir := cfg.workdir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "gatehouse-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf("loadgen: work directory %s", dir)
	logf("loadgen: building ./cmd/gatehouse")
	bin, err := buildBinary(ctx, root, "./cmd/gatehouse", dir)
	if err != nil {
		return nil, err
	}
	serverBin := bin
	if cfg.profile != "" {
		if err := os.MkdirAll(cfg.profile, 0o755); err != nil {
			return nil, err
		}
		logf("loadgen: building ./bench/profserve (gatehouse.Open + net/http/pprof)")
		if serverBin, err = buildBinary(ctx, root, "./bench/profserve", dir); err != nil {
			return nil, err
		}
	}
	if cfg.Growth {
		return rep, runGrowth(ctx, cfg, rep, bin, serverBin, dir)
	}
	return rep, runDefault(ctx, cfg, rep, bin, serverBin, dir)
}

func dbPath(cfg config, dir string, users int) string {
	if cfg.DB != "" {
		return cfg.DB
	}
	return filepath.Join(dir, fmt.Sprintf("gatehouse-%d.db", users))
}

// seedMode is -seed, except that a temporary database is always seeded.
func seedMode(cfg config) string {
	if cfg.DB == "" && cfg.workdir == "" {
		return "always"
	}
	return cfg.Seed
}

func runDefault(ctx context.Context, cfg config, rep *report, bin, serverBin, dir string) error {
	db := dbPath(cfg, dir, cfg.Users)
	si, err := seed(ctx, bin, db, cfg.Users, dir, seedMode(cfg), cfg.DB == "")
	rep.Seed = append(rep.Seed, si)
	if err != nil {
		return err
	}
	pprofAddr := ""
	if cfg.profile != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	gh, err := startGatehouse(ctx, serverBin, db, dir, pprofAddr)
	if err != nil {
		return err
	}
	defer gh.stop()
	bl, err := startBaseline(ctx, dir)
	if err != nil {
		return err
	}
	defer bl.stop()
	logf("loadgen: gatehouse at %s (pid %d, log %s), baseline at %s (pid %d, second process)",
		gh.base, gh.cmd.Process.Pid, gh.log, bl.base, bl.cmd.Process.Pid)

	conns := max(cfg.Concurrency, cfg.FloodC)
	e := &env{users: cfg.Users, gh: gh.base, bl: bl.base, ghc: newClient(conns, cfg.Timeout), blc: newClient(conns, cfg.Timeout)}
	if err := setupEnv(ctx, e); err != nil {
		return err
	}
	for _, s := range scenarios() {
		if !cfg.wants(s.Name) {
			continue
		}
		pr, err := runPaired(ctx, cfg, e, s, gh, bl.cmd.Process.Pid, pprofAddr)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		rep.Scenarios = append(rep.Scenarios, pr)
		if !gh.alive() {
			return fmt.Errorf("gatehouse exited during %s; its log:\n%s", s.Name, tailFile(gh.log, 30))
		}
	}
	if cfg.FloodC > 0 && cfg.wants("flood") {
		// Rounds alternate, as the throughput scenarios' do, so the
		// machine's drift does not land on one target.
		for round := 1; round <= floodRounds; round++ {
			for _, t := range []struct {
				name string
				p    *process
			}{{"baseline", bl}, {"gatehouse", gh}} {
				var prof sync.WaitGroup
				if pprofAddr != "" && t.p == gh && round == 1 {
					prof.Go(func() {
						saveProfile(ctx, pprofAddr, "profile", cfg.FloodDuration, filepath.Join(cfg.profile, "flood.cpu.pprof"))
					})
				}
				fr, err := runFlood(ctx, cfg, e, t.name, t.p)
				prof.Wait()
				if err != nil {
					return fmt.Errorf("flood: %w", err)
				}
				rep.Flood = append(rep.Flood, fr)
			}
		}
		if pprofAddr != "" {
			saveProfile(ctx, pprofAddr, "heap", 0, filepath.Join(cfg.profile, "flood.heap.pprof"))
		}
	}
	printDefault(os.Stdout, cfg, rep)
	return nil
}

// runPaired runs one scenario: set-up and warm-up of both targets, then
// rounds alternating baseline and gatehouse.
func runPaired(ctx context.Context, cfg config, e *env, s scenario, gh *process, blPid int, pprofAddr string) (pr pairedResult, err error) {
	pr = pairedResult{scenario: s}
	meter := newCPUMeter(gh.cmd.Process.Pid, blPid)
	defer func() { pr.OtherCPU = meter.foreign() }()
	logf("%s — %s; baseline: %s", s.Name, s.What, baselineKinds[s.Baseline])
	blOps, err := s.blOps(ctx, e, cfg.Concurrency)
	if err != nil {
		return pr, fmt.Errorf("baseline set-up: %w", err)
	}
	ghOps, err := s.ghOps(ctx, e, cfg.Concurrency)
	if err != nil {
		return pr, fmt.Errorf("gatehouse set-up: %w", err)
	}
	side := func(hook func(context.Context, *env) error) error {
		if hook == nil {
			return nil
		}
		return hook(ctx, e)
	}
	if cfg.Warmup > 0 {
		if err := side(s.blRound); err != nil {
			return pr, err
		}
		run(ctx, blOps, cfg.Warmup, s.Name+" baseline warm-up", nil)
		if err := side(s.ghRound); err != nil {
			return pr, err
		}
		run(ctx, ghOps, cfg.Warmup, s.Name+" gatehouse warm-up", nil)
	}
	var blRounds, ghRounds []roundResult
	for r := 1; r <= cfg.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return pr, err
		}
		if err := side(s.blRound); err != nil {
			return pr, err
		}
		b := run(ctx, blOps, cfg.Duration, fmt.Sprintf("%s baseline  round %d/%d", s.Name, r, cfg.Rounds), nil)
		blRounds = append(blRounds, b)
		printRound(s.Name, "baseline", r, cfg.Rounds, b)
		var prof chan struct{}
		if pprofAddr != "" && r == 1 {
			prof = make(chan struct{})
			go func() {
				defer close(prof)
				var wg sync.WaitGroup
				for _, kind := range []string{"profile", "block", "mutex"} {
					wg.Go(func() {
						name := map[string]string{"profile": "cpu"}[kind]
						if name == "" {
							name = kind
						}
						saveProfile(ctx, pprofAddr, kind, cfg.Duration, filepath.Join(cfg.profile, s.Name+"."+name+".pprof"))
					})
				}
				wg.Wait()
			}()
		}
		if err := side(s.ghRound); err != nil {
			return pr, err
		}
		g := run(ctx, ghOps, cfg.Duration, fmt.Sprintf("%s gatehouse round %d/%d", s.Name, r, cfg.Rounds), nil)
		if prof != nil {
			<-prof
		}
		ghRounds = append(ghRounds, g)
		printRound(s.Name, "gatehouse", r, cfg.Rounds, g)
	}
	pr.Base, pr.Gatehouse = summarize(blRounds), summarize(ghRounds)
	if pr.Base.RPS > 0 {
		pr.Ratio = pr.Gatehouse.RPS / pr.Base.RPS
	}
	pr.Met = pr.Ratio >= s.Target && pr.Gatehouse.Errors == 0
	return pr, nil
}

func printRound(name, target string, r, rounds int, x roundResult) {
	logf("  %-10s %-9s round %d/%d: %8.1f req/s  p50 %9s  p99 %9s  errors %d%s", name, target, r, rounds,
		x.RPS, ms(x.P50), ms(x.P99), x.Errors, sampleNote(x.Samples))
}

func sampleNote(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return "  (" + s[0] + ")"
}

// saveProfile fetches /debug/pprof/<kind> (for seconds d when d > 0).
func saveProfile(ctx context.Context, addr, kind string, d time.Duration, file string) {
	u := "http://" + addr + "/debug/pprof/" + kind
	if d > 0 {
		u += fmt.Sprintf("?seconds=%d", max(1, int(d.Seconds())))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
	if err != nil {
		logf("profile %s: %v", kind, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		logf("profile %s: %v", kind, err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
}

// floodResult is one target's login flood.
type floodResult struct {
	Target        string      `json:"target"`
	Concurrency   int         `json:"concurrency"`
	Round         roundResult `json:"round"`
	RSSBefore     int64       `json:"rss_before_bytes"`
	PeakRSS       int64       `json:"peak_rss_bytes"` // VmHWM after the flood
	KeptAnswering bool        `json:"kept_answering"`
	HealthyAfter  bool        `json:"healthy_after"`
}

// floodRounds is how many flood rounds each target gets, alternating.
const floodRounds = 2

// runFlood sends password grants from cfg.FloodC clients. 503 with
// Retry-After is an acceptable answer; connection errors, timeouts and any
// other status are not.
func runFlood(ctx context.Context, cfg config, e *env, target string, p *process) (floodResult, error) {
	fr := floodResult{Target: target, Concurrency: cfg.FloodC}
	s := floodScenario()
	mk := s.ghOps
	if target == "baseline" {
		mk = s.blOps
	}
	ops, err := mk(ctx, e, cfg.FloodC)
	if err != nil {
		return fr, err
	}
	fr.RSSBefore, _, _ = p.memory()
	logf("flood — %d concurrent password grants for %s against %s (RSS now %s)", cfg.FloodC, cfg.FloodDuration, target, mib(fr.RSSBefore))
	refusal := func(status int, h http.Header) bool {
		return status == http.StatusServiceUnavailable && h.Get("Retry-After") != ""
	}
	fr.Round = run(ctx, ops, cfg.FloodDuration, fmt.Sprintf("flood %s", target), refusal)
	_, fr.PeakRSS, _ = p.memory()
	c := &http.Client{Timeout: 5 * time.Second}
	if resp, err := c.Get(p.base + "/healthz"); err == nil {
		resp.Body.Close()
		fr.HealthyAfter = resp.StatusCode == http.StatusOK
	}
	fr.KeptAnswering = fr.Round.Errors == 0 && fr.Round.Transport == 0 && fr.HealthyAfter && p.alive()
	x := fr.Round
	logf("  flood %-9s: %8.1f ok/s  503+Retry-After %d  errors %d (transport %d)  p50 %s  p99 %s  peak RSS %s%s",
		target, x.RPS, x.Refused, x.Errors, x.Transport, ms(x.P50), ms(x.P99), mib(fr.PeakRSS), sampleNote(x.Samples))
	return fr, nil
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func okMark(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func printDefault(w io.Writer, cfg config, rep *report) {
	fmt.Fprintf(w, "\ngatehouse load benchmark — %d users, %d concurrent clients, %d rounds of %s per target (medians), %d CPUs, %s\n",
		cfg.Users, cfg.Concurrency, cfg.Rounds, cfg.Duration, rep.Machine.CPUs, rep.Machine.GoVersion)
	fmt.Fprintf(w, "baseline: a second process (this binary) doing only each request's unavoidable work; ratio = gatehouse req/s ÷ baseline req/s\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tgatehouse req/s\tp50\tp99\terrors\tbaseline req/s\tp50\tp99\terrors\tratio\ttarget\t\tother CPU\t")
	busy := false
	for _, p := range rep.Scenarios {
		g, b := p.Gatehouse, p.Base
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%d\t%.1f\t%s\t%s\t%d\t%.2f\t≥ %.2f\t%s\t%.2f\t\n", p.Name,
			g.RPS, ms(g.P50), ms(g.P99), g.Errors, b.RPS, ms(b.P50), ms(b.P99), b.Errors, p.Ratio, p.Target, okMark(p.Met),
			p.OtherCPU)
		busy = busy || p.OtherCPU > 0.25
	}
	tw.Flush()
	if busy {
		fmt.Fprintf(w, "note: other processes used CPU during some scenarios (\"other CPU\", in cores): the machine was shared and those figures are noisy\n")
	}
	fmt.Fprintln(w, "\nscenarios and their baselines:")
	for _, p := range rep.Scenarios {
		fmt.Fprintf(w, "  %-10s %s — baseline: %s\n", p.Name, p.What, baselineKinds[p.Baseline])
	}
	for _, p := range rep.Scenarios {
		if len(p.Gatehouse.Samples) > 0 {
			fmt.Fprintf(w, "  %s errors: %s (statuses %v)\n", p.Name, strings.Join(p.Gatehouse.Samples, "; "), p.Gatehouse.Statuses)
		}
	}
	if len(rep.Flood) > 0 {
		fmt.Fprintf(w, "\nlogin flood — %d concurrent password grants for %s (503 with Retry-After is an answer; connection errors and timeouts are not)\n\n",
			cfg.FloodC, cfg.FloodDuration)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "target\t200/s\t503+Retry-After\tother errors\ttransport errors\tp50\tp99\tRSS before\tpeak RSS (VmHWM)\tkept answering\t")
		for _, f := range rep.Flood {
			x := f.Round
			fmt.Fprintf(tw, "%s\t%.1f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", f.Target, x.RPS, x.Refused, x.Errors-x.Transport,
				x.Transport, ms(x.P50), ms(x.P99), mib(f.RSSBefore), mib(f.PeakRSS), yesNo(f.KeptAnswering))
		}
		tw.Flush()
		okPerSec := map[string]float64{}
		var peak int64
		kept := true
		for _, f := range rep.Flood {
			okPerSec[f.Target] += f.Round.RPS / floodRounds
			if f.Target == "gatehouse" {
				peak = max(peak, f.PeakRSS)
				kept = kept && f.KeptAnswering
			}
		}
		fmt.Fprintf(w, "gatehouse ÷ baseline, mean 200/s of the rounds: %.2f; gatehouse peak RSS %s (target < 300 MiB: %s), kept answering: %s\n",
			okPerSec["gatehouse"]/okPerSec["baseline"], mib(peak), okMark(peak < 300<<20), okMark(kept))
	}
	fmt.Fprintln(w)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func writeJSON(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}
