//! Authenticated encryption of secrets the service must be able to read back (TOTP secrets, token signing
//! keys): XChaCha20-Poly1305 under the service's 32-byte key, a random 24-byte nonce per encryption, and a
//! context as associated data, so a sealed value copied into another row (another user, another key id)
//! does not open.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};

use crate::Random;

/// Bytes of nonce at the front of every sealed value. 192 bits, so random nonces never collide in
/// practice, whatever the number of encryptions under one key.
pub const NONCE_LEN: usize = 24;

/// Bytes of Poly1305 tag at the end of every sealed value.
pub const TAG_LEN: usize = 16;

/// The key secrets are sealed with. `Debug` never shows it.
#[derive(Clone)]
pub struct SealingKey {
    aead: XChaCha20Poly1305,
    /// A second key derived from the same one, for keyed hashes: one secret to keep, two uses kept apart.
    hashing: [u8; 32],
}

impl SealingKey {
    /// A sealing key from its 32 bytes.
    pub fn new(key: [u8; 32]) -> Self {
        let hashing = Sha256::new()
            .chain_update(b"authd keyed hash v1\0")
            .chain_update(key)
            .finalize()
            .into();
        Self {
            aead: XChaCha20Poly1305::new(&Key::from(key)),
            hashing,
        }
    }

    /// HMAC-SHA256 of `message` bound to `context`, under a key derived from this one: for values that are
    /// only ever compared (recovery codes), so a database dump without the key cannot test guesses.
    pub fn keyed_hash(&self, context: &[u8], message: &[u8]) -> [u8; 32] {
        #[expect(
            clippy::expect_used,
            reason = "HMAC takes a key of any length; 32 bytes cannot be refused"
        )]
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.hashing).expect("any key length");
        mac.update(
            &u64::try_from(context.len())
                .unwrap_or(u64::MAX)
                .to_be_bytes(),
        );
        mac.update(context);
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// A sealing key from exactly 64 hex characters (either case); `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let mut key = [0u8; 32];
        (hex.len() == 64 && hex::decode_to_slice(hex, &mut key).is_ok()).then(|| Self::new(key))
    }

    /// A fresh key from the injected random source.
    pub fn generate(random: &impl Random) -> [u8; 32] {
        random.bytes()
    }

    /// Seals `plaintext` bound to `context`: `nonce || ciphertext || tag`.
    pub fn seal(&self, context: &[u8], plaintext: &[u8], random: &impl Random) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = random.bytes();
        let payload = Payload {
            msg: plaintext,
            aad: context,
        };
        // XChaCha20-Poly1305 refuses only messages of 256 GiB or more; the secrets sealed here are a few
        // dozen bytes, so this cannot fail for any input that fits in memory next to its ciphertext.
        #[expect(
            clippy::expect_used,
            reason = "the only failure is a plaintext over 256 GiB"
        )]
        let sealed = self
            .aead
            .encrypt(&XNonce::from(nonce), payload)
            .expect("XChaCha20-Poly1305 encrypts anything under 256 GiB");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`SealingKey::seal`] produced for the same context under the same key; `None` when the
    /// bytes are too short, were altered, belong to another context, or were sealed under another key
    /// (indistinguishable by design).
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce).ok()?;
        let payload = Payload {
            msg: ciphertext,
            aad: context,
        };
        self.aead.decrypt(&XNonce::from(nonce), payload).ok()
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("algorithm", &"XChaCha20-Poly1305")
            .field("key", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Nines;

    impl Random for Nines {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(9);
        }
    }

    #[test]
    fn keyed_hashes_depend_on_key_context_and_message_only() {
        let key = SealingKey::new([7; 32]);
        let hash = key.keyed_hash(b"user-1", b"code");
        assert_eq!(
            hash,
            SealingKey::new([7; 32]).keyed_hash(b"user-1", b"code")
        );
        assert_ne!(hash, key.keyed_hash(b"user-2", b"code"));
        assert_ne!(hash, key.keyed_hash(b"user-1", b"other"));
        assert_ne!(
            hash,
            SealingKey::new([8; 32]).keyed_hash(b"user-1", b"code")
        );
        // The context's length is hashed too, so moving bytes between context and message changes it.
        assert_ne!(hash, key.keyed_hash(b"user-1c", b"ode"));
    }

    #[test]
    fn a_key_is_read_from_exactly_64_hex_characters_in_either_case() {
        let sealed = SealingKey::new([0xab; 32]).seal(b"ctx", b"secret", &Nines);
        for hex in ["AB".repeat(32), "ab".repeat(32)] {
            let key = SealingKey::from_hex(&hex).unwrap();
            assert_eq!(key.open(b"ctx", &sealed).unwrap(), b"secret");
        }
        for bad in [
            String::new(),
            "42".repeat(31),
            "42".repeat(33),
            format!("{}4", "42".repeat(31)),
            format!("{}zz", "42".repeat(31)),
            format!(" {}", "42".repeat(32)),
            "é".repeat(32),
        ] {
            assert!(SealingKey::from_hex(&bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_generated_key_comes_from_the_random_port() {
        assert_eq!(SealingKey::generate(&Nines), [9; 32]);
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_context() {
        let key = SealingKey::new([1; 32]);
        let sealed = key.seal(b"signing key 1", b"secret", &Nines);
        assert_eq!(sealed.len(), NONCE_LEN + b"secret".len() + TAG_LEN);
        assert!(key.open(b"signing key 2", &sealed).is_none());
        assert!(
            key.open(b"signing key 1", &sealed[..NONCE_LEN + TAG_LEN - 1])
                .is_none()
        );
    }
}
