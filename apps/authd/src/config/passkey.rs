//! `[passkey]`: the WebAuthn relying party, by default the frontend itself.

use authd_webauthn::RpConfig;
use serde::Deserialize;

use super::values::{Origin, RP_ID_EXPECTED, RpId};
use super::{ConfigError, invalid};

/// `[passkey]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeySettings {
    /// The RP id: the domain passkeys are bound to (`example.com`); unset means the frontend URL's host.
    pub rp_id: Option<RpId>,
    /// The origin the browser runs the ceremonies on; unset means the frontend URL's origin.
    pub rp_origin: Option<Origin>,
    /// The name authenticators show.
    pub rp_name: String,
}

impl PasskeySettings {
    /// The relying party, with what is unset taken from the frontend's origin.
    pub fn relying_party(&self, frontend: &Origin) -> RpConfig {
        RpConfig {
            rp_id: self.id_or(frontend).to_owned(),
            rp_origin: self.origin_or(frontend).as_str().to_owned(),
            rp_name: self.rp_name.clone(),
        }
    }

    /// The rule that needs the frontend too: the ceremonies' origin must be on the RP id (the id itself or
    /// a subdomain), and a defaulted id must be a domain at all.
    pub(super) fn check(&self, frontend: &Origin) -> Result<(), ConfigError> {
        let rp_id = self.id_or(frontend);
        if !RpId::is_valid(rp_id) {
            return Err(invalid("passkey.rp_id", RP_ID_EXPECTED));
        }
        let origin = self.origin_or(frontend);
        let host = origin.host();
        if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            return Err(invalid(
                "passkey.rp_id",
                format!("the passkey origin {origin} is not on {rp_id} or a subdomain of it"),
            ));
        }
        Ok(())
    }

    fn id_or<'a>(&'a self, frontend: &'a Origin) -> &'a str {
        self.rp_id.as_ref().map_or(frontend.host(), RpId::as_str)
    }

    fn origin_or<'a>(&'a self, frontend: &'a Origin) -> &'a Origin {
        self.rp_origin.as_ref().unwrap_or(frontend)
    }
}
