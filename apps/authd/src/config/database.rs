//! `[database]`: which database, and how many connections each instance keeps.

use std::num::NonZeroU32;

use authd_store::{DatabaseUrl, PoolOptions};
use serde::{Deserialize, Deserializer};

use super::values::parsed;

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://...`; its `Debug` hides the URL, which may carry a password.
    #[serde(deserialize_with = "database_url")]
    pub url: DatabaseUrl,
    /// Pool size.
    pub max_connections: NonZeroU32,
}

impl DatabaseSettings {
    /// The pool sizing.
    pub fn pool(&self) -> PoolOptions {
        PoolOptions {
            max_connections: self.max_connections.get(),
            ..PoolOptions::default()
        }
    }
}

fn database_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DatabaseUrl, D::Error> {
    parsed(deserializer, DatabaseUrl::parse)
}
