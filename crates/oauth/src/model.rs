//! Providers and what they tell us about a person.

use std::fmt;

use authd_kernel::{Secret, TokenHash, UserId};
use authd_session::SessionId;
use time::OffsetDateTime;

use crate::RedirectPath;

/// What the provider's redirect back carried besides `state`.
#[derive(Debug)]
pub enum ProviderReply {
    /// An authorization code to exchange.
    Code(Secret),
    /// No code: the provider's `error` (the person declined, say), or a note that nothing came.
    Refusal(String),
}

/// The providers authd can sign people in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// GitHub, over OAuth 2.0 (`GET /user`, `GET /user/emails`).
    GitHub,
    /// Google, over OpenID Connect (ID token verified with the issuer's JWKS).
    Google,
}

impl ProviderKind {
    /// The name used in paths and storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::GitHub => "github",
            Self::Google => "google",
        }
    }

    /// Parses a path segment.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "github" => Some(Self::GitHub),
            "google" => Some(Self::Google),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the browser is sent to the provider with. The caller generates and keeps the secrets (state, PKCE
/// verifier, nonce); the adapter only puts them on the wire.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// Where the provider sends the browser back (`<public_url>/auth/<provider>/callback`).
    pub redirect_uri: String,
    /// The CSRF `state` parameter.
    pub state: Secret,
    /// The PKCE code verifier; the adapter sends its S256 challenge.
    pub pkce_verifier: Secret,
    /// The OpenID Connect nonce (ignored by plain OAuth 2.0 providers).
    pub nonce: Secret,
}

/// A person as a provider vouches for them.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// Which provider.
    pub provider: ProviderKind,
    /// The provider's stable id for the person (GitHub's numeric id, Google's `sub`).
    pub subject: String,
    /// Their email, if the provider gave one.
    pub email: Option<String>,
    /// Whether the provider says it verified that email (GitHub: primary and verified; Google:
    /// `email_verified`).
    pub email_verified: bool,
    /// A display name, if any.
    pub name: Option<String>,
}

impl fmt::Debug for ProviderIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderIdentity")
            .field("provider", &self.provider)
            .field("subject", &self.subject)
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

/// What a provider flow is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowPurpose {
    /// Sign in (or sign up) with the provider identity.
    SignIn,
    /// Attach the provider identity to this signed-in user's account, while the session that began the flow
    /// is live.
    Link {
        /// Whose account.
        user: UserId,
        /// The session that began the flow.
        session: SessionId,
    },
}

/// A sign-in or link begun at `/auth/<provider>/login|link`, waiting for the callback. Stored server-side
/// under the hash of its `state`; single use.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    /// SHA-256 of the `state` parameter.
    pub state_hash: TokenHash,
    /// The provider it went to.
    pub provider: ProviderKind,
    /// SHA-256 of the browser-binding cookie set with the redirect: the callback must come from the same
    /// browser (login CSRF).
    pub binding_hash: TokenHash,
    /// The PKCE verifier (short-lived; useless without the code only the browser receives).
    pub pkce_verifier: Secret,
    /// The OpenID Connect nonce.
    pub nonce: Secret,
    /// Where to land afterwards.
    pub redirect_to: RedirectPath,
    /// A sign-in, or a link to a signed-in user's account.
    pub purpose: FlowPurpose,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// After this the callback is refused.
    pub expires_at: OffsetDateTime,
}

/// A provider identity attached to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// The account.
    pub user_id: UserId,
    /// The provider.
    pub provider: ProviderKind,
    /// The provider's id for the person.
    pub subject: String,
    /// The email the provider reported when linked.
    pub email: Option<String>,
    /// When it was linked.
    pub linked_at: OffsetDateTime,
}
