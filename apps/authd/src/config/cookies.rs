//! `[cookies]`: the attributes of the session cookies.

use serde::Deserialize;

/// `[cookies]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CookieSettings {
    /// `Secure` attribute; turn off only for plain-http local development.
    pub secure: bool,
}
