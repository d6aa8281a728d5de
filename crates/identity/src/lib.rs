//! The identity domain of authd: who a user is, how their password is checked, which workspaces they belong
//! to, and the register and login use cases.
//!
//! Pure: no web framework, database driver, runtime or HTTP client. Storage and the hashing pool are ports
//! ([`ports`]) that adapters fill.

mod error;
mod hashing;
mod mail;
mod model;
mod policy;
pub mod ports;
mod reset;
mod service;

pub use error::IdentityError;
pub use hashing::{PasswordHash, ScryptCost, ScryptHasher, Verification};
pub use mail::{MailFailure, OutgoingEmail};
pub use model::{
    DisplayName, Email, LoginMethods, Membership, NewWorkspace, Profile, Role, User, Workspace,
    WorkspaceId,
};
pub use policy::{NewPassword, PasswordProblem};
pub use reset::{PasswordReset, PasswordResetService, ResetPolicy};
pub use service::{IdentityService, Registration};
