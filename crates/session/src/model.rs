//! Sessions and refresh-token records.

use authd_kernel::{Client, TokenHash, UserId};
use time::OffsetDateTime;

authd_kernel::uuid_id!(
    /// The id of a session (one sign-in, across its refreshes).
    SessionId
);

/// Where a session stands with respect to multi-factor authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaStatus {
    /// The user has no second factor: the password was enough.
    NotEnrolled,
    /// The user has a second factor and has not presented it yet: a pending session.
    Pending,
    /// The second factor was presented.
    Verified,
}

impl MfaStatus {
    /// The stable string used in tokens and storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotEnrolled => "not_enrolled",
            Self::Pending => "pending",
            Self::Verified => "verified",
        }
    }

    /// Parses the stable string.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "not_enrolled" => Some(Self::NotEnrolled),
            "pending" => Some(Self::Pending),
            "verified" => Some(Self::Verified),
            _ => None,
        }
    }

    /// Whether a session in this state may use the service (everything but the MFA step itself).
    pub const fn is_satisfied(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

/// A sign-in, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its id, carried in every access token of the session.
    pub id: SessionId,
    /// Whose session.
    pub user_id: UserId,
    /// Whether MFA is satisfied.
    pub mfa: MfaStatus,
    /// When it began.
    pub created_at: OffsetDateTime,
    /// When it ends unless refreshed (a refresh pushes it forward).
    pub expires_at: OffsetDateTime,
    /// When it was revoked (logout, reuse detection, password reset).
    pub revoked_at: Option<OffsetDateTime>,
    /// When a factor was last proven in it: sign-in, second factor, re-authentication (not refresh).
    pub authenticated_at: OffsetDateTime,
    /// Its last sign-in, refresh or re-authentication.
    pub last_used_at: OffsetDateTime,
    /// The client of that last use.
    pub client: Client,
    /// How the session was signed in.
    pub method: SignInMethod,
}

/// How a session was signed in: the contract's `method` of a `signed_in` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// Email and password.
    Password,
    /// A passkey.
    Passkey,
    /// GitHub.
    GitHub,
    /// Google.
    Google,
}

impl SignInMethod {
    /// The stored and served name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Passkey => "passkey",
            Self::GitHub => "github",
            Self::Google => "google",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Password, Self::Passkey, Self::GitHub, Self::Google]
            .into_iter()
            .find(|m| m.as_str() == raw)
    }
}

impl Session {
    /// Whether the session can still be used at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// One refresh token of a session, stored only by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// The session it refreshes.
    pub session_id: SessionId,
    /// Issue time.
    pub created_at: OffsetDateTime,
    /// Expiry.
    pub expires_at: OffsetDateTime,
    /// When it was exchanged for a new pair; a second exchange is reuse.
    pub used_at: Option<OffsetDateTime>,
}
