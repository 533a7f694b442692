package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// TestPurgeUsesIndexes: on SQLite every statement of the purge finds its
// rows through an index (or the row address), never by scanning a table
// whole: the purge runs every few minutes on tables that only grow
// between runs.
func TestPurgeUsesIndexes(t *testing.T) {
	s := open(t)
	plans, err := s.PurgeQueryPlans(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 7 {
		t.Errorf("%d purge statements, want 7", len(plans))
	}
	for q, plan := range plans {
		if slices.ContainsFunc(plan, func(step string) bool { return strings.HasPrefix(step, "SCAN ") }) {
			t.Errorf("%s\nscans a table: %q", q, plan)
		}
	}
}

// BenchmarkPurgeExpired purges a SQLite backlog of 200,000 expired
// refresh tokens (20,000 families of 10) while another writer revokes
// access tokens one at a time, as logins and refreshes would write. It
// reports the purge's time per batch (PurgeBatch rows, one transaction,
// the writer held throughout) and the longest the other writer waited.
//
//	go test -run '^$' -bench PurgeExpired -benchtime 3x ./store/
func BenchmarkPurgeExpired(b *testing.B) {
	const families, perFamily = 20_000, 10
	ctx := context.Background()
	var batches time.Duration
	var waits []time.Duration
	for b.Loop() {
		b.StopTimer()
		s := openWithFamilies(b, 0)
		seedExpired(b, s, families, perFamily)
		b.StartTimer()

		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mine []time.Duration
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				if err := s.RevokeAccessToken(ctx, fmt.Sprint("j", i), epoch.Add(time.Hour)); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
			}
		})
		start := time.Now()
		if err := s.PurgeExpired(ctx, epoch.Add(2*time.Hour), nil); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		close(stop)
		wg.Wait()
		b.StopTimer()
		batches += took / (families * perFamily / store.PurgeBatch)
		waits = append(waits, mine...)
		if n := countRows(b, s, "refresh_tokens") + countRows(b, s, "refresh_families"); n != 0 {
			b.Fatalf("%d rows left", n)
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(batches.Microseconds())/1000/float64(b.N), "ms/batch")
	slices.Sort(waits)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(waits[len(waits)/2]), "p50-write-ms")
	b.ReportMetric(ms(waits[len(waits)*99/100]), "p99-write-ms")
	b.ReportMetric(ms(waits[len(waits)-1]), "max-write-ms")
}

// seedExpired stores, for openWithFamilies' user, families refresh
// families of perFamily tokens each, every token expired an hour after
// epoch, in plain SQL (through the store it would take minutes).
func seedExpired(b *testing.B, s *store.DB, families, perFamily int) {
	b.Helper()
	ctx := context.Background()
	n := epoch.UnixNano()
	w := s.Pools()["sqlite_writer"]
	for _, q := range []string{
		`WITH RECURSIVE f(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM f WHERE i + 1 < ?1)
			INSERT INTO refresh_families (id, user_id, app_id, created_at, last_used_at)
			SELECT 'fam' || i, 'u', 'app', ?3, ?3 FROM f`,
		`WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i + 1 < ?1 * ?2)
			INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, created_at, expires_at, used_at)
			SELECT 'tok' || i, 'fam' || (i / ?2), 'u', 'app', ?3, ?3 + 3600000000000, ?3 FROM t`,
	} {
		if _, err := w.ExecContext(ctx, q, families, perFamily, n); err != nil {
			b.Fatal(err)
		}
	}
}

func countRows(b *testing.B, s *store.DB, table string) int {
	var n int
	if err := s.Pools()["sqlite_writer"].QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
