-- +goose Up
-- The periodic purge (PurgeExpired) deletes expired e-mail tokens and the
-- mail sends no limit counts any more by range of time; without these it
-- would scan both tables whole. mail_sends_address leads with the address,
-- so it cannot serve a range of sent_at alone. The other tables it purges
-- have their expiry indexes already (refresh_tokens, revocations,
-- mfa_tokens, client_assertion_jtis).
CREATE INDEX email_tokens_expires_at ON email_tokens (expires_at);
CREATE INDEX mail_sends_sent_at ON mail_sends (sent_at);

-- +goose Down
DROP INDEX mail_sends_sent_at;
DROP INDEX email_tokens_expires_at;
