-- The PostgreSQL edition of store/migrations/sqlite/00001_init.sql: the same
-- tables, columns, constraints and indexes, with the same version number.
-- Times are BIGINT unix nanoseconds (UTC); the zero time.Time is stored as
-- the smallest BIGINT. username_key and email_key hold the Unicode
-- case-folded username and e-mail (strings.ToLower(strings.ToUpper(s)),
-- computed in Go, so both backends fold alike). Keys and ids are compared
-- and ordered bytewise (COLLATE "C"), as SQLite's BINARY collation does,
-- whatever the database's default collation: paging order and uniqueness
-- are the same on both backends.

-- +goose Up
CREATE TABLE roles (
    name   TEXT COLLATE "C" PRIMARY KEY,
    code   BIGINT  NOT NULL,
    scopes TEXT    NOT NULL DEFAULT '' -- space-separated
);

CREATE TABLE users (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    username            TEXT    NOT NULL,
    username_key        TEXT COLLATE "C" NOT NULL UNIQUE,
    email               TEXT,            -- NULL: no e-mail
    email_key           TEXT COLLATE "C" UNIQUE,
    first_name          TEXT    NOT NULL DEFAULT '',
    last_name           TEXT    NOT NULL DEFAULT '',
    role                TEXT COLLATE "C" NOT NULL REFERENCES roles (name),
    password_hash       TEXT    NOT NULL DEFAULT '',
    password_changed_at BIGINT  NOT NULL,
    password_expires_at BIGINT,          -- NULL: never expires
    disabled            BOOLEAN NOT NULL DEFAULT FALSE,
    failed_attempts     BIGINT  NOT NULL DEFAULT 0,
    locked_until        BIGINT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX users_created_at_id ON users (created_at, id);
CREATE INDEX users_role ON users (role);

CREATE TABLE applications (
    id                        TEXT COLLATE "C" PRIMARY KEY,
    name                      TEXT COLLATE "C" NOT NULL UNIQUE,
    audience                  TEXT    NOT NULL,
    access_token_ttl_seconds  BIGINT  NOT NULL,
    refresh_token_ttl_seconds BIGINT  NOT NULL,
    is_default                BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                BIGINT  NOT NULL
);
-- At most one default application.
CREATE UNIQUE INDEX applications_one_default ON applications (is_default) WHERE is_default;
CREATE INDEX applications_created_at_id ON applications (created_at, id);

CREATE TABLE app_members (
    app_id  TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_members_user_id ON app_members (user_id);

CREATE TABLE signing_keys (
    kid         TEXT COLLATE "C" PRIMARY KEY,
    alg         TEXT    NOT NULL,
    private_key BYTEA   NOT NULL,
    created_at  BIGINT  NOT NULL,
    retired_at  BIGINT            -- NULL: active
);
CREATE INDEX signing_keys_created_at ON signing_keys (created_at);

CREATE TABLE refresh_families (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id     TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT              -- NULL: live
);
CREATE INDEX refresh_families_user_id ON refresh_families (user_id);
CREATE INDEX refresh_families_app_id ON refresh_families (app_id);

CREATE TABLE refresh_tokens (
    hash       TEXT COLLATE "C" PRIMARY KEY,
    family_id  TEXT COLLATE "C" NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    app_id     TEXT    NOT NULL,
    scope      TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT              -- NULL: not rotated yet
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE revoked_access_tokens (
    jti        TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);

CREATE TABLE audit_events (
    id         TEXT COLLATE "C" PRIMARY KEY,
    time       BIGINT  NOT NULL,
    action     TEXT COLLATE "C" NOT NULL,
    outcome    TEXT    NOT NULL,
    actor_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    subject_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    client_ip  TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    dialect    TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
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
