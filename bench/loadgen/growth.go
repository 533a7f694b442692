package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// growthResult is one (database size, concurrency, scenario) measurement
// of -growth.
type growthResult struct {
	Users       int     `json:"users"`
	Concurrency int     `json:"concurrency"`
	Scenario    string  `json:"scenario"`
	Result      summary `json:"result"`
	PeakRSS     int64   `json:"server_peak_rss_bytes"`
}

// runGrowth measures login and refresh at -users and at -growth-users
// users: each database is seeded (and the seeding timed), served, and
// driven at each -growth-c concurrency.
func runGrowth(ctx context.Context, cfg config, rep *report, bin, serverBin, dir string) error {
	if cfg.DB != "" {
		return errors.New("-growth seeds its own databases; it does not take -db")
	}
	var want []scenario
	for _, s := range scenarios() {
		if s.Name == "password" || s.Name == "refresh" {
			want = append(want, s)
		}
	}
	for _, n := range []int{cfg.Users, cfg.GrowthUsers} {
		db := dbPath(cfg, dir, n)
		si, err := seed(ctx, bin, db, n, dir, seedMode(cfg), cfg.DB == "")
		rep.Seed = append(rep.Seed, si)
		if err != nil {
			return err
		}
		gh, err := startGatehouse(ctx, serverBin, db, dir, "")
		if err != nil {
			return err
		}
		err = func() error {
			defer gh.stop()
			logf("loadgen: gatehouse on %d users at %s (pid %d)", n, gh.base, gh.cmd.Process.Pid)
			e := &env{users: n, gh: gh.base, ghc: newClient(256, cfg.Timeout)}
			if err := setupEnv(ctx, e); err != nil {
				return err
			}
			var results []growthResult
			for _, c := range cfg.GrowthC {
				for _, s := range want {
					ops, err := s.ghOps(ctx, e, c)
					if err != nil {
						return fmt.Errorf("%s set-up: %w", s.Name, err)
					}
					if cfg.Warmup > 0 {
						run(ctx, ops, cfg.Warmup, fmt.Sprintf("%s c=%d %d users warm-up", s.Name, c, n), nil)
					}
					var rounds []roundResult
					for r := 1; r <= cfg.Rounds; r++ {
						x := run(ctx, ops, cfg.Duration, fmt.Sprintf("%s c=%d %d users round %d/%d", s.Name, c, n, r, cfg.Rounds), nil)
						printRound(fmt.Sprintf("%s c=%d", s.Name, c), fmt.Sprintf("%dk", n/1000), r, cfg.Rounds, x)
						rounds = append(rounds, x)
					}
					results = append(results, growthResult{Users: n, Concurrency: c, Scenario: s.Name, Result: summarize(rounds)})
				}
			}
			_, hwm, _ := gh.memory()
			for i := range results {
				results[i].PeakRSS = hwm
			}
			rep.Growth = append(rep.Growth, results...)
			return nil
		}()
		if err != nil {
			return err
		}
	}
	printGrowth(os.Stdout, cfg, rep)
	return nil
}

func printGrowth(w io.Writer, cfg config, rep *report) {
	small, large := cfg.Users, cfg.GrowthUsers
	fmt.Fprintf(w, "\ngatehouse cost growth — %d against %d users, %d rounds of %s (medians), %d CPUs\n\n",
		small, large, cfg.Rounds, cfg.Duration, rep.Machine.CPUs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\tclients\tp50 @%d\tp50 @%d\tratio\treq/s @%d\treq/s @%d\terrors\ttarget\t\t\n", small, large, small, large)
	find := func(users, c int, name string) *growthResult {
		for i, g := range rep.Growth {
			if g.Users == users && g.Concurrency == c && g.Scenario == name {
				return &rep.Growth[i]
			}
		}
		return nil
	}
	for _, c := range cfg.GrowthC {
		for _, name := range []string{"password", "refresh"} {
			a, b := find(small, c, name), find(large, c, name)
			if a == nil || b == nil {
				continue
			}
			ratio := float64(b.Result.P50) / float64(a.Result.P50)
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%.1f\t%.1f\t%d\t≤ 1.10\t%s\t\n", name, c, ms(a.Result.P50), ms(b.Result.P50), ratio,
				a.Result.RPS, b.Result.RPS, a.Result.Errors+b.Result.Errors, okMark(ratio <= 1.10))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nseeding (gatehouse migrate + users import of a JSON-lines file, one shared argon2id hash):")
	for _, s := range rep.Seed {
		if !s.Seeded {
			fmt.Fprintf(w, "  %d users: reused %s (%.0f MiB)\n", s.Users, s.DB, float64(s.DBBytes)/(1<<20))
			continue
		}
		fmt.Fprintf(w, "  %d users: %s in all (import %s, %.0f users/s; file %s; migrate %s), database %.0f MiB\n", s.Users,
			s.Total.Round(time.Second), s.Import.Round(time.Second), float64(s.Users)/s.Import.Seconds(),
			s.WriteTime.Round(time.Millisecond), s.Migrate.Round(time.Millisecond), float64(s.DBBytes)/(1<<20))
	}
	for _, n := range []int{small, large} {
		for _, g := range rep.Growth {
			if g.Users == n {
				fmt.Fprintf(w, "  server peak RSS with %d users: %s\n", n, mib(g.PeakRSS))
				break
			}
		}
	}
	fmt.Fprintln(w)
}
