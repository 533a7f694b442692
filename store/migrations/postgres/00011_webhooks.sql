-- The PostgreSQL edition of store/migrations/sqlite/00011_webhooks.sql.

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
    id             TEXT COLLATE "C" PRIMARY KEY,
    url            TEXT COLLATE "C" NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    secret         BYTEA NOT NULL,
    previous_secret BYTEA,
    previous_until BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX webhooks_created ON webhooks (created_at, id);
CREATE TABLE webhook_events (
    event      TEXT COLLATE "C" NOT NULL,
    webhook_id TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    PRIMARY KEY (event, webhook_id)
);
CREATE INDEX webhook_events_webhook ON webhook_events (webhook_id);
CREATE TABLE webhook_deliveries (
    webhook_id      TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT COLLATE "C" NOT NULL,
    event           TEXT COLLATE "C" NOT NULL,
    created_at      BIGINT NOT NULL,
    state           TEXT COLLATE "C" NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    last_attempt_at BIGINT,
    last_status     INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    BIGINT,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, created_at, event_id);
CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (expires_at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhooks;
