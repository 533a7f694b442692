-- +goose Up
-- Applications as OpenID Connect clients: the redirect URIs an
-- authorization response and a sign-out may go to (exact strings,
-- space-separated, as scopes are kept), whether the client is public
-- (PKCE only) or confidential (it authenticates: a secret or a JWK Set),
-- and whether it is first party (no consent page). client_type is the
-- truth from now on; an application already holding credentials is
-- confidential, and the default application is first party.
ALTER TABLE applications ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN client_type TEXT NOT NULL DEFAULT 'public'
    CHECK (client_type IN ('public', 'confidential'));
ALTER TABLE applications ADD COLUMN first_party INTEGER NOT NULL DEFAULT 0 CHECK (first_party IN (0, 1));
UPDATE applications SET client_type = 'confidential'
    WHERE jwks NOT IN ('', '[]', 'null')
    OR EXISTS (SELECT 1 FROM application_secrets sec WHERE sec.app_id = applications.id);
UPDATE applications SET first_party = 1 WHERE is_default = 1;

-- Authorization codes of the code flow: only the SHA-256 of a code is
-- kept, with everything it is bound to (client, redirect URI, PKCE
-- challenge, nonce, scopes, the sign-in's time and methods); used once;
-- the session its exchange started is kept so a second use revokes it
-- (RFC 6749 §4.1.2).
CREATE TABLE authorization_codes (
    hash           TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce          TEXT NOT NULL DEFAULT '',
    scope          TEXT NOT NULL DEFAULT '',
    auth_time      INTEGER NOT NULL,
    amr            TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    family_id      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

-- +goose Down
DROP TABLE authorization_codes;
ALTER TABLE applications DROP COLUMN first_party;
ALTER TABLE applications DROP COLUMN client_type;
ALTER TABLE applications DROP COLUMN post_logout_redirect_uris;
ALTER TABLE applications DROP COLUMN redirect_uris;
