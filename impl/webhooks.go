package impl

import (
	"context"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
	"github.com/gatehouse-auth/gatehouse/store"
)

// fromStoreWebhook shows an endpoint, never its secret.
func fromStoreWebhook(w store.Webhook) api.Webhook {
	return api.Webhook{
		Id: uuid.MustParse(w.ID), Url: w.URL, Events: orEmpty(w.Events), Description: w.Description, Disabled: w.Disabled,
		PreviousSecretExpiresAt: utc(w.PreviousUntil), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC(),
	}
}

func fromStoreDelivery(d store.WebhookDelivery) api.WebhookDelivery {
	out := api.WebhookDelivery{
		Id: uuid.MustParse(d.EventID), Event: d.Event, State: api.WebhookDeliveryState(d.State), Attempts: d.Attempts,
		NextAttemptAt: utc(d.NextAttemptAt), LastAttemptAt: utc(d.LastAttemptAt), DeliveredAt: utc(d.DeliveredAt),
		LastError: nonEmpty(d.LastError), CreatedAt: d.CreatedAt.UTC(),
	}
	if d.LastStatus != 0 {
		out.LastStatus = ptr(d.LastStatus)
	}
	return out
}

// ListWebhooks lists the webhook endpoints.
func (h *Handlers) ListWebhooks(ctx context.Context, req api.ListWebhooksRequestObject) (api.ListWebhooksResponseObject, error) {
	hooks, next, err := h.st.ListWebhooks(ctx, page(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	out := api.ListWebhooks200JSONResponse{Items: make([]api.Webhook, len(hooks)), NextCursor: nonEmpty(next)}
	for i, w := range hooks {
		out.Items[i] = fromStoreWebhook(w)
	}
	return out, nil
}

// CreateWebhook creates an endpoint; its secret is shown this once.
func (h *Handlers) CreateWebhook(ctx context.Context, req api.CreateWebhookRequestObject) (api.CreateWebhookResponseObject, error) {
	b := req.Body
	secret, w, err := h.svc.CreateWebhook(ctx, auth.WebhookInput{URL: b.Url, Events: b.Events, Description: deref(b.Description)},
		principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	v := fromStoreWebhook(w)
	return api.CreateWebhook201JSONResponse{
		Body: api.WebhookCreated{
			Id: v.Id, Url: v.Url, Events: v.Events, Description: v.Description, Disabled: v.Disabled,
			CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Secret: secret,
		},
		Headers: api.CreateWebhook201ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

// GetWebhook reads an endpoint.
func (h *Handlers) GetWebhook(ctx context.Context, req api.GetWebhookRequestObject) (api.GetWebhookResponseObject, error) {
	w, err := h.st.GetWebhook(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.GetWebhook200JSONResponse(fromStoreWebhook(w)), nil
}

// UpdateWebhook changes an endpoint.
func (h *Handlers) UpdateWebhook(ctx context.Context, req api.UpdateWebhookRequestObject) (api.UpdateWebhookResponseObject, error) {
	b := req.Body
	w, err := h.svc.UpdateWebhook(ctx, req.Id.String(), auth.WebhookPatch{URL: b.Url, Events: b.Events, Description: b.Description, Disabled: b.Disabled},
		principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.UpdateWebhook200JSONResponse(fromStoreWebhook(w)), nil
}

// DeleteWebhook deletes an endpoint and its deliveries.
func (h *Handlers) DeleteWebhook(ctx context.Context, req api.DeleteWebhookRequestObject) (api.DeleteWebhookResponseObject, error) {
	if err := h.svc.DeleteWebhook(ctx, req.Id.String(), principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.DeleteWebhook204Response{}, nil
}

// RotateWebhookSecret gives an endpoint a new secret, shown this once.
func (h *Handlers) RotateWebhookSecret(ctx context.Context, req api.RotateWebhookSecretRequestObject) (api.RotateWebhookSecretResponseObject, error) {
	secret, until, err := h.svc.RotateWebhookSecret(ctx, req.Id.String(), principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookSecret200JSONResponse{
		Body:    api.WebhookSecret{Secret: secret, PreviousSecretExpiresAt: until.UTC()},
		Headers: api.RotateWebhookSecret200ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

// ListWebhookDeliveries lists an endpoint's deliveries.
func (h *Handlers) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	if _, err := h.st.GetWebhook(ctx, req.Id.String()); err != nil {
		return nil, err
	}
	ds, next, err := h.st.ListWebhookDeliveries(ctx, req.Id.String(), page(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	out := api.ListWebhookDeliveries200JSONResponse{Items: make([]api.WebhookDelivery, len(ds)), NextCursor: nonEmpty(next)}
	for i, d := range ds {
		out.Items[i] = fromStoreDelivery(d)
	}
	return out, nil
}

// RetryWebhookDelivery makes a delivery due again now.
func (h *Handlers) RetryWebhookDelivery(ctx context.Context, req api.RetryWebhookDeliveryRequestObject) (api.RetryWebhookDeliveryResponseObject, error) {
	d, err := h.svc.RetryWebhookDelivery(ctx, req.Id.String(), req.DeliveryId.String(), principalFrom(ctx).UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.RetryWebhookDelivery202JSONResponse(fromStoreDelivery(d)), nil
}
