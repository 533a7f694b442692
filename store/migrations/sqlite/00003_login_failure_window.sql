-- +goose Up
-- Failed logins count toward a lockout only within a window: the time of
-- the last failure tells whether the counter is still current.
ALTER TABLE users ADD COLUMN last_failed_at INTEGER;

-- +goose Down
ALTER TABLE users DROP COLUMN last_failed_at;
