-- The PostgreSQL edition of store/migrations/sqlite/00009_purge_indexes.sql.

-- +goose Up
CREATE INDEX email_tokens_expires_at ON email_tokens (expires_at);
CREATE INDEX mail_sends_sent_at ON mail_sends (sent_at);

-- +goose Down
DROP INDEX mail_sends_sent_at;
DROP INDEX email_tokens_expires_at;
