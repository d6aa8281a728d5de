//! `[secrets]`: the key that seals readable secrets at rest, when it is given rather than generated.

use authd_kernel::SealingKey;
use serde::{Deserialize, Deserializer};

use super::values::parsed;

/// `[secrets]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSettings {
    /// 32 bytes as 64 hex characters; encrypts TOTP secrets and the stored signing key at rest. Unset:
    /// generated on first start and stored in the database. Its `Debug` never shows the key.
    #[serde(default, deserialize_with = "sealing_key")]
    pub encryption_key: Option<SealingKey>,
}

fn sealing_key<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<SealingKey>, D::Error> {
    parsed(deserializer, |hex| {
        SealingKey::from_hex(hex)
            .map(Some)
            .ok_or("must be 32 bytes as 64 hex characters")
    })
}
