-- What a user sees of their sessions, and when a factor was last proven in each (step-up) (SQLite; keep
-- in step with the PostgreSQL tree).
ALTER TABLE sessions ADD COLUMN authenticated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE sessions ADD COLUMN last_used_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN sign_in_method TEXT NOT NULL DEFAULT 'password';
UPDATE sessions SET authenticated_at = created_at, last_used_at = created_at;

-- A link flow belongs to the session that began it; the few begun before cannot say which, and go.
DELETE FROM oauth_authorizations WHERE link_user_id IS NOT NULL;
ALTER TABLE oauth_authorizations ADD COLUMN link_session_id TEXT REFERENCES sessions (id) ON DELETE CASCADE;
CREATE INDEX oauth_authorizations_link_session_id ON oauth_authorizations (link_session_id);
