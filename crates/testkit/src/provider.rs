//! A scripted identity provider: it issues the code `good` and answers with the identity the test sets.

use std::sync::{Arc, Mutex, PoisonError};

use authd_kernel::Secret;
use authd_oauth::ports::IdentityProvider;
use authd_oauth::{AuthorizationRequest, OAuthError, ProviderIdentity, ProviderKind};

/// A GitHub stand-in that checks the exchange carries the PKCE verifier and nonce of the authorization it
/// began, then answers with [`Self::answer_with`]'s identity; clones share the script.
#[derive(Debug, Clone, Default)]
pub struct ScriptedProvider {
    identity: Arc<Mutex<Option<ProviderIdentity>>>,
    began: Arc<Mutex<Option<(String, String)>>>,
}

impl ScriptedProvider {
    /// The identity the next exchanges answer with.
    pub fn answer_with(&self, identity: ProviderIdentity) {
        *self.identity.lock().unwrap_or_else(PoisonError::into_inner) = Some(identity);
    }

    /// The `state` of an authorize URL this provider made.
    pub fn state_of(authorize_url: &str) -> Option<&str> {
        authorize_url.split("state=").nth(1)
    }
}

impl IdentityProvider for ScriptedProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::GitHub
    }

    async fn authorize_url(&self, request: &AuthorizationRequest) -> Result<String, OAuthError> {
        *self.began.lock().unwrap_or_else(PoisonError::into_inner) = Some((
            request.pkce_verifier.expose().to_owned(),
            request.nonce.expose().to_owned(),
        ));
        Ok(format!(
            "https://provider.example/authorize?state={}",
            request.state.expose()
        ))
    }

    async fn exchange(
        &self,
        code: &Secret,
        request: &AuthorizationRequest,
    ) -> Result<ProviderIdentity, OAuthError> {
        let began = self
            .began
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let expected = (
            request.pkce_verifier.expose().to_owned(),
            request.nonce.expose().to_owned(),
        );
        if code.expose() != "good" || began != Some(expected) {
            return Err(OAuthError::Refused("bad code or verifier".into()));
        }
        self.identity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| OAuthError::Unavailable("no identity scripted".into()))
    }
}
