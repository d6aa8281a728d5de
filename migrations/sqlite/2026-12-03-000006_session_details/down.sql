DROP INDEX oauth_authorizations_link_session_id;
ALTER TABLE oauth_authorizations DROP COLUMN link_session_id;
ALTER TABLE sessions DROP COLUMN sign_in_method;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN ip;
ALTER TABLE sessions DROP COLUMN last_used_at;
ALTER TABLE sessions DROP COLUMN authenticated_at;
