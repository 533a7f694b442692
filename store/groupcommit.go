package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// errClosed answers a rotation asked of a closed store.
var errClosed = errors.New("store is closed")

// groupCommit carries SQLite's concurrent refresh-token rotations in shared
// write transactions (group commit). SQLite has one writer, and a rotation
// is a few microseconds of statements around a BEGIN IMMEDIATE … COMMIT
// whose cost (the transaction's bookkeeping, the WAL frames of the pages it
// changed) does not grow with the statements in it: rotations that queue
// while one transaction commits all go into the next. A rotation is still
// all or nothing: when one of a group fails, the group is rolled back and
// each of its rotations runs again in a transaction of its own. A caller is
// answered after the commit that carried its rotation, so every rotation
// answered is durable, as before.
type groupCommit struct {
	mu     sync.Mutex
	queue  []*rotation
	closed bool
	// wake holds a token while the queue may be non-empty; stop is closed
	// by Close, stopped by the committer when it has returned.
	wake          chan struct{}
	stop, stopped chan struct{}
	// groups and rotations count what was committed (the metrics'
	// gatehouse_refresh_rotation_groups_total and …_rotations_grouped_total).
	groups, rotations atomic.Int64
}

// rotation is one RotateRefreshToken waiting for its group.
type rotation struct {
	ctx     context.Context
	oldHash string
	next    RefreshToken
	now     time.Time
	// Set by the committer before done is closed.
	rotated bool
	err     error
	done    chan struct{}
}

// startGroupCommit starts s's committer.
func (s *DB) startGroupCommit() {
	s.group = &groupCommit{wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go s.commitGroups()
}

// rotateGrouped runs r in the next group and waits for its commit, or for
// ctx to end (the rotation may then still be carried out, as a request
// cancelled after its commit would be).
func (s *DB) rotateGrouped(r *rotation) (rotated bool, err error) {
	g := s.group
	r.done = make(chan struct{})
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false, errClosed
	}
	g.queue = append(g.queue, r)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default: // the committer is already woken
	}
	select {
	case <-r.done:
		return r.rotated, r.err
	case <-r.ctx.Done():
		return false, r.ctx.Err()
	}
}

// commitGroups is the committer: it takes everything queued, carries it in
// one transaction, and again, until the store closes.
func (s *DB) commitGroups() {
	g := s.group
	defer close(g.stopped)
	for {
		select {
		case <-g.wake:
		case <-g.stop:
			return
		}
		g.mu.Lock()
		group := g.queue
		g.queue = nil
		g.mu.Unlock()
		s.commitGroup(group)
	}
}

// commitGroup carries group's rotations in one transaction and answers
// them. Those whose callers have gone are dropped first.
func (s *DB) commitGroup(group []*rotation) {
	live := make([]*rotation, 0, len(group))
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.Background() // the group outlives any one caller's request
	err := s.inTx(ctx, func(t tx) error {
		for _, r := range live {
			if err := s.rotateIn(ctx, t, r); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrUnavailable):
		// The writer did not answer in time: alone, each would wait as
		// long again.
		for _, r := range live {
			r.err = err
		}
	case err != nil && len(live) > 1:
		// Rolled back: run each alone, so one rotation's failure is its own.
		for _, r := range live {
			r.err = s.inTx(ctx, func(t tx) error { return s.rotateIn(ctx, t, r) })
		}
	case err != nil:
		live[0].err = err
	}
	g := s.group
	g.groups.Add(1)
	g.rotations.Add(int64(len(live)))
	for _, r := range live {
		if r.err != nil {
			r.rotated = false
		}
		close(r.done)
	}
}

// closeGroupCommit stops the committer and answers what is still queued.
func (s *DB) closeGroupCommit() {
	g := s.group
	if g == nil {
		return
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.closed = true
	g.mu.Unlock()
	close(g.stop)
	<-g.stopped
	for _, r := range g.queue {
		r.err = errClosed
		close(r.done)
	}
	g.queue = nil
}

// GroupCommitStats reports the groups of refresh-token rotations committed
// so far and the rotations they carried; ok is false on PostgreSQL, which
// rotates in one statement per refresh.
func (s *DB) GroupCommitStats() (groups, rotations int64, ok bool) {
	if s.group == nil {
		return 0, 0, false
	}
	return s.group.groups.Load(), s.group.rotations.Load(), true
}
