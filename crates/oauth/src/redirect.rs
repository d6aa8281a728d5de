//! Where the browser lands after a provider: only paths of this site, so the flow cannot be turned into an
//! open redirect.

use crate::OAuthError;

/// A relative path (`/…`, not `//…`, no scheme, no backslash, no control characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectPath(String);

impl RedirectPath {
    /// The longest accepted path.
    pub const MAX_LEN: usize = 2048;

    /// Checks `raw`; `None` means `/`.
    ///
    /// # Errors
    /// [`OAuthError::InvalidRedirect`] for anything but a relative path.
    pub fn parse(raw: Option<&str>) -> Result<Self, OAuthError> {
        let Some(raw) = raw else {
            return Ok(Self("/".to_owned()));
        };
        let relative = raw.starts_with('/')
            && !raw.starts_with("//")
            && !raw.contains('\\')
            && !raw.chars().any(char::is_control)
            && raw.len() <= Self::MAX_LEN;
        if relative {
            Ok(Self(raw.to_owned()))
        } else {
            Err(OAuthError::InvalidRedirect)
        }
    }

    /// Reads back a path stored by [`RedirectPath::parse`].
    pub fn from_stored(path: String) -> Self {
        Self(path)
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_paths_pass() {
        for good in ["/", "/settings", "/a/b?c=d#e", "/%2F%2Fevil"] {
            assert!(RedirectPath::parse(Some(good)).is_ok(), "{good}");
        }
        for bad in [
            "",
            "settings",
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "\\\\evil",
            "/a\nb",
            "javascript:alert(1)",
        ] {
            assert!(RedirectPath::parse(Some(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(RedirectPath::parse(None).unwrap().as_str(), "/");
        assert!(RedirectPath::parse(Some(&format!("/{}", "a".repeat(3000)))).is_err());
    }
}
