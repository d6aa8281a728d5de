//! The error every repository port reports when its storage fails.

use std::error::Error;

/// Storage was unreachable or failed. The cause is kept for the logs; clients only learn that the service is
/// unavailable.
#[derive(Debug, thiserror::Error)]
#[error("storage failure: {0}")]
pub struct StoreError(#[source] pub Box<dyn Error + Send + Sync>);

impl StoreError {
    /// Wraps any error as a storage failure.
    pub fn new(err: impl Error + Send + Sync + 'static) -> Self {
        Self(Box::new(err))
    }

    /// A storage failure described by a message (an invariant the store found broken).
    pub fn message(msg: impl Into<String>) -> Self {
        Self(msg.into().into())
    }
}
