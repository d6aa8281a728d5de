//! What is stored about a user's second factor.

use authd_kernel::UserId;
use time::OffsetDateTime;

/// A TOTP secret encrypted with the service's key (nonce and ciphertext with tag, as one byte string).
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedSecret(pub Vec<u8>);

impl std::fmt::Debug for EncryptedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncryptedSecret({} bytes)", self.0.len())
    }
}

/// Whether the factor is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaState {
    /// Setup was called; waiting for a first correct code to confirm.
    Pending,
    /// Confirmed: logins need the second factor.
    Enabled,
    /// Turned off: the secret and recovery codes are gone; the row keeps the dates.
    Disabled,
}

impl MfaState {
    /// The stable string used in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
        }
    }

    /// Parses the stored string.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "enabled" => Some(Self::Enabled),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// One user's TOTP factor, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaRecord {
    /// Whose.
    pub user_id: UserId,
    /// The encrypted TOTP secret (empty once disabled).
    pub secret: EncryptedSecret,
    /// Pending, enabled or disabled.
    pub state: MfaState,
    /// The last TOTP time step accepted: a code of this step or an earlier one is never accepted again.
    pub last_used_step: Option<u64>,
    /// When setup was (last) called.
    pub created_at: OffsetDateTime,
    /// When it was confirmed.
    pub enabled_at: Option<OffsetDateTime>,
    /// When the current recovery codes were generated.
    pub recovery_codes_generated_at: Option<OffsetDateTime>,
    /// When it was last disabled.
    pub disabled_at: Option<OffsetDateTime>,
}

/// The SHA-256 (hex) of a normalised recovery code: codes carry enough entropy that a fast hash suffices.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecoveryCodeHash(pub String);
