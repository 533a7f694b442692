-- +goose Up
-- A signing key is published at once but signs only from active_from
-- (staged rotation: JWKS caches learn the key before any token needs it).
-- Keys that exist already have been signing since they were created.
ALTER TABLE signing_keys ADD COLUMN active_from INTEGER NOT NULL DEFAULT 0;
UPDATE signing_keys SET active_from = created_at;

-- The per-family secret from which a spent refresh token's successor is
-- derived (an HMAC), so a use within the reuse interval gets the same
-- successor without the successor ever being stored in clear. Families
-- made before this migration have none and get no reuse interval.
ALTER TABLE refresh_families ADD COLUMN successor_key BLOB;

-- +goose Down
ALTER TABLE refresh_families DROP COLUMN successor_key;
ALTER TABLE signing_keys DROP COLUMN active_from;
