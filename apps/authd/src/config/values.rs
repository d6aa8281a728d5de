//! The value types the sections share: origins, http(s) URLs, relying-party ids, and the deserialisers that
//! turn a configured string (or comma-separated list) into a typed value, with a message saying what was
//! expected.

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// `scheme://host[:port]` of an absolute http(s) URL, lower-cased: the form browsers send in `Origin`.
#[derive(Clone, PartialEq, Eq)]
pub struct Origin {
    text: String,
    host: String,
}

impl Origin {
    /// The origin of an absolute http(s) URL (any path, query or fragment is dropped); `None` for anything
    /// else, including URLs with credentials.
    pub fn of_url(url: &str) -> Option<Self> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
        if authority.is_empty()
            || authority.contains('@')
            || authority.contains(char::is_whitespace)
        {
            return None;
        }
        let host = host_of(&authority).to_owned();
        Some(Self {
            text: format!("{scheme}://{authority}"),
            host,
        })
    }

    /// The host, without port (an IPv6 literal keeps its brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The origin as browsers write it.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// `authority` without its port.
fn host_of(authority: &str) -> &str {
    match authority.find(']') {
        Some(end) if authority.starts_with('[') => &authority[..=end],
        _ => authority.split(':').next().unwrap_or(authority),
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        parsed(deserializer, |raw| {
            Self::of_url(raw).ok_or("must be an http:// or https:// origin")
        })
    }
}

/// An absolute http(s) URL, kept as written (without surrounding blanks), with its origin.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpUrl {
    text: String,
    origin: Origin,
}

impl HttpUrl {
    /// The URL as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its origin.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
}

impl FromStr for HttpUrl {
    type Err = &'static str;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let text = raw.trim();
        let origin = Origin::of_url(text).ok_or("must be an absolute http:// or https:// URL")?;
        Ok(Self {
            text: text.to_owned(),
            origin,
        })
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        parsed(deserializer, str::parse)
    }
}

/// A WebAuthn relying-party id: a bare domain such as `example.com`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpId(String);

impl RpId {
    /// Whether `id` can be a relying-party id: a non-empty name without scheme, port or path.
    pub fn is_valid(id: &str) -> bool {
        !id.is_empty() && !id.contains(['/', ':', ' '])
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RpId {
    type Err = &'static str;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let id = raw.trim().to_ascii_lowercase();
        if Self::is_valid(&id) {
            Ok(Self(id))
        } else {
            Err(RP_ID_EXPECTED)
        }
    }
}

/// What a relying-party id must look like.
pub(super) const RP_ID_EXPECTED: &str = "must be a domain such as example.com";

impl<'de> Deserialize<'de> for RpId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        parsed(deserializer, str::parse)
    }
}

/// Reads a string and converts it with `parse`; its error becomes the message next to the key.
pub(super) fn parsed<'de, D, T, E>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    let raw = String::deserialize(deserializer)?;
    parse(raw.trim()).map_err(D::Error::custom)
}

/// A list given either as a TOML array or as one comma-separated string (environment variables), each
/// item converted with `parse`.
pub(super) fn comma_list<'de, D, T>(
    deserializer: D,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    let items = match ListOrString::deserialize(deserializer)? {
        ListOrString::List(list) => list,
        ListOrString::String(joined) => joined.split(',').map(str::to_owned).collect(),
    };
    items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
        .map(|item| parse(item).map_err(D::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_authority_only() {
        let origin = Origin::of_url("https://App.Example.com:8443/path?q").unwrap();
        assert_eq!(origin.as_str(), "https://app.example.com:8443");
        assert_eq!(origin.host(), "app.example.com");
        assert_eq!(Origin::of_url("http://[::1]:3000").unwrap().host(), "[::1]");
        assert!(Origin::of_url("ftp://x").is_none());
        assert!(Origin::of_url("https://user@host").is_none());
        assert!(Origin::of_url("/relative").is_none());
    }

    #[test]
    fn a_url_keeps_its_path_and_knows_its_origin() {
        let url: HttpUrl = " https://Auth.example.com/base/ ".parse().unwrap();
        assert_eq!(url.as_str(), "https://Auth.example.com/base/");
        assert_eq!(url.origin().as_str(), "https://auth.example.com");
        assert!("auth.example.com".parse::<HttpUrl>().is_err());
    }

    #[test]
    fn relying_party_ids_are_bare_lower_case_domains() {
        assert_eq!(
            " Example.COM ".parse::<RpId>().unwrap().as_str(),
            "example.com"
        );
        for bad in ["", "https://example.com", "example.com:443", "a b"] {
            assert!(bad.parse::<RpId>().is_err(), "{bad:?}");
        }
    }
}
