-- The PostgreSQL edition of store/migrations/sqlite/00005_email_accounts.sql.

-- +goose Up
-- Accounts by e-mail. email_verified: the address was confirmed with a
-- mailed token (or an administrator said so).
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- Mailed tokens (verification, reset, invitation): only the hex SHA-256 of
-- the token is kept. address_key is the folded address it was mailed to.
-- used_at is set when it is spent or voided by a newer one of its kind.
-- A row without a user is the dummy a forgotten-password request for an
-- unknown address writes, so that it does the same work as for a known
-- one; no one holds its token and it matches no user.
CREATE TABLE email_tokens (
    hash        TEXT COLLATE "C" PRIMARY KEY,
    user_id     TEXT COLLATE "C" REFERENCES users (id) ON DELETE CASCADE, -- NULL: a dummy
    kind        TEXT   NOT NULL,
    address_key TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
-- The void of the older tokens looks up the unused ones of a user and kind.
CREATE INDEX email_tokens_user_kind ON email_tokens (user_id, kind, used_at);

-- One row per mail sent, for the per-address
-- limits; no foreign key: a forgotten-password request for an unknown
-- address counts too.
CREATE TABLE mail_sends (
    address_key TEXT COLLATE "C" NOT NULL,
    sent_at     BIGINT NOT NULL
);
CREATE INDEX mail_sends_address ON mail_sends (address_key, sent_at);

-- +goose Down
DROP TABLE mail_sends;
DROP TABLE email_tokens;
ALTER TABLE users DROP COLUMN email_verified;
