//! `[tokens]`: token and session lifetimes, and the signing key when it is given rather than generated.

use std::num::NonZeroU32;

use authd_kernel::Secret;
use authd_session::{KeyId, SessionPolicy, SigningKey};
use serde::Deserialize;
use time::Duration;

use super::named;

/// `[tokens]`
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "TokenFields")]
pub struct TokenSettings {
    /// Access token lifetime.
    pub access_ttl_secs: NonZeroU32,
    /// Refresh token lifetime.
    pub refresh_ttl_secs: NonZeroU32,
    /// Lifetime of an MFA-pending session.
    pub mfa_pending_ttl_secs: NonZeroU32,
    /// Password-reset token lifetime.
    pub reset_ttl_secs: NonZeroU32,
    /// How long a session lives from sign-in, however often it is refreshed.
    pub session_max_lifetime_secs: NonZeroU32,
    /// The key to sign with instead of the one stored in the database, under its configured id
    /// (`signing_key` and `signing_key_id`). Its `Debug` shows the id only.
    pub signing_key: Option<SigningKey>,
}

/// The section as written: the key and its id are two keys, but one value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFields {
    access_ttl_secs: NonZeroU32,
    refresh_ttl_secs: NonZeroU32,
    mfa_pending_ttl_secs: NonZeroU32,
    reset_ttl_secs: NonZeroU32,
    session_max_lifetime_secs: NonZeroU32,
    signing_key: Option<Secret>,
    signing_key_id: u32,
}

impl TryFrom<TokenFields> for TokenSettings {
    /// Already naming the key (see [`named`]): serde passes only the text on.
    type Error = String;

    fn try_from(fields: TokenFields) -> Result<Self, String> {
        let signing_key = fields
            .signing_key
            .map(|hex| SigningKey::from_hex(KeyId(fields.signing_key_id), hex.expose()))
            .transpose()
            .map_err(|e| named("tokens.signing_key", e))?;
        Ok(Self {
            access_ttl_secs: fields.access_ttl_secs,
            refresh_ttl_secs: fields.refresh_ttl_secs,
            mfa_pending_ttl_secs: fields.mfa_pending_ttl_secs,
            reset_ttl_secs: fields.reset_ttl_secs,
            session_max_lifetime_secs: fields.session_max_lifetime_secs,
            signing_key,
        })
    }
}

impl TokenSettings {
    /// The session lifetimes.
    pub fn policy(&self) -> SessionPolicy {
        SessionPolicy {
            access_ttl: seconds(self.access_ttl_secs),
            refresh_ttl: seconds(self.refresh_ttl_secs),
            pending_ttl: seconds(self.mfa_pending_ttl_secs),
            max_lifetime: seconds(self.session_max_lifetime_secs),
        }
    }

    /// The password-reset token lifetime.
    pub fn reset_ttl(&self) -> Duration {
        seconds(self.reset_ttl_secs)
    }
}

fn seconds(secs: NonZeroU32) -> Duration {
    Duration::seconds(secs.get().into())
}
