package impl

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

// ListRoles lists every role.
func (h *Handlers) ListRoles(ctx context.Context, _ api.ListRolesRequestObject) (api.ListRolesResponseObject, error) {
	rs, err := h.st.ListRoles(ctx)
	if err != nil {
		return nil, err
	}
	out := api.ListRoles200JSONResponse{Items: make([]api.Role, len(rs))}
	for i, r := range rs {
		out.Items[i] = fromStoreRole(r)
	}
	return out, nil
}

// GetRole gets a role.
func (h *Handlers) GetRole(ctx context.Context, req api.GetRoleRequestObject) (api.GetRoleResponseObject, error) {
	r, err := h.st.GetRole(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	return api.GetRole200JSONResponse(fromStoreRole(r)), nil
}

// PutRole creates or replaces a role.
func (h *Handlers) PutRole(ctx context.Context, req api.PutRoleRequestObject) (api.PutRoleResponseObject, error) {
	r, created, err := h.svc.PutRole(ctx, store.Role{Name: req.Name, Code: req.Body.Code, Scopes: req.Body.Scopes, MFARequired: deref(req.Body.MfaRequired)}, principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	if created {
		return api.PutRole201JSONResponse(fromStoreRole(r)), nil
	}
	return api.PutRole200JSONResponse(fromStoreRole(r)), nil
}

// DeleteRole deletes a role no user holds; the built-in roles stay.
func (h *Handlers) DeleteRole(ctx context.Context, req api.DeleteRoleRequestObject) (api.DeleteRoleResponseObject, error) {
	if err := h.svc.DeleteRole(ctx, req.Name, principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.DeleteRole204Response{}, nil
}

// ListSigningKeys lists the signing keys' public metadata.
func (h *Handlers) ListSigningKeys(ctx context.Context, _ api.ListSigningKeysRequestObject) (api.ListSigningKeysResponseObject, error) {
	ks, err := h.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := api.ListSigningKeys200JSONResponse{Items: make([]api.SigningKey, len(ks))}
	for i, k := range ks {
		out.Items[i] = fromStoreSigningKey(k)
	}
	return out, nil
}

// RotateSigningKey makes a new key and retires the old one: staged, or at
// once with immediate=true.
func (h *Handlers) RotateSigningKey(ctx context.Context, req api.RotateSigningKeyRequestObject) (api.RotateSigningKeyResponseObject, error) {
	k, err := h.svc.RotateSigningKey(ctx, string(deref(req.Params.Alg)), deref(req.Params.Immediate), principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.RotateSigningKey200JSONResponse(fromStoreSigningKey(k)), nil
}
