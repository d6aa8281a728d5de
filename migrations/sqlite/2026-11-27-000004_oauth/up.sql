-- OAuth: flows begun and waiting for their callback (single use, short-lived), and provider identities
-- linked to accounts.

CREATE TABLE oauth_authorizations (
    state_hash    TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    binding_hash  TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    redirect_to   TEXT NOT NULL,
    link_user_id  TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX oauth_authorizations_expires_at ON oauth_authorizations (expires_at);
CREATE INDEX oauth_authorizations_link_user_id ON oauth_authorizations (link_user_id);

CREATE TABLE oauth_links (
    provider  TEXT NOT NULL,
    subject   TEXT NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email     TEXT,
    linked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject),
    UNIQUE (user_id, provider)
);
