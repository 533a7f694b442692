-- +goose Up
-- PLACEHOLDER NUMBER: issue 22 was given 00010 only, which its first step
-- (applications as OpenID clients) used; this file needs a number from
-- the lead before it lands.
-- Authorization codes of the code flow: only the SHA-256 of a code is
-- kept, with everything it is bound to (client, redirect URI, PKCE
-- challenge, nonce, scopes, the sign-in's time and methods); used once;
-- the session its exchange started is kept so a second use revokes it
-- (RFC 6749 §4.1.2).
CREATE TABLE authorization_codes (
    hash           TEXT COLLATE "C" PRIMARY KEY,
    app_id         TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT COLLATE "C" NOT NULL,
    nonce          TEXT NOT NULL DEFAULT '',
    scope          TEXT NOT NULL DEFAULT '',
    auth_time      BIGINT NOT NULL,
    amr            TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    family_id      TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

-- +goose Down
DROP TABLE authorization_codes;
