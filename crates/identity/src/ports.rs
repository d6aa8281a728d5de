//! The ports the identity use cases need. Adapters implement them; the app picks which.

use std::future::Future;

use authd_kernel::{Secret, SecurityEvent, StoreError, TokenHash, UserId};
use time::OffsetDateTime;

use crate::{
    Email, IdentityError, LoginMethods, MailFailure, NewPassword, NewWorkspace, OutgoingEmail,
    PasswordHash, PasswordReset, Profile, User, Verification,
};

/// Storage of user accounts and their workspaces.
pub trait UserRepository: Send + Sync {
    /// Inserts the user, their personal workspace and the owner membership, and records `event` (the
    /// `signed_up` of a sign-up) when given, all or nothing.
    ///
    /// # Errors
    /// MUST return [`IdentityError::EmailTaken`] when an account with this email exists, and
    /// [`IdentityError::Store`] for any storage failure. On error nothing is written.
    fn create_with_workspace(
        &self,
        user: &User,
        workspace: &NewWorkspace,
        event: Option<&SecurityEvent>,
    ) -> impl Future<Output = Result<(), IdentityError>> + Send;

    /// The account with this (normalised) email.
    ///
    /// # Errors
    /// A storage failure.
    fn find_by_email(
        &self,
        email: &Email,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// The account with this id.
    ///
    /// # Errors
    /// A storage failure.
    fn find_by_id(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Replaces the account's password hash.
    ///
    /// # Errors
    /// A storage failure.
    fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The account with its workspaces (oldest first), if it exists. A real store answers in one round
    /// trip: this is on the path of every token validation.
    ///
    /// # Errors
    /// A storage failure.
    fn find_profile(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<Profile>, StoreError>> + Send;
}

/// Password hashing off the caller's executor.
pub trait PasswordHasher: Send + Sync {
    /// Hashes a policy-checked password.
    ///
    /// # Errors
    /// MUST return [`IdentityError::Busy`] instead of queueing without bound when saturated.
    fn hash(
        &self,
        password: &NewPassword,
    ) -> impl Future<Output = Result<PasswordHash, IdentityError>> + Send;

    /// Verifies `password` against `hash`; with `None` it verifies against a dummy hash and reports a
    /// mismatch, taking the same time (see [`crate::ScryptHasher::verify`]).
    ///
    /// # Errors
    /// MUST return [`IdentityError::Busy`] when saturated.
    fn verify(
        &self,
        password: &Secret,
        hash: Option<&PasswordHash>,
    ) -> impl Future<Output = Result<Verification, IdentityError>> + Send;
}

/// Delivery of one email to a mail server (SMTP in production, the log in development).
pub trait Mailer: Send + Sync {
    /// Hands `email` to the mail server; `Ok` means the server accepted it.
    ///
    /// # Errors
    /// MUST classify failures: [`MailFailure::temporary`] for anything a later retry may fix (server down,
    /// timeout, 4xx), [`MailFailure::permanent`] otherwise (5xx, refused recipient).
    fn send(&self, email: &OutgoingEmail) -> impl Future<Output = Result<(), MailFailure>> + Send;
}

/// Storage of password-reset tokens and of the email outbox they are sent through.
pub trait PasswordResetRepository: Send + Sync {
    /// Deletes the user's unused reset tokens, stores `reset`, queues `email` for delivery and records `event`,
    /// all or nothing.
    /// `correlation` is kept with the queued email for the logs.
    ///
    /// # Errors
    /// A storage failure; nothing is written then.
    fn replace_reset_and_enqueue(
        &self,
        reset: &PasswordReset,
        email: &OutgoingEmail,
        correlation: Option<&str>,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The reset token with this hash, used or not.
    ///
    /// # Errors
    /// A storage failure.
    fn find_reset(
        &self,
        hash: &TokenHash,
    ) -> impl Future<Output = Result<Option<PasswordReset>, StoreError>> + Send;

    /// Marks the token used, replaces the user's password hash, revokes every session of the user and records
    /// `event`, all or nothing: a reset must never leave a stolen session alive.
    ///
    /// # Errors
    /// MUST return `Ok(false)`, writing nothing, when the token was already used.
    fn consume_reset_and_sign_out(
        &self,
        hash: &TokenHash,
        user: UserId,
        password_hash: &PasswordHash,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What an account can sign in with.
pub trait LoginMethodRepository: Send + Sync {
    /// The account's password, passkeys and linked providers, counted.
    ///
    /// # Errors
    /// A storage failure.
    fn login_methods(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<LoginMethods, StoreError>> + Send;
}
