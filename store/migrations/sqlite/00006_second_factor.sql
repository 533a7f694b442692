-- +goose Up
-- A role may require a second factor of its users.
ALTER TABLE roles ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0 CHECK (mfa_required IN (0, 1));

-- The authentication methods (RFC 8176 amr, space-separated) of the login
-- that began a refresh family; every refresh of the family keeps them.
ALTER TABLE refresh_families ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- A user's TOTP factor: secret is sealed (AES-256-GCM under the master key),
-- never plain. Unconfirmed (confirmed_at NULL) until a first code is
-- accepted. last_step is the last RFC 6238 time step accepted, so a code is
-- accepted once.
CREATE TABLE totp_factors (
    user_id      TEXT    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,          -- NULL: enrolment not confirmed yet
    last_step    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Single-use recovery codes; only their hashes are kept.
CREATE TABLE recovery_codes (
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,            -- NULL: unused
    PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;

-- The mfa_token a password login of a user with a factor answers with:
-- only its hash kept, bound to user and application, single use, dead
-- after too many wrong codes.
CREATE TABLE mfa_tokens (
    hash       TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id     TEXT    NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER
) STRICT;
CREATE INDEX mfa_tokens_expires_at ON mfa_tokens (expires_at);
CREATE INDEX mfa_tokens_user_id ON mfa_tokens (user_id);

-- +goose Down
DROP TABLE mfa_tokens;
DROP TABLE recovery_codes;
DROP TABLE totp_factors;
ALTER TABLE refresh_families DROP COLUMN amr;
ALTER TABLE roles DROP COLUMN mfa_required;
