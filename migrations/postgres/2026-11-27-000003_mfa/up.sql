-- TOTP factors (secrets encrypted with the service key), recovery codes (hashes only), the service's own
-- secrets (the encryption key, generated on first start), and a count of wrong codes per pending session.

CREATE TABLE mfa_factors (
    user_id                     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret                      BYTEA NOT NULL,
    state                       TEXT NOT NULL CHECK (state IN ('pending', 'enabled', 'disabled')),
    last_used_step              BIGINT,
    created_at                  TIMESTAMP NOT NULL,
    enabled_at                  TIMESTAMP,
    recovery_codes_generated_at TIMESTAMP,
    disabled_at                 TIMESTAMP
);

CREATE TABLE mfa_recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE service_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

ALTER TABLE sessions ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;
