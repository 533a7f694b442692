package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// Sessions are refresh families; every access token issued for one
// carries its id as sid. Ending a session revokes its family (its refresh
// token stops at once) and logs the id in the revocation log, which every
// node holds in memory (revocations, below): its access tokens stop at
// once on the node that ended it and, on every other node, at that node's
// next sync (SyncRevocations, every --revocation-sync-interval).

// ErrSessionNotFound is returned when a session to end is not a live
// session of the user.
var ErrSessionNotFound = errors.New("session not found")

// DefaultRevocationSyncInterval is how often a node reads the revocation
// log's new entries: the bound on how stale its view of revocations made
// on other nodes can be (plus the read's own time).
const DefaultRevocationSyncInterval = time.Second

// revocations is a node's copy of the revocation log: revoked jtis and
// session ids, each until it can deny no valid token any more. A
// protected request consults it instead of the database.
type revocations struct {
	mu       sync.RWMutex
	jtis     map[string]time.Time
	sessions map[string]time.Time
	// cursor is where the next sync reads from; syncMu makes syncs one
	// at a time, so the cursor only moves forward.
	syncMu sync.Mutex
	cursor int64
	// synced, when set, is called after every sync (tests wait on it).
	synced func(n int)
}

func (r *revocations) add(kind, id string, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := &r.jtis
	if kind == store.RevokedSession {
		m = &r.sessions
	}
	if *m == nil {
		*m = map[string]time.Time{}
	}
	if until.After((*m)[id]) {
		(*m)[id] = until
	}
}

// revoked reports whether the jti or the session sid ("" for none) is
// revoked.
func (r *revocations) revoked(jti, sid string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.jtis[jti]; ok {
		return true
	}
	_, ok := r.sessions[sid]
	return ok && sid != ""
}

// prune forgets the entries that expired before now.
func (r *revocations) prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range []map[string]time.Time{r.jtis, r.sessions} {
		for id, until := range m {
			if until.Before(now) {
				delete(m, id)
			}
		}
	}
}

// SyncRevocations reads the revocation log's entries written since the
// last sync, on any node, into this node's set. Bootstrap runs the first,
// which loads the whole log.
func (s *Service) SyncRevocations(ctx context.Context) error {
	r := &s.revoked
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	entries, next, err := s.st.RevocationsSince(ctx, r.cursor)
	if err != nil {
		return fmt.Errorf("sync revocations: %w", err)
	}
	now := s.now()
	for _, e := range entries {
		if !e.ExpiresAt.Before(now) {
			r.add(e.Kind, e.ID, e.ExpiresAt)
		}
	}
	r.cursor = next
	if r.synced != nil {
		r.synced(len(entries))
	}
	return nil
}

// OnRevocationsSynced sets f to be called after every sync with the
// number of entries it read; for tests, which wait on it rather than on a
// clock.
func (s *Service) OnRevocationsSynced(f func(n int)) {
	s.revoked.syncMu.Lock()
	defer s.revoked.syncMu.Unlock()
	s.revoked.synced = f
}

// WatchRevocations syncs the revocation log every interval until ctx
// ends, and forgets expired entries once a minute. A failed sync is
// logged and retried at the next tick: meanwhile the node keeps what it
// has.
func (s *Service) WatchRevocations(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.SyncRevocations(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.WarnContext(ctx, "revocation sync failed; this node's view of revocations made elsewhere is stale until it succeeds", "err", err)
		}
		if time.Since(lastPrune) > time.Minute {
			s.revoked.prune(s.now())
			lastPrune = time.Now()
		}
	}
}

// sessionKeepUntil is how long a revoked session stays in the log: as
// long as a retired signing key stays published, which outlasts the
// longest access-token lifetime.
func (s *Service) sessionKeepUntil(at time.Time) time.Time {
	return at.Add(s.cfg.RetiredKeyRetention)
}

// revokeFamily revokes one family (a session) and denies its access
// tokens on this node at once.
func (s *Service) revokeFamily(ctx context.Context, familyID string) error {
	now := s.now()
	until := s.sessionKeepUntil(now)
	if err := s.st.RevokeRefreshFamily(ctx, familyID, now, until); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	s.revoked.add(store.RevokedSession, familyID, until)
	return nil
}

// sessionsEnded adds the sessions ids, just revoked in the store and
// logged until until, to this node's copy of the log, so their access
// tokens stop here at once (other nodes read the log).
func (s *Service) sessionsEnded(ids []string, until time.Time) {
	for _, id := range ids {
		s.revoked.add(store.RevokedSession, id, until)
	}
}

// endSessions ends every live session of the user but except ("" for
// none), auditing each with reason.
func (s *Service) endSessions(ctx context.Context, userID, except, actor, reason string, cl Origin) error {
	now := s.now()
	until := s.sessionKeepUntil(now)
	ids, err := s.st.RevokeUserRefreshFamilies(ctx, userID, except, now, until)
	if err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	for _, id := range ids {
		s.revoked.add(store.RevokedSession, id, until)
		s.Audit(ctx, cl.event("session.revoke", "success", actor, userID, "session "+id+" ("+reason+")"))
	}
	return nil
}

// ListSessions lists a user's live sessions.
func (s *Service) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	return s.st.ListSessions(ctx, userID, s.now())
}

// EndSession ends the user's live session id; ErrSessionNotFound when the
// user has none of that id.
func (s *Service) EndSession(ctx context.Context, userID, id, actor string, cl Origin) error {
	now := s.now()
	until := s.sessionKeepUntil(now)
	err := s.st.RevokeUserRefreshFamily(ctx, userID, id, now, until)
	if errors.Is(err, store.ErrNotFound) {
		return ErrSessionNotFound
	}
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	s.revoked.add(store.RevokedSession, id, until)
	s.Audit(ctx, cl.event("session.revoke", "success", actor, userID, "session "+id))
	return nil
}

// EndSessions ends every live session of the user but except ("" ends
// them all).
func (s *Service) EndSessions(ctx context.Context, userID, except, actor string, cl Origin) error {
	return s.endSessions(ctx, userID, except, actor, "ended by request", cl)
}
