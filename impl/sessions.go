package impl

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

// ListMySessions lists the caller's live sessions, marking its own.
func (h *Handlers) ListMySessions(ctx context.Context, _ api.ListMySessionsRequestObject) (api.ListMySessionsResponseObject, error) {
	p := principalFrom(ctx)
	ss, err := h.svc.ListSessions(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return api.ListMySessions200JSONResponse{Items: fromStoreSessions(ss, p.SessionID)}, nil
}

// EndMyOtherSessions ends every session of the caller but its own.
func (h *Handlers) EndMyOtherSessions(ctx context.Context, _ api.EndMyOtherSessionsRequestObject) (api.EndMyOtherSessionsResponseObject, error) {
	p := principalFrom(ctx)
	if err := h.svc.EndSessions(ctx, p.UserID, p.SessionID, p.UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.EndMyOtherSessions204Response{}, nil
}

// EndMySession ends one of the caller's sessions.
func (h *Handlers) EndMySession(ctx context.Context, req api.EndMySessionRequestObject) (api.EndMySessionResponseObject, error) {
	if err := h.endSession(ctx, principalFrom(ctx).UserID, req.Id.String()); err != nil {
		return nil, err
	}
	return api.EndMySession204Response{}, nil
}

// endSession ends the user's session id on the caller's behalf; 404 when
// the user has no live session of that id.
func (h *Handlers) endSession(ctx context.Context, userID, id string) error {
	err := h.svc.EndSession(ctx, userID, id, principalFrom(ctx).UserID, originFrom(ctx))
	if errors.Is(err, auth.ErrSessionNotFound) {
		return &Error{Kind: KindNotFound, Detail: "no such session", Err: err}
	}
	return err
}

// ListUserSessions lists a user's live sessions.
func (h *Handlers) ListUserSessions(ctx context.Context, req api.ListUserSessionsRequestObject) (api.ListUserSessionsResponseObject, error) {
	u, err := h.st.GetUser(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	ss, err := h.svc.ListSessions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return api.ListUserSessions200JSONResponse{Items: fromStoreSessions(ss, "")}, nil
}

// EndUserSessions ends every session of a user.
func (h *Handlers) EndUserSessions(ctx context.Context, req api.EndUserSessionsRequestObject) (api.EndUserSessionsResponseObject, error) {
	u, err := h.st.GetUser(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if err := h.svc.EndSessions(ctx, u.ID, "", principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.EndUserSessions204Response{}, nil
}

// EndUserSession ends one session of a user.
func (h *Handlers) EndUserSession(ctx context.Context, req api.EndUserSessionRequestObject) (api.EndUserSessionResponseObject, error) {
	u, err := h.st.GetUser(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if err := h.endSession(ctx, u.ID, req.SessionId.String()); err != nil {
		return nil, err
	}
	return api.EndUserSession204Response{}, nil
}

// fromStoreSessions converts sessions; current is the caller's own
// session id ("" for none).
func fromStoreSessions(ss []store.Session, current string) []api.Session {
	out := make([]api.Session, len(ss))
	for i, s := range ss {
		out[i] = api.Session{
			Id: uuid.MustParse(s.ID), ApplicationId: uuid.MustParse(s.AppID),
			CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(),
			ClientIp: s.ClientIP, UserAgent: s.UserAgent, Amr: strings.Fields(s.AMR),
			Current: current != "" && s.ID == current,
		}
	}
	return out
}
