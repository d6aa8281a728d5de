//! A string that never shows itself in logs or debug output.

use std::fmt;

/// A secret value (password, token, key). `Debug` prints `[redacted]`; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: call this only where the value is really needed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Read from configuration as a plain string, never reinterpreted (`"007"` stays `007`).
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserialises_from_a_string_as_it_is() {
        use serde::Deserialize as _;
        use serde::de::value::{Error, StrDeserializer};

        let secret = Secret::deserialize(StrDeserializer::<Error>::new("007")).unwrap();
        assert_eq!(secret.expose(), "007");
        assert_eq!(format!("{secret:?}"), "[redacted]");
    }
}
