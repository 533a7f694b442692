-- Times are INTEGER unix nanoseconds (UTC); the zero time.Time is stored as
-- the smallest INTEGER. username_key and email_key hold the Unicode
-- case-folded username and e-mail (SQLite's NOCASE and lower() fold ASCII
-- only), so uniqueness and lookups are case-insensitive beyond ASCII.

-- +goose Up
CREATE TABLE roles (
    name   TEXT    PRIMARY KEY,
    code   INTEGER NOT NULL,
    scopes TEXT    NOT NULL DEFAULT '' -- space-separated
) STRICT;

CREATE TABLE users (
    id                  TEXT    PRIMARY KEY,
    username            TEXT    NOT NULL,
    username_key        TEXT    NOT NULL UNIQUE,
    email               TEXT,            -- NULL: no e-mail
    email_key           TEXT    UNIQUE,
    first_name          TEXT    NOT NULL DEFAULT '',
    last_name           TEXT    NOT NULL DEFAULT '',
    role                TEXT    NOT NULL REFERENCES roles (name),
    password_hash       TEXT    NOT NULL DEFAULT '',
    password_changed_at INTEGER NOT NULL,
    password_expires_at INTEGER,         -- NULL: never expires
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until        INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX users_created_at_id ON users (created_at, id);
CREATE INDEX users_role ON users (role);

CREATE TABLE applications (
    id                        TEXT    PRIMARY KEY,
    name                      TEXT    NOT NULL UNIQUE,
    audience                  TEXT    NOT NULL,
    access_token_ttl_seconds  INTEGER NOT NULL,
    refresh_token_ttl_seconds INTEGER NOT NULL,
    is_default                INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at                INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX applications_one_default ON applications (is_default) WHERE is_default = 1;
CREATE INDEX applications_created_at_id ON applications (created_at, id);

CREATE TABLE app_members (
    app_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (app_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX app_members_user_id ON app_members (user_id);

CREATE TABLE signing_keys (
    kid         TEXT    PRIMARY KEY,
    alg         TEXT    NOT NULL,
    private_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER           -- NULL: active
) STRICT;
CREATE INDEX signing_keys_created_at ON signing_keys (created_at);

CREATE TABLE refresh_families (
    id         TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id     TEXT    NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER             -- NULL: live
) STRICT;
CREATE INDEX refresh_families_user_id ON refresh_families (user_id);
CREATE INDEX refresh_families_app_id ON refresh_families (app_id);

CREATE TABLE refresh_tokens (
    hash       TEXT    PRIMARY KEY,
    family_id  TEXT    NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    app_id     TEXT    NOT NULL,
    scope      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER             -- NULL: not rotated yet
) STRICT;
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE revoked_access_tokens (
    jti        TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);

CREATE TABLE audit_events (
    id         TEXT    PRIMARY KEY,
    time       INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    actor_id   TEXT    NOT NULL DEFAULT '',
    subject_id TEXT    NOT NULL DEFAULT '',
    client_ip  TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    dialect    TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_events_time_id ON audit_events (time, id);
CREATE INDEX audit_events_actor_id ON audit_events (actor_id, time);
CREATE INDEX audit_events_subject_id ON audit_events (subject_id, time);
CREATE INDEX audit_events_action ON audit_events (action, time);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE revoked_access_tokens;
DROP TABLE refresh_tokens;
DROP TABLE refresh_families;
DROP TABLE signing_keys;
DROP TABLE app_members;
DROP TABLE applications;
DROP TABLE users;
DROP TABLE roles;
