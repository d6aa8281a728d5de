//! Accounts, their workspaces, and what they can sign in with.

use authd_identity::ports::{LoginMethodRepository, UserRepository};
use authd_identity::{
    Email, IdentityError, LoginMethods, Membership, NewWorkspace, PasswordHash, Profile, Role, User,
};
use authd_kernel::{SecurityEvent, StoreError, UserId};
use time::OffsetDateTime;

use super::{MemoryStore, Tables, count};

impl MemoryStore {
    /// How many accounts exist.
    pub fn user_count(&self) -> usize {
        self.tables().users.len()
    }
}

impl Tables {
    /// Inserts an account and its workspace, or nothing: the store's unique email and primary keys.
    pub(super) fn insert_account(
        &mut self,
        user: &User,
        workspace: &NewWorkspace,
    ) -> Result<(), IdentityError> {
        if self.users.iter().any(|u| u.email == user.email) {
            return Err(IdentityError::EmailTaken);
        }
        if self.users.iter().any(|u| u.id == user.id)
            || self
                .workspaces
                .iter()
                .any(|w| w.workspace.id == workspace.workspace.id)
        {
            return Err(IdentityError::Store(StoreError::message(
                "duplicate primary key",
            )));
        }
        self.users.push(user.clone());
        self.workspaces.push(workspace.clone());
        Ok(())
    }

    pub(super) fn user_mut(&mut self, id: UserId) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.id == id)
    }
}

impl UserRepository for MemoryStore {
    async fn create_with_workspace(
        &self,
        user: &User,
        workspace: &NewWorkspace,
        event: Option<&SecurityEvent>,
    ) -> Result<(), IdentityError> {
        let mut tables = self.tables();
        tables.insert_account(user, workspace)?;
        tables.events.extend(event.cloned());
        Ok(())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self
            .tables()
            .users
            .iter()
            .find(|u| &u.email == email)
            .cloned())
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.tables().users.iter().find(|u| u.id == id).cloned())
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if let Some(user) = self.tables().user_mut(id) {
            user.password_hash = Some(hash.clone());
            user.updated_at = at;
        }
        Ok(())
    }

    async fn find_profile(&self, id: UserId) -> Result<Option<Profile>, StoreError> {
        let tables = self.tables();
        let Some(user) = tables.users.iter().find(|u| u.id == id).cloned() else {
            return Ok(None);
        };
        // Workspaces are only ever created with their owner, so ownership is the only membership.
        let memberships = tables
            .workspaces
            .iter()
            .filter(|w| w.owner == id)
            .map(|w| Membership {
                workspace: w.workspace.clone(),
                role: Role::Owner,
            })
            .collect();
        Ok(Some(Profile { user, memberships }))
    }
}

impl LoginMethodRepository for MemoryStore {
    async fn login_methods(&self, user: UserId) -> Result<LoginMethods, StoreError> {
        let tables = self.tables();
        let Some(account) = tables.users.iter().find(|u| u.id == user) else {
            return Ok(LoginMethods::default());
        };
        Ok(LoginMethods {
            password: account.has_password(),
            passkeys: count(tables.passkeys.iter().filter(|p| p.user_id == user).count()),
            providers: count(tables.links.iter().filter(|l| l.user_id == user).count()),
        })
    }
}
