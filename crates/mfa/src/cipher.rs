//! Encryption of TOTP secrets at rest: the kernel's [`SealingKey`] (XChaCha20-Poly1305 with the service's
//! 32-byte key and a random 24-byte nonce per encryption), with the user id as associated data.
//!
//! A TOTP secret cannot be hashed like a password (the server needs it to compute codes), so a database
//! dump must not be enough to mint codes: the key lives in configuration, not next to the rows. Binding
//! the user id as associated data means a row copied onto another user's account fails to decrypt.

use authd_kernel::{Random, SealingKey, UserId};

use crate::recovery::normalise_recovery_code;
use crate::{EncryptedSecret, MfaError, RecoveryCodeHash};

#[cfg(test)]
use authd_kernel::sealing::{NONCE_LEN, TAG_LEN};

/// Authenticated encryption of TOTP secrets with one key. `Debug` never shows the key (the sealing key's
/// own `Debug` redacts it).
#[derive(Clone, Debug)]
pub struct SecretCipher {
    key: SealingKey,
}

impl SecretCipher {
    /// A cipher with this key.
    pub fn new(key: [u8; 32]) -> Self {
        Self::with_key(SealingKey::new(key))
    }

    /// A cipher over the service's sealing key.
    pub fn with_key(key: SealingKey) -> Self {
        Self { key }
    }

    /// Encrypts `plaintext` for `user`: `nonce || ciphertext || tag`.
    pub fn encrypt(&self, user: UserId, plaintext: &[u8], random: &impl Random) -> EncryptedSecret {
        EncryptedSecret(self.key.seal(&associated_data(user), plaintext, random))
    }

    /// The stored form of a recovery code of `user` (ASVS 2.6.2): HMAC-SHA256 of its normalised form under
    /// a key derived from the sealing key, bound to the user, as `k1:<hex>`. `None` for input that cannot be
    /// a code. A dump of the table alone cannot test guesses, and a hash copied to another user matches
    /// nothing.
    pub fn recovery_code_hash(&self, user: UserId, input: &str) -> Option<RecoveryCodeHash> {
        let code = normalise_recovery_code(input)?;
        let mac = self.key.keyed_hash(&associated_data(user), code.as_bytes());
        Some(RecoveryCodeHash(format!("k1:{}", hex::encode(mac))))
    }

    /// Decrypts what [`SecretCipher::encrypt`] produced for the same user under the same key.
    ///
    /// # Errors
    /// [`MfaError::Crypto`] when the bytes are too short, were altered, belong to another user, or were
    /// encrypted under another key (these are indistinguishable by design).
    pub fn decrypt(&self, user: UserId, secret: &EncryptedSecret) -> Result<Vec<u8>, MfaError> {
        self.key
            .open(&associated_data(user), &secret.0)
            .ok_or_else(|| {
                MfaError::Crypto(
                    "authentication failed (wrong key, another user's row, or altered data)".into(),
                )
            })
    }
}

/// What binds a ciphertext to its owner: the user id's 16 bytes.
fn associated_data(user: UserId) -> [u8; 16] {
    *user.as_uuid().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use authd_kernel::OsRandom;

    fn user(n: u8) -> UserId {
        format!("01900000-0000-7000-8000-0000000000{n:02x}")
            .parse()
            .unwrap()
    }

    const KEY: [u8; 32] = [0x42; 32];
    const PLAINTEXT: &[u8] = b"12345678901234567890";

    #[test]
    fn a_secret_decrypts_for_the_same_user_under_the_same_key() {
        let cipher = SecretCipher::new(KEY);
        let sealed = cipher.encrypt(user(1), PLAINTEXT, &OsRandom);
        assert_eq!(sealed.0.len(), NONCE_LEN + PLAINTEXT.len() + TAG_LEN);
        assert!(!sealed.0.windows(PLAINTEXT.len()).any(|w| w == PLAINTEXT));
        assert_eq!(cipher.decrypt(user(1), &sealed).unwrap(), PLAINTEXT);
    }

    #[test]
    fn each_encryption_uses_a_fresh_nonce() {
        let cipher = SecretCipher::new(KEY);
        let a = cipher.encrypt(user(1), PLAINTEXT, &OsRandom);
        let b = cipher.encrypt(user(1), PLAINTEXT, &OsRandom);
        assert_ne!(a.0[..NONCE_LEN], b.0[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn a_row_copied_onto_another_user_does_not_decrypt() {
        let cipher = SecretCipher::new(KEY);
        let sealed = cipher.encrypt(user(1), PLAINTEXT, &OsRandom);
        assert!(matches!(
            cipher.decrypt(user(2), &sealed),
            Err(MfaError::Crypto(_))
        ));
    }

    #[test]
    fn any_altered_byte_makes_decryption_fail() {
        let cipher = SecretCipher::new(KEY);
        let sealed = cipher.encrypt(user(1), PLAINTEXT, &OsRandom);
        // Every position: nonce, ciphertext and tag alike.
        for i in 0..sealed.0.len() {
            let mut tampered = sealed.clone();
            tampered.0[i] ^= 0x01;
            assert!(cipher.decrypt(user(1), &tampered).is_err(), "byte {i}");
        }
        let mut longer = sealed.clone();
        longer.0.push(0);
        assert!(cipher.decrypt(user(1), &longer).is_err());
        for len in [0, 1, NONCE_LEN, NONCE_LEN + TAG_LEN - 1, sealed.0.len() - 1] {
            let truncated = EncryptedSecret(sealed.0[..len].to_vec());
            assert!(cipher.decrypt(user(1), &truncated).is_err(), "length {len}");
        }
    }

    #[test]
    fn another_key_cannot_decrypt() {
        let sealed = SecretCipher::new(KEY).encrypt(user(1), PLAINTEXT, &OsRandom);
        let mut other = KEY;
        other[31] ^= 0x80;
        assert!(SecretCipher::new(other).decrypt(user(1), &sealed).is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        let shown = format!("{:?}", SecretCipher::new(KEY));
        assert!(shown.contains("[redacted]"));
        assert!(!shown.contains("42") && !shown.contains("66"), "{shown}");
    }
}
