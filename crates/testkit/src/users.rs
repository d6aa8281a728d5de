//! An in-memory user repository.

use std::sync::{Arc, Mutex, PoisonError};

use authd_identity::ports::{PasswordResetRepository, UserRepository};
use authd_identity::{
    Email, IdentityError, Membership, NewWorkspace, OutgoingEmail, PasswordHash, PasswordReset,
    Profile, Role, User,
};
use authd_kernel::{StoreError, TokenHash, UserId};
use time::OffsetDateTime;

#[derive(Debug, Default)]
struct State {
    users: Vec<User>,
    workspaces: Vec<NewWorkspace>,
    resets: Vec<PasswordReset>,
    outbox: Vec<OutgoingEmail>,
}

/// Users and workspaces in a vector; clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryUsers(Arc<Mutex<State>>);

impl MemoryUsers {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The emails queued so far, oldest first.
    pub fn outbox(&self) -> Vec<OutgoingEmail> {
        self.state().outbox.clone()
    }

    /// How many accounts exist.
    pub fn count(&self) -> usize {
        self.state().users.len()
    }
}

impl UserRepository for MemoryUsers {
    async fn create_with_workspace(
        &self,
        user: &User,
        workspace: &NewWorkspace,
    ) -> Result<(), IdentityError> {
        let mut state = self.state();
        if state.users.iter().any(|u| u.email == user.email) {
            return Err(IdentityError::EmailTaken);
        }
        state.users.push(user.clone());
        state.workspaces.push(workspace.clone());
        Ok(())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self
            .state()
            .users
            .iter()
            .find(|u| &u.email == email)
            .cloned())
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state().users.iter().find(|u| u.id == id).cloned())
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if let Some(user) = self.state().users.iter_mut().find(|u| u.id == id) {
            user.password_hash = Some(hash.clone());
            user.updated_at = at;
        }
        Ok(())
    }

    async fn find_profile(&self, id: UserId) -> Result<Option<Profile>, StoreError> {
        let state = self.state();
        let Some(user) = state.users.iter().find(|u| u.id == id).cloned() else {
            return Ok(None);
        };
        let memberships = state
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

impl PasswordResetRepository for MemoryUsers {
    async fn replace_reset_and_enqueue(
        &self,
        reset: &PasswordReset,
        email: &OutgoingEmail,
        _correlation: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        state
            .resets
            .retain(|r| r.user_id != reset.user_id || r.used_at.is_some());
        state.resets.push(reset.clone());
        state.outbox.push(email.clone());
        Ok(())
    }

    async fn find_reset(&self, hash: &TokenHash) -> Result<Option<PasswordReset>, StoreError> {
        Ok(self
            .state()
            .resets
            .iter()
            .find(|r| &r.hash == hash)
            .cloned())
    }

    async fn consume_reset_and_sign_out(
        &self,
        hash: &TokenHash,
        user: UserId,
        password_hash: &PasswordHash,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(reset) = state
            .resets
            .iter_mut()
            .find(|r| &r.hash == hash && r.used_at.is_none())
        else {
            return Ok(false);
        };
        reset.used_at = Some(now);
        if let Some(account) = state.users.iter_mut().find(|u| u.id == user) {
            account.password_hash = Some(password_hash.clone());
            account.updated_at = now;
        }
        Ok(true)
    }
}
