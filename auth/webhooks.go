package auth

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/webhook"
)

// WebhookEvents are the events an endpoint may hear: every action the
// audit log records.
var WebhookEvents = []string{
	"api_key.create", "api_key.revoke",
	"application.create", "application.delete", "application.update",
	"application.member.add", "application.member.remove",
	"application_jwks.put", "application_secret.create", "application_secret.delete",
	"client.authenticate", "client_credentials", "code.reuse",
	"email.verify", "lockout", "login", "mail.send",
	"mfa.challenge", "mfa.enable", "mfa.enroll", "mfa.recovery_codes", "mfa.remove", "mfa.verify",
	"password.forgot", "password.reset",
	"refresh", "refresh.reuse",
	"role.delete", "role.put",
	"session.revoke", "signing_key.rotate", "signup", "token.revoke",
	"user.create", "user.delete", "user.invite", "user.password", "user.update",
	"webhook.create", "webhook.delete", "webhook.delivery_retry", "webhook.disable", "webhook.secret_rotate", "webhook.update",
}

// WebhookSecretOverlap is how long a rotated-out secret keeps signing
// beside the new one, so receivers can switch without missing a message.
const WebhookSecretOverlap = 24 * time.Hour

const kindWebhook = "webhook"

// WebhookInput is an endpoint as created.
type WebhookInput struct {
	URL         string
	Events      []string
	Description string
}

// WebhookPatch is the changes of an update; nil fields stay as they are.
type WebhookPatch struct {
	URL         *string
	Events      *[]string
	Description *string
	Disabled    *bool
}

// checkWebhook checks an endpoint's URL (the address guard included) and
// events; a bad one is a *PolicyError naming the field.
func (s *Service) checkWebhook(ctx context.Context, url string, events []string) error {
	if err := s.cfg.WebhookGuard.CheckURL(ctx, url); err != nil {
		return &PolicyError{Field: "url", Reason: err.Error()}
	}
	if len(events) == 0 {
		return &PolicyError{Field: "events", Reason: "must name at least one event"}
	}
	for i, e := range events {
		if !slices.Contains(WebhookEvents, e) {
			return &PolicyError{Field: fmt.Sprintf("events.%d", i), Reason: fmt.Sprintf("%q is not an event (an audit action)", e)}
		}
	}
	return nil
}

// newWebhookSecret returns a new secret for the endpoint id and its
// sealed form.
func (s *Service) newWebhookSecret(id string) (string, []byte, error) {
	key := make([]byte, 32)
	if _, err := s.cfg.Rand.Read(key); err != nil {
		return "", nil, fmt.Errorf("random: %w", err)
	}
	secret := webhook.EncodeSecret(key)
	sealed, err := s.sealSecret(kindWebhook, id, []byte(secret))
	return secret, sealed, err
}

// CreateWebhook checks and stores an endpoint and returns its secret,
// this once, with what is stored.
func (s *Service) CreateWebhook(ctx context.Context, in WebhookInput, actor string, cl Origin) (string, store.Webhook, error) {
	if err := s.checkWebhook(ctx, in.URL, in.Events); err != nil {
		return "", store.Webhook{}, err
	}
	id, err := s.newID()
	if err != nil {
		return "", store.Webhook{}, err
	}
	secret, sealed, err := s.newWebhookSecret(id)
	if err != nil {
		return "", store.Webhook{}, err
	}
	now := s.now().Truncate(time.Second)
	events := slices.Compact(slices.Sorted(slices.Values(in.Events)))
	w := store.Webhook{ID: id, URL: in.URL, Description: in.Description, Events: events, Secret: sealed, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateWebhook(ctx, w); err != nil {
		return "", store.Webhook{}, err
	}
	s.Audit(ctx, cl.event("webhook.create", "success", actor, id, ""))
	return secret, w, nil
}

// UpdateWebhook applies p to the endpoint id and returns it.
func (s *Service) UpdateWebhook(ctx context.Context, id string, p WebhookPatch, actor string, cl Origin) (store.Webhook, error) {
	w, err := s.st.GetWebhook(ctx, id)
	if err != nil {
		return store.Webhook{}, err
	}
	if p.URL != nil {
		w.URL = *p.URL
	}
	if p.Events != nil {
		w.Events = slices.Compact(slices.Sorted(slices.Values(*p.Events)))
	}
	if p.Description != nil {
		w.Description = *p.Description
	}
	if p.Disabled != nil {
		w.Disabled = *p.Disabled
	}
	if p.URL != nil || p.Events != nil {
		events := w.Events
		if p.Events != nil {
			events = *p.Events
		}
		if err := s.checkWebhook(ctx, w.URL, events); err != nil {
			return store.Webhook{}, err
		}
	}
	w.UpdatedAt = s.now().Truncate(time.Second)
	if err := s.st.UpdateWebhook(ctx, w); err != nil {
		return store.Webhook{}, err
	}
	s.Audit(ctx, cl.event("webhook.update", "success", actor, id, ""))
	return w, nil
}

// DeleteWebhook deletes the endpoint id and its deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, id, actor string, cl Origin) error {
	if err := s.st.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("webhook.delete", "success", actor, id, ""))
	return nil
}

// RotateWebhookSecret gives the endpoint id a new secret and returns it,
// this once, with the time until which the old one still signs beside it.
func (s *Service) RotateWebhookSecret(ctx context.Context, id, actor string, cl Origin) (string, time.Time, error) {
	w, err := s.st.GetWebhook(ctx, id)
	if err != nil {
		return "", time.Time{}, err
	}
	secret, sealed, err := s.newWebhookSecret(id)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now().Truncate(time.Second)
	until := now.Add(WebhookSecretOverlap)
	if err := s.st.RotateWebhookSecret(ctx, id, sealed, w.Secret, until, now); err != nil {
		return "", time.Time{}, err
	}
	s.Audit(ctx, cl.event("webhook.secret_rotate", "success", actor, id, ""))
	return secret, until, nil
}

// RetryWebhookDelivery makes a delivery due again now.
func (s *Service) RetryWebhookDelivery(ctx context.Context, webhookID, eventID, actor string, cl Origin) (store.WebhookDelivery, error) {
	d, err := s.st.RetryWebhookDelivery(ctx, webhookID, eventID, s.now())
	if err != nil {
		return store.WebhookDelivery{}, err
	}
	s.Audit(ctx, cl.event("webhook.delivery_retry", "success", actor, webhookID, "event "+eventID))
	return d, nil
}

// WebhookKeys returns the signing keys of an endpoint at now: its
// secret's and, during a rotation's overlap, its previous secret's.
func (s *Service) WebhookKeys(w store.Webhook, now time.Time) ([][]byte, error) {
	sealed := [][]byte{w.Secret}
	if w.PreviousSecret != nil && w.PreviousUntil != nil && now.Before(*w.PreviousUntil) {
		sealed = append(sealed, w.PreviousSecret)
	}
	keys := make([][]byte, 0, len(sealed))
	for _, v := range sealed {
		secret, err := s.openSecret(kindWebhook, w.ID, v)
		if err != nil {
			return nil, err
		}
		key, err := webhook.DecodeSecret(string(secret))
		if err != nil {
			return nil, fmt.Errorf("webhook %s: %w", w.ID, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}
