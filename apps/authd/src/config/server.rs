//! `[server]`: where the service listens, where it and its frontend are reached, whom it trusts.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

use super::values::{HttpUrl, Origin, comma_list, parsed};
use super::{ConfigError, invalid};

fn optional_socket_address<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    socket_address(deserializer).map(Some)
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    #[serde(deserialize_with = "socket_address")]
    pub bind: SocketAddr,
    /// This service's external base URL.
    pub public_url: HttpUrl,
    /// Where browser redirects land; its origin is also an allowed origin.
    pub frontend_url: HttpUrl,
    /// Further allowed origins (CORS with credentials, CSRF check).
    #[serde(deserialize_with = "origins")]
    pub allowed_origins: Vec<Origin>,
    /// Proxies whose `X-Forwarded-For` is believed (IPs or CIDRs).
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<IpNet>,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
    /// Seconds a client may take to send a request body once its headers arrived; a body still incomplete
    /// then gets 408 (a trickled body must not hold a connection forever).
    pub body_timeout_secs: u32,
    /// `Strict-Transport-Security` max-age, sent on every answer when cookies are `Secure` (behind TLS); 0
    /// sends none.
    pub hsts_max_age_secs: u32,
    /// Where `GET /metrics` is served instead of the API's listener (with the outbox counts, which only an
    /// internal network should see); unset serves it on the API without them.
    #[serde(default, deserialize_with = "optional_socket_address")]
    pub metrics_bind: Option<SocketAddr>,
}

impl ServerSettings {
    /// The frontend's origin plus the further allowed origins.
    pub fn all_allowed_origins(&self) -> Vec<String> {
        std::iter::once(self.frontend_url.origin())
            .chain(&self.allowed_origins)
            .map(|origin| origin.as_str().to_owned())
            .collect()
    }

    /// The frontend URL without a trailing slash, ready for paths to be appended.
    pub fn frontend_base(&self) -> &str {
        self.frontend_url.as_str().trim_end_matches('/')
    }

    /// Ranges a type cannot say.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        if !(1..=300).contains(&self.body_timeout_secs) {
            return Err(invalid(
                "server.body_timeout_secs",
                "must be between 1 and 300",
            ));
        }
        Ok(())
    }
}

fn socket_address<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    parsed(deserializer, |raw| {
        raw.parse()
            .map_err(|_| "must be IP:PORT, e.g. 127.0.0.1:8080")
    })
}

fn origins<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Origin>, D::Error> {
    comma_list(deserializer, |raw| {
        Origin::of_url(raw).ok_or_else(|| format!("{raw:?} is not an origin"))
    })
}

/// IPs or CIDRs; a bare IP is the network of that one address.
fn networks<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    comma_list(deserializer, |raw| {
        raw.parse::<IpNet>()
            .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| format!("{raw:?} is not an IP or CIDR"))
    })
}
