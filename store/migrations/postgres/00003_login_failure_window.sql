-- The PostgreSQL edition of store/migrations/sqlite/00003_login_failure_window.sql.

-- +goose Up
-- Failed logins count toward a lockout only within a window: the time of
-- the last failure tells whether the counter is still current.
ALTER TABLE users ADD COLUMN last_failed_at BIGINT;

-- +goose Down
ALTER TABLE users DROP COLUMN last_failed_at;
