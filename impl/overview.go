package impl

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// GetOverview counts the accounts and the live sessions, for the console's
// first page.
func (h *Handlers) GetOverview(ctx context.Context, _ api.GetOverviewRequestObject) (api.GetOverviewResponseObject, error) {
	o, at, err := h.svc.Overview(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetOverview200JSONResponse{
		Time: at, Users: o.Users, DisabledUsers: o.DisabledUsers,
		LockedUsers: o.LockedUsers, LiveSessions: o.LiveSessions,
	}, nil
}
