ALTER TABLE sessions DROP COLUMN mfa_failures;
DROP TABLE service_secrets;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_factors;
