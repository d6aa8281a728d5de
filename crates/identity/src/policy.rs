//! The password policy: 8 to 128 characters, and not one of the common passwords attackers try first.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use authd_kernel::Secret;

use crate::IdentityError;

/// Passwords of 8 characters or more from zxcvbn's frequency list (about 11,600 entries).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect()
});

/// Why a password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than 8 characters.
    TooShort,
    /// More than 128 characters.
    TooLong,
    /// On the list of common passwords.
    Common,
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooShort => "password must be at least 8 characters long",
            Self::TooLong => "password must be at most 128 characters long",
            Self::Common => "password is too common",
        })
    }
}

/// A password that satisfies the policy and may be hashed and stored.
#[derive(Debug, Clone)]
pub struct NewPassword(Secret);

impl NewPassword {
    /// The shortest accepted password, in characters.
    pub const MIN_CHARS: usize = 8;
    /// The longest accepted password, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Applies the policy.
    ///
    /// # Errors
    /// [`IdentityError::WeakPassword`] naming the broken rule.
    pub fn parse(raw: Secret) -> Result<Self, IdentityError> {
        let chars = raw.expose().chars().count();
        let problem = if chars < Self::MIN_CHARS {
            Some(PasswordProblem::TooShort)
        } else if chars > Self::MAX_CHARS {
            Some(PasswordProblem::TooLong)
        } else if COMMON_PASSWORDS.contains(raw.expose().to_lowercase().as_str()) {
            Some(PasswordProblem::Common)
        } else {
            None
        };
        match problem {
            Some(problem) => Err(IdentityError::WeakPassword(problem)),
            None => Ok(Self(raw)),
        }
    }

    /// A password that passed the policy when it was first set (used to rehash it at a new cost).
    pub(crate) fn unchecked(raw: Secret) -> Self {
        Self(raw)
    }

    /// The password itself, for hashing.
    pub fn secret(&self) -> &Secret {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(raw: &str) -> Option<PasswordProblem> {
        match NewPassword::parse(Secret::new(raw)) {
            Ok(_) => None,
            Err(IdentityError::WeakPassword(p)) => Some(p),
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert_eq!(problem("Sh0rt!x"), Some(PasswordProblem::TooShort));
        assert_eq!(problem("çãõéíúâê"), None);
        assert_eq!(problem(&"ç".repeat(128)), None);
        assert_eq!(problem(&"a".repeat(129)), Some(PasswordProblem::TooLong));
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(problem("password"), Some(PasswordProblem::Common));
        assert_eq!(problem("PassWord1"), Some(PasswordProblem::Common));
        assert_eq!(problem("12345678"), Some(PasswordProblem::Common));
        assert_eq!(problem("qwertyuiop"), Some(PasswordProblem::Common));
    }

    #[test]
    fn an_uncommon_password_of_decent_length_passes() {
        assert_eq!(problem("correct horse battery staple"), None);
        assert!(COMMON_PASSWORDS.len() > 10_000);
    }
}
