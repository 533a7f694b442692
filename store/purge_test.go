package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/store/storetest"
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
	if len(plans) != 8 {
		t.Errorf("%d purge statements, want 8", len(plans))
	}
	for q, plan := range plans {
		if slices.ContainsFunc(plan, func(step string) bool { return strings.HasPrefix(step, "SCAN ") }) {
			t.Errorf("%s\nscans a table: %q", q, plan)
		}
	}
}

// BenchmarkPurgeExpired purges a backlog of 200,000 expired refresh tokens
// (20,000 families of 10) while another writer revokes access tokens one
// at a time, as logins and refreshes would write. It reports the purge's
// time per batch (PurgeBatch rows, one transaction; on SQLite the writer
// is held throughout) and how long the other writer's writes took (the
// median, the 99th percentile and the longest). The PostgreSQL half needs
// GATEHOUSE_TEST_POSTGRES:
//
//	go test -run '^$' -bench PurgeExpired -benchtime 3x ./store/
func BenchmarkPurgeExpired(b *testing.B) {
	const families, perFamily = 20_000, 10
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var batches time.Duration
			var waits []time.Duration
			for b.Loop() {
				b.StopTimer()
				s := open(b)
				if backend == "postgres" {
					s = openPostgresDSN(b, storetest.PostgresDatabase(b))
				}
				seedFamilies(b, s, 0)
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
				b.StartTimer()
			}
			slices.Sort(waits)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(float64(batches.Microseconds())/1000/float64(b.N), "ms/batch")
			b.ReportMetric(ms(waits[len(waits)/2]), "p50-write-ms")
			b.ReportMetric(ms(waits[len(waits)*99/100]), "p99-write-ms")
			b.ReportMetric(ms(waits[len(waits)-1]), "max-write-ms")
		})
	}
}

// seedExpired stores, for seedFamilies' user, families refresh families of
// perFamily tokens each, every token expired an hour after epoch, in plain
// SQL (through the store it would take minutes). The numbers are spelt in
// the text: the engines spell placeholders differently.
func seedExpired(b *testing.B, s *store.DB, families, perFamily int) {
	b.Helper()
	n := epoch.UnixNano()
	for _, q := range []string{
		`WITH RECURSIVE f(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM f WHERE i + 1 < %[1]d)
			INSERT INTO refresh_families (id, user_id, app_id, created_at, last_used_at)
			SELECT 'fam' || i, 'u', 'app', %[3]d, %[3]d FROM f`,
		`WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i + 1 < %[1]d * %[2]d)
			INSERT INTO refresh_tokens (hash, family_id, user_id, app_id, created_at, expires_at, used_at)
			SELECT 'tok' || i, 'fam' || (i / %[2]d), 'u', 'app', %[3]d, %[3]d + 3600000000000, %[3]d FROM t`,
	} {
		if _, err := writerPool(s).ExecContext(context.Background(), fmt.Sprintf(q, families, perFamily, n)); err != nil {
			b.Fatal(err)
		}
	}
}

// writerPool is the pool s writes through.
func writerPool(s *store.DB) *sql.DB {
	if db, ok := s.Pools()["sqlite_writer"]; ok {
		return db
	}
	return s.Pools()["postgres"]
}

func countRows(b *testing.B, s *store.DB, table string) int {
	var n int
	if err := writerPool(s).QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
