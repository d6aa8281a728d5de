-- Passkeys (WebAuthn credentials: the relying party's serialised credential, with its public key and
-- signature counter) and the ceremonies begun and waiting for the browser's answer (single use, short-lived).

CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    data          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);

CREATE TABLE webauthn_ceremonies (
    challenge  TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('registration', 'authentication')),
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_at ON webauthn_ceremonies (expires_at);
CREATE INDEX webauthn_ceremonies_user_id ON webauthn_ceremonies (user_id);
