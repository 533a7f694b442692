-- The PostgreSQL edition of store/migrations/sqlite/00008_client_credentials.sql.

-- +goose Up
-- Confidential applications (the client_credentials grant): the scopes an
-- application may ask for (space-separated, as roles keep theirs), its JWK
-- Set for private_key_jwt (JSON text, '' when none), its secrets (only the
-- SHA-256 kept) and the jti of every client assertion accepted, until the
-- assertion expires, so that none is accepted twice.
ALTER TABLE applications ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
CREATE TABLE application_secrets (
    id         TEXT COLLATE "C" PRIMARY KEY,
    app_id     TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    hash       TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX application_secrets_app ON application_secrets (app_id, created_at, id);
CREATE TABLE client_assertion_jtis (
    app_id     TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    jti        TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, jti)
);
CREATE INDEX client_assertion_jtis_expiry ON client_assertion_jtis (expires_at);

-- +goose Down
DROP TABLE client_assertion_jtis;
DROP TABLE application_secrets;
ALTER TABLE applications DROP COLUMN jwks;
ALTER TABLE applications DROP COLUMN scopes;
