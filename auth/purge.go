package auth

import (
	"context"
	"fmt"
	"time"
)

// DefaultPurgeInterval is how often serve purges expired rows.
const DefaultPurgeInterval = 10 * time.Minute

// purgeExpired deletes what expired by now from the store: refresh tokens
// and their emptied families, revocation-log entries, client-assertion
// jtis, e-mail and mfa tokens, and the mail sends that none of the
// configured mail limits counts any more (the store reckons the cutoff
// from the limits it is given, as it counts sends against them). Nothing
// still valid is un-revoked: a log entry lasts until the last token it
// denies has expired, leeway included, and a node's in-memory set prunes
// itself by the same times.
func (s *Service) purgeExpired(ctx context.Context) error {
	if err := s.st.PurgeExpired(ctx, s.now(), s.cfg.MailLimits); err != nil {
		return fmt.Errorf("purge expired: %w", err)
	}
	return nil
}

// WatchExpired purges expired rows at once and then every interval until
// ctx ends (at once: a node restarted more often than the interval still
// purges). A failed purge is logged as a warning and tried again at the
// next tick: what it left is only kept longer.
func (s *Service) WatchExpired(ctx context.Context, interval time.Duration) {
	s.purgeLogged(ctx)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	s.watchExpired(ctx, tick.C, nil)
}

// watchExpired purges at every tick until ctx ends; purged, when set (by
// tests), sees each purge's outcome.
func (s *Service) watchExpired(ctx context.Context, tick <-chan time.Time, purged func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		err := s.purgeLogged(ctx)
		if purged != nil {
			purged(err)
		}
	}
}

// purgeLogged purges once, logging a failure.
func (s *Service) purgeLogged(ctx context.Context) error {
	err := s.purgeExpired(ctx)
	if err != nil && ctx.Err() == nil {
		s.cfg.Logger.WarnContext(ctx, "purge of expired rows failed; they stay until a purge succeeds", "err", err)
	}
	return err
}
