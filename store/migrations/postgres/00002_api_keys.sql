-- The PostgreSQL edition of store/migrations/sqlite/00002_api_keys.sql.

-- +goose Up
-- API keys: only the SHA-256 of the key is kept; hint is its prefix and
-- last four characters, for lists.
CREATE TABLE api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    hash         TEXT COLLATE "C" NOT NULL UNIQUE,
    hint         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at, id);

-- +goose Down
DROP TABLE api_keys;
