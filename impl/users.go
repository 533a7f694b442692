package impl

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

// ListUsers lists users, a page at a time.
func (h *Handlers) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	us, next, err := h.st.ListUsers(ctx, store.UserFilter{Query: deref(req.Params.Q)}, page(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	return api.ListUsers200JSONResponse{Items: fromStoreUsers(h.svc, us), NextCursor: nonEmpty(next)}, nil
}

// CreateUser creates a user.
func (h *Handlers) CreateUser(ctx context.Context, req api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	b := req.Body
	u, err := h.svc.CreateUser(ctx, auth.NewUser{
		Username: b.Username, Password: b.Password, Email: string(deref(b.Email)),
		FirstName: deref(b.FirstName), LastName: deref(b.LastName), Role: deref(b.Role),
		Invite: deref(b.Invite), EmailVerified: deref(b.EmailVerified),
	}, principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.CreateUser201JSONResponse(fromStoreUser(h.svc, u)), nil
}

// GetUser gets a user.
func (h *Handlers) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := h.st.GetUser(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(fromStoreUser(h.svc, u)), nil
}

// UpdateUser changes the fields given.
func (h *Handlers) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	u, err := h.st.GetUser(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	before, b := u, req.Body
	applyProfile(&u, b.Email, b.FirstName, b.LastName)
	if b.Role != nil {
		u.Role = *b.Role
	}
	if b.Disabled != nil {
		u.Disabled = *b.Disabled
	}
	if b.PasswordExpiresAt.IsSpecified() {
		if b.PasswordExpiresAt.IsNull() {
			u.PasswordExpiresAt = nil
		} else {
			t := b.PasswordExpiresAt.MustGet().UTC()
			u.PasswordExpiresAt = &t
		}
	}
	if u, err = h.svc.UpdateUser(ctx, before, u, principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse(fromStoreUser(h.svc, u)), nil
}

// applyProfile sets the profile fields that were given.
func applyProfile(u *store.User, email *api.Email, first, last *string) {
	if email != nil {
		if !strings.EqualFold(u.Email, string(*email)) {
			u.EmailVerified = false // as the store clears it: a new address
		}
		u.Email = string(*email)
	}
	if first != nil {
		u.FirstName = *first
	}
	if last != nil {
		u.LastName = *last
	}
}

// DeleteUser deletes a user.
func (h *Handlers) DeleteUser(ctx context.Context, req api.DeleteUserRequestObject) (api.DeleteUserResponseObject, error) {
	if err := h.svc.DeleteUser(ctx, req.Id.String(), principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.DeleteUser204Response{}, nil
}

// SetUserPassword is an administrator's password reset.
func (h *Handlers) SetUserPassword(ctx context.Context, req api.SetUserPasswordRequestObject) (api.SetUserPasswordResponseObject, error) {
	if err := h.svc.SetPassword(ctx, req.Id.String(), req.Body.NewPassword, principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.SetUserPassword204Response{}, nil
}

// GetMe returns the authenticated user.
func (h *Handlers) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	u, err := h.me(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetMe200JSONResponse(fromStoreUser(h.svc, u)), nil
}

// UpdateMe changes the authenticated user's profile.
func (h *Handlers) UpdateMe(ctx context.Context, req api.UpdateMeRequestObject) (api.UpdateMeResponseObject, error) {
	u, err := h.me(ctx)
	if err != nil {
		return nil, err
	}
	before := u
	applyProfile(&u, req.Body.Email, req.Body.FirstName, req.Body.LastName)
	if u, err = h.svc.UpdateUser(ctx, before, u, u.ID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.UpdateMe200JSONResponse(fromStoreUser(h.svc, u)), nil
}

// ChangeMyPassword changes the authenticated user's password.
func (h *Handlers) ChangeMyPassword(ctx context.Context, req api.ChangeMyPasswordRequestObject) (api.ChangeMyPasswordResponseObject, error) {
	u, err := h.me(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.svc.ChangePassword(ctx, u.ID, req.Body.CurrentPassword, req.Body.NewPassword, principalFrom(ctx).SessionID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.ChangeMyPassword204Response{}, nil
}

// me loads the principal's user; a token whose user is gone no longer
// authenticates anyone.
func (h *Handlers) me(ctx context.Context) (store.User, error) {
	p := principalFrom(ctx)
	if p.user != nil {
		return *p.user, nil
	}
	u, err := h.st.GetUser(ctx, p.UserID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, &Error{Kind: KindUnauthenticated, Detail: "the token's user no longer exists", TokenGiven: true}
		}
		return store.User{}, err
	}
	return u, nil
}
