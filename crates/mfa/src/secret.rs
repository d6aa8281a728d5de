//! The TOTP shared secret: 160 random bits, shown once to the user as base32 for their authenticator app.

use std::fmt;

use authd_kernel::{Random, Secret};
use data_encoding::BASE32_NOPAD;

use crate::MfaError;

/// A TOTP shared secret: 20 bytes (160 bits, the HMAC-SHA1 block-size recommendation of RFC 4226).
///
/// `Debug` never shows the bytes; the only ways out are [`TotpSecret::as_bytes`] (to encrypt it) and
/// [`TotpSecret::to_base32`] (to show it once at enrolment).
#[derive(Clone)]
pub struct TotpSecret([u8; TotpSecret::LEN]);

impl TotpSecret {
    /// Length of a secret in bytes.
    pub const LEN: usize = 20;

    /// A fresh secret from the injected random source.
    pub fn generate(random: &impl Random) -> Self {
        Self(random.bytes())
    }

    /// Wraps decrypted bytes.
    ///
    /// # Errors
    /// [`MfaError::Crypto`] unless there are exactly [`TotpSecret::LEN`] bytes: anything else means the stored
    /// row is not one this crate wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MfaError> {
        <[u8; Self::LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| MfaError::Crypto(format!("a TOTP secret must be {} bytes", Self::LEN)))
    }

    /// Parses the base32 form shown at enrolment (RFC 4648 alphabet, any case, padding and spaces ignored),
    /// as an authenticator app would; tests use it to compute codes from a setup's output.
    ///
    /// # Errors
    /// [`MfaError::Crypto`] when the text is not base32 for [`TotpSecret::LEN`] bytes.
    pub fn from_base32(text: &str) -> Result<Self, MfaError> {
        // A 20-byte secret is 32 characters; refusing long input first keeps the work bounded.
        if text.len() > 64 {
            return Err(MfaError::Crypto(
                "a base32 TOTP secret is 32 characters".into(),
            ));
        }
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|_| MfaError::Crypto("a TOTP secret must be base32".into()))?;
        Self::from_bytes(&bytes)
    }

    /// The raw bytes, for encryption at rest and for computing codes.
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// Base32 (RFC 4648, uppercase, no padding): the form authenticator apps take.
    pub fn to_base32(&self) -> Secret {
        Secret::new(BASE32_NOPAD.encode(&self.0))
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authd_kernel::OsRandom;

    #[test]
    fn a_generated_secret_is_twenty_bytes_from_the_random_port() {
        #[derive(Debug)]
        struct Sevens;
        impl Random for Sevens {
            fn fill(&self, buf: &mut [u8]) {
                buf.fill(7);
            }
        }
        assert_eq!(TotpSecret::generate(&Sevens).as_bytes(), &[7; 20]);
    }

    #[test]
    fn base32_is_uppercase_unpadded_and_round_trips() {
        let secret = TotpSecret::generate(&OsRandom);
        let text = secret.to_base32();
        assert_eq!(text.expose().len(), 32);
        assert!(
            text.expose()
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        );
        let back = TotpSecret::from_base32(text.expose()).unwrap();
        assert_eq!(back.as_bytes(), secret.as_bytes());
        let lower = TotpSecret::from_base32(&text.expose().to_lowercase()).unwrap();
        assert_eq!(lower.as_bytes(), secret.as_bytes());
    }

    #[test]
    fn the_rfc_seed_encodes_to_its_well_known_base32() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(
            secret.to_base32().expose(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }

    #[test]
    fn secrets_of_the_wrong_size_or_alphabet_are_refused() {
        assert!(TotpSecret::from_bytes(&[0; 19]).is_err());
        assert!(TotpSecret::from_bytes(&[0; 21]).is_err());
        assert!(TotpSecret::from_base32("GEZDGNBV").is_err());
        assert!(TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1").is_err());
        assert!(TotpSecret::from_base32(&"A".repeat(10_000)).is_err());
        assert!(TotpSecret::from_base32("ééééééééééééééééééééééééééééééé").is_err());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "TotpSecret([redacted])");
    }
}
