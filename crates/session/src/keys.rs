//! Ed25519 root keys that sign access tokens, each named by a key id carried in the token.

use std::fmt;
use std::sync::Arc;

use authd_kernel::{Random, SealingKey, Secret};
use biscuit_auth::{Algorithm, KeyPair, PrivateKey, PublicKey};
use time::OffsetDateTime;

use crate::{SessionError, TokenVerifier};

/// The id of a root key, carried in every token as Biscuit's `root_key_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub u32);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A root key as stored. Its private half is sealed with the service's [`SealingKey`], bound to the key id
/// (`sealed:` then hex), so a database dump alone does not let anyone sign tokens when the sealing key lives
/// in configuration. Keys stored before sealing existed are bare hex and are still read.
#[derive(Debug, Clone)]
pub struct StoredSigningKey {
    /// Its id.
    pub kid: KeyId,
    /// The private key in its stored form: sealed, or (older rows) 64 hex characters in clear.
    pub private_key: Secret,
    /// Whether new tokens are signed with it (retired keys only verify).
    pub active: bool,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// Marks a sealed private key; anything else is a clear hex key from before sealing.
const SEALED_PREFIX: &str = "sealed:";

impl StoredSigningKey {
    /// `key` as it is stored: active, its private half sealed with `sealing`.
    pub fn sealed(
        key: &SigningKey,
        sealing: &SealingKey,
        created_at: OffsetDateTime,
        random: &impl Random,
    ) -> Self {
        let private = key.private_key_hex();
        let sealed = sealing.seal(
            &seal_context(key.kid()),
            private.expose().as_bytes(),
            random,
        );
        Self {
            kid: key.kid(),
            private_key: Secret::new(format!("{SEALED_PREFIX}{}", hex::encode(sealed))),
            active: true,
            created_at,
        }
    }

    /// The usable key, opened with `sealing`.
    ///
    /// # Errors
    /// [`SessionError::Key`] when the stored form is unreadable or does not open with `sealing` (another
    /// encryption key than the one it was sealed with, or an altered row).
    pub fn open(&self, sealing: &SealingKey) -> Result<SigningKey, SessionError> {
        let stored = self.private_key.expose();
        let Some(sealed) = stored.strip_prefix(SEALED_PREFIX) else {
            return SigningKey::from_hex(self.kid, stored);
        };
        let unreadable = || {
            SessionError::Key(format!(
                "stored key {} does not open with this encryption key (was it sealed under another one?)",
                self.kid
            ))
        };
        let sealed = hex::decode(sealed).map_err(|_| unreadable())?;
        let private = sealing
            .open(&seal_context(self.kid), &sealed)
            .ok_or_else(unreadable)?;
        let private = Secret::new(String::from_utf8(private).map_err(|_| unreadable())?);
        SigningKey::from_hex(self.kid, private.expose())
    }
}

/// What binds a sealed key to its id: a row moved to another id does not open.
fn seal_context(kid: KeyId) -> Vec<u8> {
    format!("authd signing key {kid}").into_bytes()
}

/// A key that signs tokens.
#[derive(Clone)]
pub struct SigningKey {
    kid: KeyId,
    keypair: Arc<KeyPair>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    ///
    /// # Errors
    /// [`SessionError::Key`] if the random bytes are not a valid key (practically never).
    pub fn generate(kid: KeyId, random: &impl Random) -> Result<Self, SessionError> {
        let bytes: [u8; 32] = random.bytes();
        Self::from_bytes(kid, &bytes)
    }

    /// Reads a key from its hex form (64 hex characters).
    ///
    /// # Errors
    /// [`SessionError::Key`] for anything but 32 hex-encoded bytes.
    pub fn from_hex(kid: KeyId, hex_key: &str) -> Result<Self, SessionError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| SessionError::Key("not hex".into()))?;
        if bytes.len() != 32 {
            return Err(SessionError::Key(
                "an Ed25519 private key is 32 bytes (64 hex characters)".into(),
            ));
        }
        Self::from_bytes(kid, &bytes)
    }

    fn from_bytes(kid: KeyId, bytes: &[u8]) -> Result<Self, SessionError> {
        let private = PrivateKey::from_bytes(bytes, Algorithm::Ed25519)
            .map_err(|e| SessionError::Key(e.to_string()))?;
        Ok(Self {
            kid,
            keypair: Arc::new(KeyPair::from(&private)),
        })
    }

    /// The key id.
    pub fn kid(&self) -> KeyId {
        self.kid
    }

    /// The public half, for verification.
    pub fn public_key(&self) -> PublicKey {
        self.keypair.public()
    }

    /// The private half, hex, for storage.
    pub fn private_key_hex(&self) -> Secret {
        Secret::new(self.keypair.private().to_bytes_hex())
    }

    pub(crate) fn keypair(&self) -> &KeyPair {
        &self.keypair
    }
}

