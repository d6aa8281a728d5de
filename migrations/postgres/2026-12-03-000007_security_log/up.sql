-- The security log: what happened to each account, written in the transaction of the change it records.
-- `user_id` is cleared when an account is deleted (its events then say nothing of anyone).
CREATE TABLE auth_events (
    id         TEXT PRIMARY KEY,
    user_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
    kind       TEXT NOT NULL,
    at         TIMESTAMP NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT NOT NULL
);
CREATE INDEX auth_events_user_id_at ON auth_events (user_id, at, id);
CREATE INDEX auth_events_at ON auth_events (at);
