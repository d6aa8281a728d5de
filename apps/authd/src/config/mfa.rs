//! `[mfa]`: how authenticator apps label the accounts.

use serde::{Deserialize, Deserializer};

use super::values::parsed;

/// `[mfa]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaSettings {
    /// The issuer label authenticator apps show next to the account.
    #[serde(deserialize_with = "issuer_label")]
    pub issuer: String,
}

/// The label goes into `otpauth://totp/<issuer>:<account>`, where a colon would split it.
fn issuer_label<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    parsed(deserializer, |raw| {
        if raw.is_empty() || raw.contains(':') {
            Err("must be a non-empty label without ':'")
        } else {
            Ok(raw.to_owned())
        }
    })
}
