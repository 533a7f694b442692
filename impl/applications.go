package impl

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// ListApplications lists applications.
func (h *Handlers) ListApplications(ctx context.Context, req api.ListApplicationsRequestObject) (api.ListApplicationsResponseObject, error) {
	apps, next, err := h.st.ListApplications(ctx, page(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	out := api.ListApplications200JSONResponse{Items: make([]api.Application, len(apps)), NextCursor: nonEmpty(next)}
	for i, a := range apps {
		out.Items[i] = fromStoreApplication(a)
	}
	return out, nil
}

// CreateApplication creates an application; its audience defaults to its id.
func (h *Handlers) CreateApplication(ctx context.Context, req api.CreateApplicationRequestObject) (api.CreateApplicationResponseObject, error) {
	b := req.Body
	id := uuid.NewString()
	a := store.Application{
		ID: id, Name: b.Name, Audience: id, CreatedAt: time.Now().UTC(),
		AccessTokenTTL: auth.DefaultAccessTokenTTL, RefreshTokenTTL: auth.DefaultRefreshTokenTTL,
	}
	applyApplication(&a, b.Audience, b.AccessTokenTtl, b.RefreshTokenTtl)
	a.Scopes = []string{}
	if err := applyScopes(&a, b.Scopes); err != nil {
		return nil, err
	}
	if err := h.st.CreateApplication(ctx, a); err != nil {
		return nil, err
	}
	return api.CreateApplication201JSONResponse(fromStoreApplication(a)), nil
}

func applyApplication(a *store.Application, audience *string, accessTTL, refreshTTL *int) {
	if audience != nil {
		a.Audience = *audience
	}
	if accessTTL != nil {
		a.AccessTokenTTL = seconds(*accessTTL)
	}
	if refreshTTL != nil {
		a.RefreshTokenTTL = seconds(*refreshTTL)
	}
}

// GetApplication gets an application.
func (h *Handlers) GetApplication(ctx context.Context, req api.GetApplicationRequestObject) (api.GetApplicationResponseObject, error) {
	a, err := h.st.GetApplication(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.GetApplication200JSONResponse(fromStoreApplication(a)), nil
}

// UpdateApplication changes the fields given.
func (h *Handlers) UpdateApplication(ctx context.Context, req api.UpdateApplicationRequestObject) (api.UpdateApplicationResponseObject, error) {
	a, err := h.st.GetApplication(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	b := req.Body
	if b.Name != nil {
		a.Name = *b.Name
	}
	applyApplication(&a, b.Audience, b.AccessTokenTtl, b.RefreshTokenTtl)
	if err := applyScopes(&a, b.Scopes); err != nil {
		return nil, err
	}
	if err := h.st.UpdateApplication(ctx, a); err != nil {
		return nil, err
	}
	if a.IsDefault {
		// Its audience is gatehouse's own: this node takes it at once,
		// the others at their next key reload.
		if err := h.svc.ReloadOwnAudience(ctx); err != nil {
			return nil, err
		}
	}
	return api.UpdateApplication200JSONResponse(fromStoreApplication(a)), nil
}

// DeleteApplication deletes an application other than the default one.
func (h *Handlers) DeleteApplication(ctx context.Context, req api.DeleteApplicationRequestObject) (api.DeleteApplicationResponseObject, error) {
	if err := h.st.DeleteApplication(ctx, req.Id.String()); err != nil {
		return nil, err
	}
	return api.DeleteApplication204Response{}, nil
}

// ListApplicationMembers lists the users who may log in to an application.
func (h *Handlers) ListApplicationMembers(ctx context.Context, req api.ListApplicationMembersRequestObject) (api.ListApplicationMembersResponseObject, error) {
	a, err := h.st.GetApplication(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	// Every user is a member of the default application; the contract
	// lists none, so applications:read does not list every user.
	if a.IsDefault {
		return api.ListApplicationMembers200JSONResponse{Items: []api.User{}}, nil
	}
	us, next, err := h.st.ListMembers(ctx, req.Id.String(), page(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	return api.ListApplicationMembers200JSONResponse{Items: fromStoreUsers(h.svc, us), NextCursor: nonEmpty(next)}, nil
}

// AddApplicationMember lets a user log in to an application.
func (h *Handlers) AddApplicationMember(ctx context.Context, req api.AddApplicationMemberRequestObject) (api.AddApplicationMemberResponseObject, error) {
	// PUT is idempotent: adding a member again is no conflict.
	if err := h.st.AddMember(ctx, req.Id.String(), req.UserId.String()); err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, err
	}
	return api.AddApplicationMember204Response{}, nil
}

// RemoveApplicationMember stops a user from logging in to an application.
func (h *Handlers) RemoveApplicationMember(ctx context.Context, req api.RemoveApplicationMemberRequestObject) (api.RemoveApplicationMemberResponseObject, error) {
	if err := h.st.RemoveMember(ctx, req.Id.String(), req.UserId.String()); err != nil {
		return nil, err
	}
	return api.RemoveApplicationMember204Response{}, nil
}
