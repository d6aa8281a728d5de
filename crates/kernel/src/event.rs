//! Security events: what happened to an account, when, from which client. Repositories write them in the
//! transaction of the change they record, so the log never says something happened that did not, or
//! misses something that did.

use time::OffsetDateTime;

use crate::{Client, Clock, Random, UserId};

crate::uuid_id!(
    /// Identifies a security event; time-ordered.
    EventId
);

/// What happened. The stored and served names are the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An account was created.
    SignedUp,
    /// A sign-in completed (`method`, `mfa`).
    SignedIn,
    /// A sign-in or re-authentication failed (`method`, `reauth`).
    SignInFailed,
    /// A wrong second factor for a pending sign-in.
    MfaFailed,
    /// The user signed out.
    SignedOut,
    /// The user ended a session (`count` and `others` for revoke-others).
    SessionRevoked,
    /// A refresh token was presented twice: the session was revoked.
    RefreshTokenReused,
    /// A factor was proven again in a session (`method`).
    Reauthenticated,
    /// A password reset email was asked for.
    PasswordResetRequested,
    /// The password was reset with an emailed token (every session ended).
    PasswordReset,
    /// TOTP was turned on.
    MfaEnabled,
    /// TOTP was turned off.
    MfaDisabled,
    /// A recovery code was spent.
    RecoveryCodeUsed,
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesRegenerated,
    /// A passkey was registered (`name`).
    PasskeyAdded,
    /// A passkey was deleted (`name`).
    PasskeyRemoved,
    /// A provider identity was linked (`provider`).
    ProviderLinked,
    /// A provider identity was unlinked (`provider`).
    ProviderUnlinked,
    /// The account's failed sign-ins reached the limit: password sign-in is refused for a while.
    LockedOut,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [Self; 19] = [
        Self::SignedUp,
        Self::SignedIn,
        Self::SignInFailed,
        Self::MfaFailed,
        Self::SignedOut,
        Self::SessionRevoked,
        Self::RefreshTokenReused,
        Self::Reauthenticated,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesRegenerated,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::ProviderLinked,
        Self::ProviderUnlinked,
        Self::LockedOut,
    ];

    /// The contract's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SignedUp => "signed_up",
            Self::SignedIn => "signed_in",
            Self::SignInFailed => "sign_in_failed",
            Self::MfaFailed => "mfa_failed",
            Self::SignedOut => "signed_out",
            Self::SessionRevoked => "session_revoked",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::Reauthenticated => "reauthenticated",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::ProviderLinked => "provider_linked",
            Self::ProviderUnlinked => "provider_unlinked",
            Self::LockedOut => "locked_out",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// One value of an event's detail. Never a secret, a code or a token: only words of the service's own
/// vocabulary, names the user chose for things, flags and counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailValue {
    /// A word (`"password"`) or a name (`"YubiKey"`).
    Text(String),
    /// A flag.
    Flag(bool),
    /// A count.
    Count(u64),
}

/// Something that happened to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    /// Its id.
    pub id: EventId,
    /// Whose account.
    pub user_id: UserId,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: OffsetDateTime,
    /// From which client.
    pub client: Client,
    /// A small description, in order.
    pub detail: Vec<(String, DetailValue)>,
}

impl SecurityEvent {
    /// An event of `kind` for `user`, now, from `client`, with no detail yet.
    pub fn new(
        kind: EventKind,
        user: UserId,
        client: &Client,
        clock: &impl Clock,
        random: &impl Random,
    ) -> Self {
        Self {
            id: EventId::generate(clock, random),
            user_id: user,
            kind,
            at: clock.now(),
            client: client.clone(),
            detail: Vec::new(),
        }
    }

    /// The event with one more detail.
    #[must_use]
    pub fn with(mut self, key: &'static str, value: DetailValue) -> Self {
        self.detail.push((key.to_owned(), value));
        self
    }

    /// The event with a word of detail.
    #[must_use]
    pub fn with_text(self, key: &'static str, value: impl Into<String>) -> Self {
        self.with(key, DetailValue::Text(value.into()))
    }

    /// The event with a flag.
    #[must_use]
    pub fn with_flag(self, key: &'static str, value: bool) -> Self {
        self.with(key, DetailValue::Flag(value))
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_parses_back_from_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("made_up"), None);
    }
}

/// An event's detail as a JSON object (`{"method": "passkey", "mfa": true}`), for the store and the API.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, Copy)]
pub struct DetailObject<'a>(pub &'a [(String, DetailValue)]);

#[cfg(feature = "serde")]
impl serde::Serialize for DetailObject<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            match value {
                DetailValue::Text(text) => map.serialize_entry(key, text)?,
                DetailValue::Flag(flag) => map.serialize_entry(key, flag)?,
                DetailValue::Count(count) => map.serialize_entry(key, count)?,
            }
        }
        map.end()
    }
}
