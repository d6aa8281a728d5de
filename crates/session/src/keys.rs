//! Ed25519 root keys that sign access tokens, each named by a key id carried in the token.

use std::fmt;
use std::sync::Arc;

use authd_kernel::{Random, Secret};
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

/// A root key as stored: the private half hex-encoded.
#[derive(Debug, Clone)]
pub struct StoredSigningKey {
    /// Its id.
    pub kid: KeyId,
    /// 32-byte Ed25519 private key, hex.
    pub private_key_hex: Secret,
    /// Whether new tokens are signed with it (retired keys only verify).
    pub active: bool,
    /// When it was made.
    pub created_at: OffsetDateTime,
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
    /// Builds the ring from stored keys: the newest active key signs; all of them verify.
    ///
    /// # Errors
    /// [`SessionError::Key`] when no key is active or a stored key is unreadable.
    pub fn from_stored(stored: &[StoredSigningKey]) -> Result<Self, SessionError> {
        let keys = stored
            .iter()
            .map(|k| {
                Ok((
                    k.active,
                    SigningKey::from_hex(k.kid, k.private_key_hex.expose())?,
                ))
            })
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

    #[test]
    fn the_newest_active_key_signs_and_all_keys_verify() {
        let stored = |kid, active| StoredSigningKey {
            kid: KeyId(kid),
            private_key_hex: SigningKey::generate(KeyId(kid), &OsRandom)
                .unwrap()
                .private_key_hex(),
            active,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        let ring =
            KeyRing::from_stored(&[stored(1, true), stored(2, true), stored(3, false)]).unwrap();
        assert_eq!(ring.active().kid(), KeyId(2));
        assert_eq!(
            ring.verifier().key_ids(),
            vec![KeyId(1), KeyId(2), KeyId(3)]
        );
        assert!(KeyRing::from_stored(&[stored(1, false)]).is_err());
    }
}
