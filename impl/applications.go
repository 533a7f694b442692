package impl

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
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
	c := applicationChange(api.ApplicationUpdate{
		Name: &b.Name, Audience: b.Audience, AccessTokenTtl: b.AccessTokenTtl, RefreshTokenTtl: b.RefreshTokenTtl,
		Scopes: b.Scopes, RedirectUris: b.RedirectUris, PostLogoutRedirectUris: b.PostLogoutRedirectUris,
		ClientType: b.ClientType, FirstParty: b.FirstParty,
	})
	a, err := h.svc.CreateApplication(ctx, c, principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.CreateApplication201JSONResponse(fromStoreApplication(a)), nil
}

// applicationChange is the auth change of a request's application fields
// (a creation's too); the TTLs are in seconds.
func applicationChange(b api.ApplicationUpdate) auth.ApplicationChange {
	c := auth.ApplicationChange{
		Name: b.Name, Audience: b.Audience, Scopes: b.Scopes,
		RedirectURIs: b.RedirectUris, PostLogoutRedirectURIs: b.PostLogoutRedirectUris, FirstParty: b.FirstParty,
	}
	if b.AccessTokenTtl != nil {
		c.AccessTokenTTL = ptr(seconds(*b.AccessTokenTtl))
	}
	if b.RefreshTokenTtl != nil {
		c.RefreshTokenTTL = ptr(seconds(*b.RefreshTokenTtl))
	}
	if b.ClientType != nil {
		c.ClientType = ptr(string(*b.ClientType))
	}
	return c
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
	b := req.Body
	a, err := h.svc.UpdateApplication(ctx, req.Id.String(), applicationChange(*b), principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.UpdateApplication200JSONResponse(fromStoreApplication(a)), nil
}

// DeleteApplication deletes an application other than the default one.
func (h *Handlers) DeleteApplication(ctx context.Context, req api.DeleteApplicationRequestObject) (api.DeleteApplicationResponseObject, error) {
	if err := h.svc.DeleteApplication(ctx, req.Id.String(), principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
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
	if err := h.svc.AddMember(ctx, req.Id.String(), req.UserId.String(), principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.AddApplicationMember204Response{}, nil
}

// RemoveApplicationMember stops a user from logging in to an application
// and ends its sessions of it.
func (h *Handlers) RemoveApplicationMember(ctx context.Context, req api.RemoveApplicationMemberRequestObject) (api.RemoveApplicationMemberResponseObject, error) {
	if err := h.svc.RemoveMember(ctx, req.Id.String(), req.UserId.String(), principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.RemoveApplicationMember204Response{}, nil
}
