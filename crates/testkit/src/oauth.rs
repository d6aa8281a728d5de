//! In-memory OAuth storage, over the in-memory users.

use std::sync::{Arc, Mutex, PoisonError};

use authd_identity::ports::{LoginMethodRepository, UserRepository};
use authd_identity::{
    Email, IdentityError, LoginMethods, NewWorkspace, PasswordHash, Profile, User,
};
use authd_kernel::{StoreError, TokenHash, UserId};
use authd_oauth::ports::OAuthRepository;
use authd_oauth::{LinkedIdentity, OAuthError, PendingAuthorization, ProviderKind};
use time::OffsetDateTime;

use crate::MemoryUsers;

#[derive(Debug, Default)]
struct State {
    pending: Vec<PendingAuthorization>,
    links: Vec<LinkedIdentity>,
}

/// Pending authorizations and links in vectors, over [`MemoryUsers`]; clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryOAuth {
    users: MemoryUsers,
    state: Arc<Mutex<State>>,
}

impl MemoryOAuth {
    /// Over these users.
    pub fn new(users: MemoryUsers) -> Self {
        Self {
            users,
            state: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn clashes(&self, link: &LinkedIdentity) -> bool {
        self.state().links.iter().any(|l| {
            l.provider == link.provider && (l.subject == link.subject || l.user_id == link.user_id)
        })
    }
}

impl OAuthRepository for MemoryOAuth {
    async fn save_authorization(&self, pending: &PendingAuthorization) -> Result<(), StoreError> {
        self.state().pending.push(pending.clone());
        Ok(())
    }

    async fn take_authorization(
        &self,
        state_hash: &TokenHash,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        let mut state = self.state();
        let index = state
            .pending
            .iter()
            .position(|p| &p.state_hash == state_hash);
        Ok(index.map(|i| state.pending.remove(i)))
    }

    async fn find_link(
        &self,
        provider: ProviderKind,
        subject: &str,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        Ok(self
            .state()
            .links
            .iter()
            .find(|l| l.provider == provider && l.subject == subject)
            .cloned())
    }

    async fn links_of(&self, user: UserId) -> Result<Vec<LinkedIdentity>, StoreError> {
        Ok(self
            .state()
            .links
            .iter()
            .filter(|l| l.user_id == user)
            .cloned()
            .collect())
    }

    async fn link(&self, link: &LinkedIdentity) -> Result<(), OAuthError> {
        if self.clashes(link) {
            return Err(OAuthError::ProviderAlreadyLinked);
        }
        self.state().links.push(link.clone());
        Ok(())
    }

    async fn create_user_with_link(
        &self,
        user: &User,
        workspace: &NewWorkspace,
        link: &LinkedIdentity,
    ) -> Result<(), OAuthError> {
        if self.clashes(link) {
            return Err(OAuthError::ProviderAlreadyLinked);
        }
        self.users
            .create_with_workspace(user, workspace)
            .await
            .map_err(|e| match e {
                IdentityError::EmailTaken => OAuthError::NoUsableEmail("email taken"),
                other => OAuthError::Unavailable(other.to_string()),
            })?;
        self.state().links.push(link.clone());
        Ok(())
    }

    async fn unlink(&self, user: UserId, provider: ProviderKind) -> Result<bool, StoreError> {
        let mut state = self.state();
        let before = state.links.len();
        state
            .links
            .retain(|l| !(l.user_id == user && l.provider == provider));
        Ok(state.links.len() < before)
    }
}

impl UserRepository for MemoryOAuth {
    async fn create_with_workspace(
        &self,
        user: &User,
        workspace: &NewWorkspace,
    ) -> Result<(), IdentityError> {
        self.users.create_with_workspace(user, workspace).await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.users.find_by_email(email).await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.users.find_by_id(id).await
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.users.set_password_hash(id, hash, at).await
    }

    async fn find_profile(&self, id: UserId) -> Result<Option<Profile>, StoreError> {
        self.users.find_profile(id).await
    }
}

impl LoginMethodRepository for MemoryOAuth {
    /// This fake stores no passkeys, so it counts none.
    async fn login_methods(&self, user: UserId) -> Result<LoginMethods, StoreError> {
        let password = self
            .users
            .find_by_id(user)
            .await?
            .is_some_and(|u| u.has_password());
        let providers = self
            .state()
            .links
            .iter()
            .filter(|l| l.user_id == user)
            .count();
        Ok(LoginMethods {
            password,
            passkeys: 0,
            providers: u64::try_from(providers).unwrap_or(u64::MAX),
        })
    }
}
