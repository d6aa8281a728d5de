//! Biscuit access tokens: what they carry, how they are signed, and the offline verifier.
//!
//! A token's authority block holds `user(id)`, `session(id)`, `mfa(status)` and
//! `check if time($t), $t < expiry`. Verification needs only the root public keys.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::SystemTime;

use authd_kernel::UserId;
use biscuit_auth::macros::{authorizer, biscuit};
use biscuit_auth::{AuthorizerLimits, Biscuit, PublicKey, error};
use time::OffsetDateTime;

use crate::{KeyId, MfaStatus, SessionError, SessionId, SigningKey};

/// Datalog limits for verification. Only authd's own authority block is ever evaluated (attenuated tokens
/// are refused before), so these are a backstop. Biscuit's default wall-clock limit is 1 ms, which a busy
/// machine exceeds while descheduled, failing valid tokens at random; the others stay at their defaults.
const LIMITS: AuthorizerLimits = AuthorizerLimits {
    max_facts: 1000,
    max_iterations: 100,
    max_time: std::time::Duration::from_millis(250),
};

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user.
    pub user_id: UserId,
    /// The session, to check for revocation.
    pub session_id: SessionId,
    /// Whether MFA is satisfied.
    pub mfa: MfaStatus,
    /// When the token stops being accepted.
    pub expires_at: OffsetDateTime,
}

/// Signs `claims` with `key` into a base64url token.
///
/// # Errors
/// [`SessionError::Token`] if the token library fails.
pub(crate) fn issue(key: &SigningKey, claims: &AccessClaims) -> Result<String, SessionError> {
    let builder = biscuit!(
        r#"
        user({user});
        session({session});
        mfa({mfa});
        expires({expires});
        check if time($time), $time < {expires};
        "#,
        user = claims.user_id.to_string(),
        session = claims.session_id.to_string(),
        mfa = claims.mfa.as_str(),
        expires = SystemTime::from(claims.expires_at),
    );
    builder
        .root_key_id(key.kid().0)
        .build(key.keypair())
        .and_then(|token| token.to_base64())
        .map_err(|e| SessionError::Token(e.to_string()))
}

/// Verifies access tokens offline with authd's root public keys.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: BTreeMap<KeyId, PublicKey>,
}

impl TokenVerifier {
    /// A verifier trusting these keys.
    pub fn new(keys: impl IntoIterator<Item = (KeyId, PublicKey)>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
        }
    }

    /// A verifier from `(kid, 64-hex-character Ed25519 public key)` pairs, as `GET /auth/keys` lists them.
    ///
    /// # Errors
    /// [`SessionError::Key`] for a malformed key.
    pub fn from_hex<'a>(
        keys: impl IntoIterator<Item = (u32, &'a str)>,
    ) -> Result<Self, SessionError> {
        let keys = keys
            .into_iter()
            .map(|(kid, hex)| {
                PublicKey::from_bytes_hex(hex, biscuit_auth::Algorithm::Ed25519)
                    .map(|key| (KeyId(kid), key))
                    .map_err(|e| SessionError::Key(e.to_string()))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        Ok(Self { keys })
    }

    /// The ids of the trusted keys, ascending.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.keys().copied().collect()
    }

    /// The trusted keys.
    pub fn keys(&self) -> impl Iterator<Item = (KeyId, &PublicKey)> {
        self.keys.iter().map(|(kid, key)| (*kid, key))
    }

    /// Checks the signature, the key id and the expiry at `now`, and reads the claims. Does not know about
    /// revocation: authd checks the session too; other services accept tokens until they expire.
    ///
    /// # Errors
    /// [`SessionError::InvalidAccessToken`] for anything wrong with the token.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, SessionError> {
        self.read(token, now)
            .map_err(|_| SessionError::InvalidAccessToken)
    }

    /// Checks the signature and the key id and reads the claims, whatever the token's age: for logout, where
    /// an expired but genuine token still names the session to end.
    ///
    /// # Errors
    /// [`SessionError::InvalidAccessToken`] for a forged, tampered, attenuated or malformed token.
    pub fn verify_ignoring_expiry(&self, token: &str) -> Result<AccessClaims, SessionError> {
        // The token's only time check is `time($t), $t < expiry`: read at the epoch, every expiry is later.
        self.read(token, OffsetDateTime::UNIX_EPOCH)
            .map_err(|_| SessionError::InvalidAccessToken)
    }

    fn read(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, error::Token> {
        let token = Biscuit::from_base64(token, |kid: Option<u32>| {
            kid.and_then(|kid| self.keys.get(&KeyId(kid)).copied())
                .ok_or(error::Format::UnknownPublicKey)
        })?;
        // authd issues single-block tokens and never attenuates them. An appended block is the holder's own
        // Datalog, and Biscuit checks its time limit only between queries: one check joining a few dozen
        // facts runs for minutes. So no appended block is ever evaluated.
        if token.block_count() != 1 {
            return Err(error::Token::ConversionError(
                "attenuated tokens are not accepted".into(),
            ));
        }
        let mut authorizer = authorizer!(
            r#"time({now}); allow if user($u), session($s), mfa($m);"#,
            now = SystemTime::from(now)
        )
        .set_limits(LIMITS)
        .build(&token)?;
        authorizer.authorize()?;
        let (user,): (String,) = authorizer.query_exactly_one("data($u) <- user($u)")?;
        let (session,): (String,) = authorizer.query_exactly_one("data($s) <- session($s)")?;
        let (mfa,): (String,) = authorizer.query_exactly_one("data($m) <- mfa($m)")?;
        let (expires,): (SystemTime,) = authorizer.query_exactly_one("data($e) <- expires($e)")?;
        let malformed = || error::Token::ConversionError("malformed claim".into());
        Ok(AccessClaims {
            user_id: UserId::from_str(&user).map_err(|_| malformed())?,
            session_id: SessionId::from_str(&session).map_err(|_| malformed())?,
            mfa: MfaStatus::parse(&mfa).ok_or_else(malformed)?,
            expires_at: OffsetDateTime::from(expires),
        })
    }
}

