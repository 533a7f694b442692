-- +goose Up
-- Webhooks (DESIGN.md "Webhooks"). An endpoint's secret is sealed under
-- the master key; during a rotation the previous one keeps signing until
-- previous_until. webhook_events lists the audit actions each endpoint
-- hears, keyed by action first: inserting an audit event reads it to
-- enqueue that event's deliveries in the same transaction (the outbox).
-- A delivery is one event for one endpoint; its id for receivers is the
-- event's, the same on every attempt. next_attempt_at is set while it is
-- pending (a claimed attempt pushes it past the attempt's lease) and
-- NULL once delivered or failed; expires_at is when the purge deletes it.
CREATE TABLE webhooks (
    id             TEXT PRIMARY KEY,
    url            TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    secret         BLOB NOT NULL,
    previous_secret BLOB,
    previous_until INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX webhooks_created ON webhooks (created_at, id);
CREATE TABLE webhook_events (
    event      TEXT NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    PRIMARY KEY (event, webhook_id)
);
CREATE INDEX webhook_events_webhook ON webhook_events (webhook_id);
CREATE TABLE webhook_deliveries (
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    INTEGER,
    expires_at      INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, created_at, event_id);
CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (expires_at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhooks;
