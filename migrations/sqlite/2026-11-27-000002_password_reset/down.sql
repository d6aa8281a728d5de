DROP TABLE email_outbox;
DROP TABLE password_resets;