/// The active signing key and every key tokens may still be verified with.
#[derive(Debug, Clone)]
pub struct KeyRing {
    active: SigningKey,
    verifier: TokenVerifier,
}

impl KeyRing {
    /// Builds the ring from stored keys, opened with `sealing`: the newest active key signs; all of them
    /// verify.
    ///
    /// # Errors
    /// [`SessionError::Key`] when no key is active or a stored key is unreadable.
    pub fn from_stored(
        stored: &[StoredSigningKey],
        sealing: &SealingKey,
    ) -> Result<Self, SessionError> {
        let keys = stored
            .iter()
            .map(|k| Ok((k.active, k.open(sealing)?)))
            .collect::<Result<Vec<_>, SessionError>>()?;
        let active = keys
            .iter()
            .filter(|(active, _)| *active)
            .map(|(_, key)| key)
            .max_by_key(|key| key.kid())
            .cloned()
            .ok_or_else(|| SessionError::Key("no active signing key".into()))?;
        let verifier =
            TokenVerifier::new(keys.iter().map(|(_, key)| (key.kid(), key.public_key())));
        Ok(Self { active, verifier })
    }

    /// A ring of exactly one key.
    pub fn single(key: SigningKey) -> Self {
        let verifier = TokenVerifier::new([(key.kid(), key.public_key())]);
        Self {
            active: key,
            verifier,
        }
    }

    /// The key new tokens are signed with.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// Verifies tokens of any key in the ring.
    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }
}

#[cfg(test)]
mod tests {
    use authd_kernel::OsRandom;

    use super::*;

    #[test]
    fn a_key_survives_its_hex_form() {
        let key = SigningKey::generate(KeyId(3), &OsRandom).unwrap();
        let again = SigningKey::from_hex(KeyId(3), key.private_key_hex().expose()).unwrap();
        assert_eq!(key.public_key(), again.public_key());
        assert_eq!(key.public_key().to_bytes_hex().len(), 64);
    }

    #[test]
    fn bad_hex_is_refused() {
        assert!(SigningKey::from_hex(KeyId(1), "zz").is_err());
        assert!(SigningKey::from_hex(KeyId(1), "abcd").is_err());
    }

    fn sealing() -> SealingKey {
        SealingKey::new([7; 32])
    }

    #[test]
    fn the_newest_active_key_signs_and_all_keys_verify() {
        let stored = |kid, active| StoredSigningKey {
            active,
            ..StoredSigningKey::sealed(
                &SigningKey::generate(KeyId(kid), &OsRandom).unwrap(),
                &sealing(),
                OffsetDateTime::UNIX_EPOCH,
                &OsRandom,
            )
        };
        let ring = KeyRing::from_stored(
            &[stored(1, true), stored(2, true), stored(3, false)],
            &sealing(),
        )
        .unwrap();
        assert_eq!(ring.active().kid(), KeyId(2));
        assert_eq!(
            ring.verifier().key_ids(),
            vec![KeyId(1), KeyId(2), KeyId(3)]
        );
        assert!(KeyRing::from_stored(&[stored(1, false)], &sealing()).is_err());
    }

    #[test]
    fn a_stored_key_is_sealed_and_opens_only_with_its_sealing_key_and_id() {
        let key = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let stored =
            StoredSigningKey::sealed(&key, &sealing(), OffsetDateTime::UNIX_EPOCH, &OsRandom);
        let private = key.private_key_hex();
        assert!(stored.private_key.expose().starts_with("sealed:"));
        assert!(!stored.private_key.expose().contains(private.expose()));
        assert_eq!(
            stored.open(&sealing()).unwrap().public_key(),
            key.public_key()
        );

        assert!(
            stored.open(&SealingKey::new([8; 32])).is_err(),
            "another sealing key"
        );
        let moved = StoredSigningKey {
            kid: KeyId(2),
            ..stored.clone()
        };
        assert!(
            moved.open(&sealing()).is_err(),
            "a row moved to another key id"
        );
        let mut altered = stored.private_key.expose().to_owned();
        let last = altered.pop().unwrap();
        altered.push(if last == '0' { '1' } else { '0' });
        let altered = StoredSigningKey {
            private_key: Secret::new(altered),
            ..stored
        };
        assert!(altered.open(&sealing()).is_err(), "an altered row");
    }

    #[test]
    fn keys_stored_in_clear_before_sealing_still_open() {
        let key = SigningKey::generate(KeyId(1), &OsRandom).unwrap();
        let legacy = StoredSigningKey {
            kid: KeyId(1),
            private_key: key.private_key_hex(),
            active: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            legacy.open(&sealing()).unwrap().public_key(),
            key.public_key()
        );
    }
}
