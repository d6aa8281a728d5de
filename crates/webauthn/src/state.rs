//! What `Ceremony.state` holds between the two halves of a ceremony: the core's own state, tagged with the
//! kind of ceremony so that a registration state cannot finish a login (or the reverse).

use authd_passkey::PasskeyError;
use serde::{Deserialize, Serialize};
use webauthn_rs_core::proto::{AuthenticationState, RegistrationState};

/// One begun ceremony, serialised as JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "ceremony", rename_all = "snake_case")]
pub(crate) enum CeremonyState {
    /// A registration.
    Registration { state: RegistrationState },
    /// A login offering these credential ids (the core keeps them too, but privately).
    AllowList {
        allowed: Vec<Vec<u8>>,
        state: AuthenticationState,
    },
    /// A usernameless login: any discoverable credential, identified by its user handle.
    Discoverable { state: AuthenticationState },
}

impl CeremonyState {
    pub(crate) fn to_json(&self) -> Result<String, PasskeyError> {
        serde_json::to_string(self).map_err(|e| PasskeyError::RelyingParty(e.to_string()))
    }

    /// The state authd stored. It is authd's own data, so a state that does not parse is an internal
    /// problem (or a state from another adapter), not the browser's fault.
    pub(crate) fn from_json(json: &str) -> Result<Self, PasskeyError> {
        serde_json::from_str(json)
            .map_err(|e| PasskeyError::RelyingParty(format!("unreadable ceremony state: {e}")))
    }
}
