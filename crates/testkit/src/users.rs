//! An in-memory user repository.

use std::sync::{Arc, Mutex, PoisonError};

use authd_identity::ports::UserRepository;
use authd_identity::{Email, IdentityError, Membership, NewWorkspace, PasswordHash, Role, User};
use authd_kernel::{StoreError, UserId};
use time::OffsetDateTime;

#[derive(Debug, Default)]
struct State {
    users: Vec<User>,
    workspaces: Vec<NewWorkspace>,
}

/// Users and workspaces in a vector; clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryUsers(Arc<Mutex<State>>);

impl MemoryUsers {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
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

    async fn memberships(&self, id: UserId) -> Result<Vec<Membership>, StoreError> {
        Ok(self
            .state()
            .workspaces
            .iter()
            .filter(|w| w.owner == id)
            .map(|w| Membership {
                workspace: w.workspace.clone(),
                role: Role::Owner,
            })
            .collect())
    }
}