#[cfg(test)]
mod tests {
    use authd_kernel::OsRandom;
    use time::Duration;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    fn claims(expires_at: OffsetDateTime) -> AccessClaims {
        AccessClaims {
            user_id: UserId::from_uuid(Uuid::from_u128(1)),
            session_id: SessionId::from_uuid(Uuid::from_u128(2)),
            mfa: MfaStatus::Pending,
            expires_at,
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-01-01 12:00:00 UTC);

    #[test]
    fn a_token_verifies_with_its_public_key_until_it_expires() {
        let key = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let token = issue(&key, &claims(NOW + Duration::minutes(15))).unwrap();
        let verifier = TokenVerifier::new([(key.kid(), key.public_key())]);
        assert_eq!(
            verifier.verify(&token, NOW).unwrap(),
            claims(NOW + Duration::minutes(15))
        );
        assert!(verifier.verify(&token, NOW + Duration::minutes(14)).is_ok());
        assert!(
            verifier
                .verify(&token, NOW + Duration::minutes(15))
                .is_err()
        );
    }

    #[test]
    fn an_expired_token_is_still_read_ignoring_expiry_but_a_forged_one_is_not() {
        let key = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let other = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let expired = issue(&key, &claims(NOW - Duration::days(3))).unwrap();
        let verifier = TokenVerifier::new([(key.kid(), key.public_key())]);
        assert!(verifier.verify(&expired, NOW).is_err());
        assert_eq!(
            verifier.verify_ignoring_expiry(&expired).unwrap(),
            claims(NOW - Duration::days(3))
        );
        let forged = issue(&other, &claims(NOW - Duration::days(3))).unwrap();
        assert!(verifier.verify_ignoring_expiry(&forged).is_err());
        assert!(verifier.verify_ignoring_expiry("garbage").is_err());
    }

    #[test]
    fn a_token_of_another_key_or_an_unknown_kid_is_refused() {
        let key = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let other = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let token = issue(&other, &claims(NOW + Duration::minutes(15))).unwrap();
        let verifier = TokenVerifier::new([(key.kid(), key.public_key())]);
        assert!(verifier.verify(&token, NOW).is_err());

        let stranger = SigningKey::generate(KeyId(9), &OsRandom).unwrap();
        let token = issue(&stranger, &claims(NOW + Duration::minutes(15))).unwrap();
        assert!(verifier.verify(&token, NOW).is_err());
    }

    #[test]
    fn a_verifier_built_from_published_hex_keys_accepts_tokens() {
        let key = SigningKey::generate(KeyId(7), &OsRandom).unwrap();
        let token = issue(&key, &claims(NOW + Duration::minutes(1))).unwrap();
        let hex = key.public_key().to_bytes_hex();
        let verifier = TokenVerifier::from_hex([(7, hex.as_str())]).unwrap();
        assert!(verifier.verify(&token, NOW).is_ok());
        assert!(TokenVerifier::from_hex([(7, "nothex")]).is_err());
    }

    #[test]
    fn garbage_and_tampered_tokens_are_refused() {
        let key = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let verifier = TokenVerifier::new([(key.kid(), key.public_key())]);
        assert!(verifier.verify("", NOW).is_err());
        assert!(verifier.verify("not a token", NOW).is_err());
        let token = issue(&key, &claims(NOW + Duration::minutes(1))).unwrap();
        let mut tampered = token.into_bytes();
        let middle = tampered.len() / 2;
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        assert!(
            verifier
                .verify(&String::from_utf8(tampered).unwrap(), NOW)
                .is_err()
        );
    }

    #[test]
    fn an_attenuated_token_is_refused_whatever_its_block_says() {
        let key = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let token = issue(&key, &claims(NOW + Duration::minutes(1))).unwrap();
        let parsed = Biscuit::from_base64(&token, key.public_key()).unwrap();
        let verifier = TokenVerifier::new([(key.kid(), key.public_key())]);
        assert!(verifier.verify(&token, NOW).is_ok());
        // A harmless block (a check that holds) and a forging one (another user) alike: the holder's own
        // Datalog is never evaluated, since a crafted check can run for minutes.
        for block in [
            biscuit_auth::macros::block!(r#"check if user($u);"#),
            biscuit_auth::macros::block!(r#"user("00000000-0000-0000-0000-000000000099");"#),
        ] {
            let attenuated = parsed.append(block).unwrap().to_base64().unwrap();
            assert!(matches!(
                verifier.verify(&attenuated, NOW),
                Err(SessionError::InvalidAccessToken)
            ));
        }
    }
}
