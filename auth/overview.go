package auth

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// Overview counts the accounts and the live sessions now, and says when
// now was by the service's clock.
func (s *Service) Overview(ctx context.Context) (store.Overview, time.Time, error) {
	now := s.now()
	o, err := s.st.CountOverview(ctx, now)
	return o, now, err
}
