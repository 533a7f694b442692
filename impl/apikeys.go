package impl

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(t.UTC())
}

func fromStoreAPIKey(k store.APIKey) api.ApiKey {
	return api.ApiKey{
		Id: uuid.MustParse(k.ID), Name: k.Name, KeyHint: k.Hint, CreatedAt: k.CreatedAt.UTC(),
		ExpiresAt: utc(k.ExpiresAt), LastUsedAt: utc(k.LastUsedAt),
	}
}

// ListApiKeys lists the caller's own keys, masked.
func (h *Handlers) ListApiKeys(ctx context.Context, req api.ListApiKeysRequestObject) (api.ListApiKeysResponseObject, error) {
	keys, next, err := h.svc.ListAPIKeys(ctx, principalFrom(ctx).UserID, page(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	out := api.ListApiKeys200JSONResponse{Items: make([]api.ApiKey, len(keys)), NextCursor: nonEmpty(next)}
	for i, k := range keys {
		out.Items[i] = fromStoreAPIKey(k)
	}
	return out, nil
}

// CreateApiKey makes a key for the caller and shows it in full, once.
func (h *Handlers) CreateApiKey(ctx context.Context, req api.CreateApiKeyRequestObject) (api.CreateApiKeyResponseObject, error) {
	key, k, err := h.svc.CreateAPIKey(ctx, principalFrom(ctx).UserID, req.Body.Name, utc(req.Body.ExpiresAt), originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.CreateApiKey201JSONResponse{
		Body: api.ApiKeyCreated{
			Id: uuid.MustParse(k.ID), Name: k.Name, Key: key, KeyHint: k.Hint,
			CreatedAt: k.CreatedAt.UTC(), ExpiresAt: utc(k.ExpiresAt),
		},
		Headers: api.CreateApiKey201ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

// GetApiKey returns one of the caller's keys, masked.
func (h *Handlers) GetApiKey(ctx context.Context, req api.GetApiKeyRequestObject) (api.GetApiKeyResponseObject, error) {
	k, err := h.svc.GetAPIKey(ctx, principalFrom(ctx).UserID, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.GetApiKey200JSONResponse(fromStoreAPIKey(k)), nil
}

// DeleteApiKey revokes one of the caller's keys.
func (h *Handlers) DeleteApiKey(ctx context.Context, req api.DeleteApiKeyRequestObject) (api.DeleteApiKeyResponseObject, error) {
	if err := h.svc.RevokeAPIKey(ctx, principalFrom(ctx).UserID, req.Id.String(), originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.DeleteApiKey204Response{}, nil
}

// AuthHeaderAdd is the user-login dialect's POST /authheader/add.
func (h *Handlers) AuthHeaderAdd(ctx context.Context, req api.AuthHeaderAddRequestObject) (api.AuthHeaderAddResponseObject, error) {
	key, k, err := h.svc.CreateAPIKey(ctx, principalFrom(ctx).UserID, req.Body.Name, nil, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.AuthHeaderAdd200JSONResponse{Id: k.ID, Name: k.Name, Token: key, Created: k.CreatedAt.UTC()}, nil
}

// AuthHeaderList is GET /authheader/list: every key, its token masked.
func (h *Handlers) AuthHeaderList(ctx context.Context, _ api.AuthHeaderListRequestObject) (api.AuthHeaderListResponseObject, error) {
	out := api.AuthHeaderList200JSONResponse{}
	for p := (store.Page{Limit: 500}); ; {
		keys, next, err := h.svc.ListAPIKeys(ctx, principalFrom(ctx).UserID, p)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			out = append(out, api.AuthHeader{Id: k.ID, Name: k.Name, Token: k.Hint, Created: k.CreatedAt.UTC()})
		}
		if next == "" {
			return out, nil
		}
		p.After = next
	}
}

// AuthHeaderDelete is POST /authheader/delete {text}: the key itself.
func (h *Handlers) AuthHeaderDelete(ctx context.Context, req api.AuthHeaderDeleteRequestObject) (api.AuthHeaderDeleteResponseObject, error) {
	if err := h.svc.RevokeAPIKeyBySecret(ctx, principalFrom(ctx).UserID, req.Body.Text, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.AuthHeaderDelete200JSONResponse{Message: "Success"}, nil
}

// ListAuditEvents lists audit events, newest first.
func (h *Handlers) ListAuditEvents(ctx context.Context, req api.ListAuditEventsRequestObject) (api.ListAuditEventsResponseObject, error) {
	p := req.Params
	f := store.AuditFilter{ActorID: deref(p.ActorId), SubjectID: deref(p.SubjectId), Action: deref(p.Action)}
	if p.Since != nil {
		f.Since = *p.Since
	}
	if p.Until != nil {
		f.Until = *p.Until
	}
	events, next, err := h.st.ListAuditEvents(ctx, f, page(p.Limit, p.Cursor))
	if err != nil {
		return nil, err
	}
	out := api.ListAuditEvents200JSONResponse{Items: make([]api.AuditEvent, len(events)), NextCursor: nonEmpty(next)}
	for i, e := range events {
		out.Items[i] = api.AuditEvent{
			Id: uuid.MustParse(e.ID), Time: e.Time.UTC(), Action: e.Action, Outcome: api.AuditEventOutcome(e.Outcome),
			ActorId: nonEmpty(e.ActorID), SubjectId: nonEmpty(e.SubjectID), ClientIp: nonEmpty(e.ClientIP),
			UserAgent: nonEmpty(e.UserAgent), Dialect: nonEmpty(e.Dialect), Detail: nonEmpty(e.Detail),
		}
	}
	return out, nil
}
