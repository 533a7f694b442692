-- The PostgreSQL edition of store/migrations/sqlite/00007_sessions.sql.

-- +goose Up
-- Sessions are refresh families: the family remembers its last use (the
-- time, client IP and user agent of its login or latest refresh); its
-- authentication methods are refresh_families.amr, from 00006. Families
-- from before this migration show their creation as their last use.
ALTER TABLE refresh_families ADD COLUMN last_used_at BIGINT;
ALTER TABLE refresh_families ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_families ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
UPDATE refresh_families SET last_used_at = created_at;
CREATE INDEX refresh_families_user_live ON refresh_families (user_id, created_at) WHERE revoked_at IS NULL;

-- The revocation log: every revoked access token (kind 'jti') and every
-- revoked session (kind 'sid', a family id), kept until expires_at, when
-- no token it denies can still be valid. Every node holds the log in
-- memory and reads only what changed since its last read. Sequence
-- numbers are handed out before commit, so they do not follow commit
-- order across nodes; xid (the writing transaction) does what seq cannot:
-- every row whose xid is below a snapshot's xmin was settled before that
-- snapshot, so a reader that keeps the xmin of its last read as its cursor
-- and reads the rows with xid >= cursor never misses a late commit. It
-- replaces the jti deny-list table.
CREATE TABLE revocations (
    seq        BIGSERIAL PRIMARY KEY,
    xid        XID8    NOT NULL DEFAULT pg_current_xact_id(),
    kind       TEXT    NOT NULL CHECK (kind IN ('jti', 'sid')),
    id         TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX revocations_xid ON revocations (xid);
CREATE INDEX revocations_id ON revocations (id);
CREATE INDEX revocations_expires_at ON revocations (expires_at);
INSERT INTO revocations (kind, id, expires_at) SELECT 'jti', jti, expires_at FROM revoked_access_tokens;
DROP TABLE revoked_access_tokens;

-- +goose Down
CREATE TABLE revoked_access_tokens (
    jti        TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);
INSERT INTO revoked_access_tokens (jti, expires_at)
    SELECT id, MAX(expires_at) FROM revocations WHERE kind = 'jti' GROUP BY id;
DROP TABLE revocations;
DROP INDEX refresh_families_user_live;
ALTER TABLE refresh_families DROP COLUMN user_agent;
ALTER TABLE refresh_families DROP COLUMN client_ip;
ALTER TABLE refresh_families DROP COLUMN last_used_at;
