//! `[password]`: the scrypt cost and how many hashes may run or wait at once.

use std::num::{NonZeroU32, NonZeroUsize};

use authd_identity::ScryptCost;
use serde::Deserialize;

use super::{ConfigError, invalid};

/// The most memory one hash may take: beyond this a login flood would exhaust any ordinary host.
const MAX_MEMORY_PER_HASH: u64 = 4 << 30;

/// `[password]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    /// scrypt log2(N).
    pub scrypt_log_n: u8,
    /// scrypt r.
    pub scrypt_r: NonZeroU32,
    /// scrypt p.
    pub scrypt_p: NonZeroU32,
    /// Hashes computed at once; 0 means one per core.
    pub max_concurrent_hashes: usize,
    /// Hash requests allowed to wait for a slot before the service answers 503.
    pub hash_queue: NonZeroUsize,
}

impl PasswordSettings {
    /// The scrypt cost.
    pub fn cost(&self) -> ScryptCost {
        ScryptCost {
            log_n: self.scrypt_log_n,
            r: self.scrypt_r.get(),
            p: self.scrypt_p.get(),
        }
    }

    /// Concurrent hashes, with 0 resolved to the number of cores.
    pub fn concurrency(&self) -> usize {
        match self.max_concurrent_hashes {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }

    /// The cost must be one scrypt accepts and a host can afford; N and r together set the memory.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if !(1..=30).contains(&self.scrypt_log_n) {
            return Err(invalid("password.scrypt_log_n", "must be between 1 and 30"));
        }
        let memory = 128u64 << self.scrypt_log_n;
        if memory.saturating_mul(u64::from(self.scrypt_r.get())) > MAX_MEMORY_PER_HASH {
            return Err(invalid(
                "password.scrypt_log_n",
                "this cost needs more than 4 GiB per hash",
            ));
        }
        Ok(())
    }
}
