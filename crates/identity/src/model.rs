//! Identity values, parsed at the boundary so an invalid one cannot exist.

use std::fmt;

use authd_kernel::{Clock, Random, UserId};
use time::OffsetDateTime;

use crate::{IdentityError, PasswordHash};

/// An email address: trimmed, lower-case, plausibly shaped. Deliverability is the mail server's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// The longest address SMTP can carry (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Trims, lower-cases and checks the shape `local@domain.tld`.
    ///
    /// # Errors
    /// [`IdentityError::InvalidEmail`] when the shape is wrong.
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let email = raw.trim().to_lowercase();
        if email.len() > Self::MAX_LEN || !Self::well_formed(&email) {
            return Err(IdentityError::InvalidEmail);
        }
        Ok(Self(email))
    }

    fn well_formed(email: &str) -> bool {
        let Some((local, domain)) = email.split_once('@') else {
            return false;
        };
        let no_bad_chars = |s: &str| {
            !s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        };
        !local.is_empty()
            && local.len() <= 64
            && no_bad_chars(local)
            && no_bad_chars(domain)
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// The longest name accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Trims and checks the name.
    ///
    /// # Errors
    /// [`IdentityError::InvalidName`] for an empty, overlong or control-character name.
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(IdentityError::InvalidName("name must not be empty"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(IdentityError::InvalidName(
                "name must be at most 100 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(IdentityError::InvalidName(
                "name must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user account as stored.
#[derive(Debug, Clone)]
pub struct User {
    /// Stable id.
    pub id: UserId,
    /// Normalised email, unique.
    pub email: Email,
    /// Display name.
    pub name: DisplayName,
    /// `None` for accounts created through a provider that never set a password.
    pub password_hash: Option<PasswordHash>,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// When the account last changed.
    pub updated_at: OffsetDateTime,
}

impl User {
    /// Whether the account can log in with a password.
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }
}

/// The ways an account can sign in, for the rule that the last one cannot be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginMethods {
    /// A password is set.
    pub password: bool,
    /// Registered passkeys.
    pub passkeys: u64,
    /// Linked identity providers.
    pub providers: u64,
}

impl LoginMethods {
    /// How many ways in there are.
    pub fn count(self) -> u64 {
        u64::from(self.password) + self.passkeys + self.providers
    }
}

authd_kernel::uuid_id!(
    /// The id of a workspace.
    WorkspaceId
);

/// A workspace: the unit other services share data in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Stable id.
    pub id: WorkspaceId,
    /// Human name.
    pub name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// What a member may do in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Created the workspace; full control.
    Owner,
    /// Manages members and settings.
    Admin,
    /// Uses the workspace.
    Member,
}

impl Role {
    /// The stable string used in storage and in the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// Parses the stored string.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// A user's membership of one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The workspace.
    pub workspace: Workspace,
    /// The user's role in it.
    pub role: Role,
}

/// An account with its workspaces: what a caller validating a token gets back, read in one go.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The account.
    pub user: User,
    /// Its workspaces with its role in each, oldest first.
    pub memberships: Vec<Membership>,
}

/// The personal workspace created with a new account, owned by it.
#[derive(Debug, Clone)]
pub struct NewWorkspace {
    /// The workspace.
    pub workspace: Workspace,
    /// Its owner.
    pub owner: UserId,
}

impl NewWorkspace {
    /// The personal workspace of a new user: "<name>'s workspace", role owner.
    pub fn personal_for(user: &User, clock: &impl Clock, random: &impl Random) -> Self {
        let now = clock.now();
        Self {
            workspace: Workspace {
                id: WorkspaceId::generate(clock, random),
                name: format!("{}'s workspace", user.name.as_str()),
                created_at: now,
                updated_at: now,
            },
            owner: user.id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "alice@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@@b.com",
            "alice@.example.com",
            "alice@example..com",
            "alice@example.com.",
        ] {
            assert!(
                matches!(Email::parse(bad), Err(IdentityError::InvalidEmail)),
                "{bad:?} accepted"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn roles_round_trip_through_their_strings() {
        for role in [Role::Owner, Role::Admin, Role::Member] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
