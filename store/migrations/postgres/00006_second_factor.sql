-- The PostgreSQL edition of store/migrations/sqlite/00006_second_factor.sql.

-- +goose Up
ALTER TABLE roles ADD COLUMN mfa_required BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE refresh_families ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

CREATE TABLE totp_factors (
    user_id      TEXT   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, hash)
);

CREATE TABLE mfa_tokens (
    hash       TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id     TEXT    NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope      TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    used_at    BIGINT
);
CREATE INDEX mfa_tokens_expires_at ON mfa_tokens (expires_at);
CREATE INDEX mfa_tokens_user_id ON mfa_tokens (user_id);

-- +goose Down
DROP TABLE mfa_tokens;
DROP TABLE recovery_codes;
DROP TABLE totp_factors;
ALTER TABLE refresh_families DROP COLUMN amr;
ALTER TABLE roles DROP COLUMN mfa_required;
