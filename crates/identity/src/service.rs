//! The register and login use cases.

use authd_kernel::{Client, Clock, EventKind, Random, Secret, SecurityEvent, StoreError, UserId};

use crate::ports::{PasswordHasher, UserRepository};
use crate::{
    DisplayName, Email, IdentityError, NewPassword, NewWorkspace, Profile, User, Verification,
};

/// A sign-up request as the outside world gives it (unparsed).
#[derive(Debug)]
pub struct Registration {
    /// Email, any case, maybe padded.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Chosen password.
    pub password: Secret,
}

/// The identity use cases over their ports.
#[derive(Debug, Clone)]
pub struct IdentityService<U, H, C, R> {
    users: U,
    hasher: H,
    clock: C,
    random: R,
}

impl<U, H, C, R> IdentityService<U, H, C, R>
where
    U: UserRepository,
    H: PasswordHasher,
    C: Clock,
    R: Random,
{
    /// Wires the use cases to their ports.
    pub fn new(users: U, hasher: H, clock: C, random: R) -> Self {
        Self {
            users,
            hasher,
            clock,
            random,
        }
    }

    /// Creates an account with its personal workspace (role owner).
    ///
    /// # Errors
    /// [`IdentityError::InvalidEmail`], [`IdentityError::InvalidName`], [`IdentityError::WeakPassword`],
    /// [`IdentityError::EmailTaken`], [`IdentityError::Busy`], or a storage failure.
    pub async fn register(
        &self,
        registration: Registration,
        client: &Client,
    ) -> Result<User, IdentityError> {
        let email = Email::parse(&registration.email)?;
        let name = DisplayName::parse(&registration.name)?;
        let password = NewPassword::parse(registration.password)?;
        let password_hash = self.hasher.hash(&password).await?;
        let now = self.clock.now();
        let user = User {
            id: UserId::generate(&self.clock, &self.random),
            email,
            name,
            password_hash: Some(password_hash),
            created_at: now,
            updated_at: now,
        };
        let workspace = NewWorkspace::personal_for(&user, &self.clock, &self.random);
        let signed_up = SecurityEvent::new(
            EventKind::SignedUp,
            user.id,
            client,
            &self.clock,
            &self.random,
        )
        .with_text("method", "password");
        self.users
            .create_with_workspace(&user, &workspace, Some(&signed_up))
            .await?;
        Ok(user)
    }

    /// Checks an email and password. Unknown emails, malformed emails, accounts without a password and wrong
    /// passwords all cost one scrypt verification and end in the same error.
    ///
    /// # Errors
    /// [`IdentityError::InvalidCredentials`], [`IdentityError::Busy`], or a storage failure.
    pub async fn login(&self, email: &str, password: &Secret) -> Result<User, IdentityError> {
        let user = match Email::parse(email) {
            Ok(email) => self.users.find_by_email(&email).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.as_ref());
        match (self.hasher.verify(password, stored).await?, user) {
            (Verification::Match { rehash }, Some(user)) => {
                if rehash {
                    self.rehash(&user, password).await;
                }
                Ok(user)
            }
            _ => Err(IdentityError::InvalidCredentials),
        }
    }

    /// The account registered under `email`, if any (an address that does not parse has none).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn account_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        match Email::parse(email) {
            Ok(email) => self.users.find_by_email(&email).await,
            Err(_) => Ok(None),
        }
    }

    /// Upgrades a hash made at an older cost. Best effort: the login already succeeded, and the next one
    /// will try again.
    async fn rehash(&self, user: &User, password: &Secret) {
        let result = async {
            // The password was accepted when it was set; only its hash's cost is being changed.
            let password = NewPassword::unchecked(password.clone());
            let hash = self.hasher.hash(&password).await?;
            self.users
                .set_password_hash(user.id, &hash, self.clock.now())
                .await?;
            Ok::<(), IdentityError>(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(user_id = %user.id, error = %err, "could not upgrade a password hash to the configured cost");
        }
    }

    /// The account with this id, if it still exists.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.users.find_by_id(id).await
    }

    /// The account with its workspaces and roles, if it still exists.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn profile(&self, id: UserId) -> Result<Option<Profile>, StoreError> {
        self.users.find_profile(id).await
    }
}
