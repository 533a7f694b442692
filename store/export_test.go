package store

import (
	"cmp"
	"context"
	"time"
)

// Rotation is a rotation for RotateAsGroup; Ctx, when set, is its
// caller's context in place of the group's.
type Rotation struct {
	Ctx     context.Context
	OldHash string
	Next    RefreshToken
	Now     time.Time
}

// RotateAsGroup carries rs in one group, as concurrent RotateRefreshToken
// calls queued together are, and reports each one's outcome.
func (s *DB) RotateAsGroup(ctx context.Context, rs []Rotation) (rotated []bool, errs []error) {
	group := make([]*rotation, len(rs))
	for i, r := range rs {
		group[i] = &rotation{ctx: cmp.Or(r.Ctx, ctx), oldHash: r.OldHash, next: r.Next, now: r.Now, done: make(chan struct{})}
	}
	s.commitGroup(group)
	for _, r := range group {
		<-r.done
		rotated = append(rotated, r.rotated)
		errs = append(errs, s.writeErr("rotate", r.err))
	}
	return rotated, errs
}

// RotateInOwnTransaction rotates as the store did before group commit:
// one write transaction per rotation, for the benchmark's comparison.
func (s *DB) RotateInOwnTransaction(ctx context.Context, oldHash string, next RefreshToken, now time.Time) error {
	r := &rotation{ctx: ctx, oldHash: oldHash, next: next, now: now}
	return s.inTx(ctx, func(t tx) error { return s.rotateIn(ctx, t, r) })
}

// PurgeQueryPlans returns SQLite's query plan of each statement
// PurgeExpired runs, by query text.
func (s *DB) PurgeQueryPlans(ctx context.Context) (map[string][]string, error) {
	qs := []string{s.purgeRefreshTokensQuery(), qPurgeFamily}
	for _, p := range purged {
		qs = append(qs, s.batchDelete(p.table, p.where, ""))
	}
	plans := map[string][]string{}
	for _, q := range qs {
		rows, err := s.writer.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, 0, PurgeBatch)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				rows.Close()
				return nil, err
			}
			plans[q] = append(plans[q], detail)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return plans, nil
}
