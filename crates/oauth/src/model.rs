//! Providers and what they tell us about a person.

use std::fmt;

use authd_kernel::Secret;

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
