//! `[smtp]`: the mail server. Without a host, emails are written to the log instead (development).

use std::num::NonZeroU32;

use authd_kernel::Secret;
use serde::{Deserialize, Deserializer};

use super::values::parsed;
use super::{ConfigError, invalid};

/// `[smtp]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// Server host name; unset means "log emails instead of sending them".
    #[serde(default, deserialize_with = "host_name")]
    pub host: Option<String>,
    /// Port; unset means 25 for `none`, 587 for `starttls`, 465 for `tls`.
    pub port: Option<u16>,
    /// `none`, `starttls` or `tls` (implicit TLS).
    pub tls: SmtpTlsSetting,
    /// User name for SMTP AUTH, if the server wants it.
    pub username: Option<String>,
    /// Password for SMTP AUTH.
    pub password: Option<Secret>,
    /// The From address, e.g. `authd <no-reply@example.com>`.
    #[serde(deserialize_with = "sender")]
    pub from: String,
    /// How long one delivery attempt may take.
    pub timeout_secs: NonZeroU32,
}

impl SmtpSettings {
    /// The port, defaulted from the TLS mode.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTlsSetting::None => 25,
            SmtpTlsSetting::Starttls => 587,
            SmtpTlsSetting::Tls => 465,
        })
    }

    /// SMTP AUTH needs both halves of the credentials.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.username.is_some() != self.password.is_some() {
            return Err(invalid(
                "smtp.username",
                "smtp.username and smtp.password go together",
            ));
        }
        Ok(())
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTlsSetting {
    /// Plain text (a local relay).
    None,
    /// Upgrade with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

fn host_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    parsed(deserializer, |raw| {
        if raw.is_empty() || raw.contains(char::is_whitespace) {
            Err("must be a host name")
        } else {
            Ok(Some(raw.to_owned()))
        }
    })
}

/// The mailer checks the address in full; this catches a value that is plainly not one while starting.
fn sender<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    parsed(deserializer, |raw| {
        if raw.contains('@') {
            Ok(raw.to_owned())
        } else {
            Err("must contain an email address, e.g. authd <no-reply@example.com>")
        }
    })
}
