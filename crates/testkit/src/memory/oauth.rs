//! Pending OAuth authorizations and linked identities.

use authd_identity::{IdentityError, NewWorkspace, User};
use authd_kernel::{SecurityEvent, StoreError, TokenHash, UserId};
use authd_oauth::ports::OAuthRepository;
use authd_oauth::{FlowPurpose, LinkedIdentity, OAuthError, PendingAuthorization, ProviderKind};

use super::{MemoryStore, Tables};

impl Tables {
    /// The store's two unique keys on links: (provider, subject) and (user, provider).
    fn clashes(&self, link: &LinkedIdentity) -> bool {
        self.links.iter().any(|l| {
            l.provider == link.provider && (l.subject == link.subject || l.user_id == link.user_id)
        })
    }
}

impl OAuthRepository for MemoryStore {
    async fn drop_link_flows_of(&self, user: UserId) -> Result<(), StoreError> {
        self.tables().authorizations.retain(
            |p| !matches!(p.purpose, FlowPurpose::Link { user: owner, .. } if owner == user),
        );
        Ok(())
    }

    async fn save_authorization(&self, pending: &PendingAuthorization) -> Result<(), StoreError> {
        self.tables().authorizations.push(pending.clone());
        Ok(())
    }

    async fn take_authorization(
        &self,
        state_hash: &TokenHash,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        let mut tables = self.tables();
        let index = tables
            .authorizations
            .iter()
            .position(|p| &p.state_hash == state_hash);
        Ok(index.map(|i| tables.authorizations.remove(i)))
    }

    async fn find_link(
        &self,
        provider: ProviderKind,
        subject: &str,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        Ok(self
            .tables()
            .links
            .iter()
            .find(|l| l.provider == provider && l.subject == subject)
            .cloned())
    }

    async fn links_of(&self, user: UserId) -> Result<Vec<LinkedIdentity>, StoreError> {
        let mut links: Vec<_> = self
            .tables()
            .links
            .iter()
            .filter(|l| l.user_id == user)
            .cloned()
            .collect();
        links.sort_by_key(|l| l.linked_at);
        Ok(links)
    }

    async fn link(&self, link: &LinkedIdentity, event: &SecurityEvent) -> Result<(), OAuthError> {
        let mut tables = self.tables();
        if tables.clashes(link) {
            return Err(OAuthError::ProviderAlreadyLinked);
        }
        tables.links.push(link.clone());
        tables.events.push(event.clone());
        Ok(())
    }

    async fn create_user_with_link(
        &self,
        user: &User,
        workspace: &NewWorkspace,
        link: &LinkedIdentity,
        event: &SecurityEvent,
    ) -> Result<(), OAuthError> {
        let mut tables = self.tables();
        if tables.clashes(link) {
            return Err(OAuthError::ProviderAlreadyLinked);
        }
        tables
            .insert_account(user, workspace)
            .map_err(|err| match err {
                IdentityError::EmailTaken => {
                    OAuthError::NoUsableEmail("an account with this email was just created")
                }
                IdentityError::Store(err) => OAuthError::Store(err),
                other => OAuthError::Store(StoreError::message(other.to_string())),
            })?;
        tables.links.push(link.clone());
        tables.events.push(event.clone());
        Ok(())
    }

    async fn unlink(
        &self,
        user: UserId,
        provider: ProviderKind,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let before = tables.links.len();
        tables
            .links
            .retain(|l| !(l.user_id == user && l.provider == provider));
        let removed = tables.links.len() < before;
        if removed {
            tables.events.push(event.clone());
        }
        Ok(removed)
    }
}
