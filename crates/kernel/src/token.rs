//! Opaque bearer secrets (refresh tokens, reset tokens, recovery codes): generated with 256 bits of entropy,
//! shown once, and stored only as a SHA-256 hash.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Random, Secret};

/// A freshly generated opaque token: the secret for the client, and the hash for storage.
#[derive(Debug, Clone)]
pub struct OpaqueToken {
    /// What the client receives (base64url, 43 characters).
    pub secret: Secret,
    /// What the database keeps.
    pub hash: TokenHash,
}

impl OpaqueToken {
    /// 32 random bytes, base64url-encoded.
    pub fn generate(random: &impl Random) -> Self {
        let bytes: [u8; 32] = random.bytes();
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        let hash = TokenHash::of(&secret);
        Self {
            secret: Secret::new(secret),
            hash,
        }
    }
}

/// The SHA-256 of a token, hex-encoded: the only form in which tokens are stored. A fast hash is enough
/// because the tokens carry 256 bits of entropy; there is nothing to brute-force.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes a presented token.
    pub fn of(token: &str) -> Self {
        Self(hex::encode(Sha256::digest(token.as_bytes())))
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    /// The hex string to store or look up.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Compares two secrets without leaking, through timing, how long their common prefix is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OsRandom;

    #[test]
    fn generated_tokens_carry_256_bits_and_hash_to_their_stored_form() {
        let token = OpaqueToken::generate(&OsRandom);
        assert_eq!(token.secret.expose().len(), 43);
        assert_eq!(TokenHash::of(token.secret.expose()), token.hash);
        assert_eq!(token.hash.as_str().len(), 64);
    }

    #[test]
    fn two_tokens_differ() {
        let a = OpaqueToken::generate(&OsRandom);
        let b = OpaqueToken::generate(&OsRandom);
        assert_ne!(a.secret, b.secret);
    }

    #[test]
    fn constant_time_eq_compares_contents() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
