//! One in-memory database behind every repository port, like the real store: a reset revokes the sessions
//! the session port hands out, and login methods count the passkeys and links the other ports store.

mod counters;
mod events;
mod keys;
mod mfa;
mod oauth;
mod outbox;
mod passkeys;
mod resets;
mod sessions;
mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use authd_identity::{NewWorkspace, OutgoingEmail, PasswordReset, User};
use authd_kernel::{SecurityEvent, UserId};
use authd_mfa::{MfaRecord, RecoveryCodeHash};
use authd_oauth::{LinkedIdentity, PendingAuthorization};
use authd_passkey::{CeremonyRecord, StoredPasskey};
use authd_session::{RefreshRecord, Session, SessionId, StoredSigningKey};
use time::OffsetDateTime;

/// One stored recovery code.
#[derive(Debug, Clone)]
struct RecoveryRow {
    user: UserId,
    hash: RecoveryCodeHash,
    used_at: Option<OffsetDateTime>,
}

/// One queued email and its delivery state.
#[derive(Debug, Clone)]
struct OutboxRow {
    id: String,
    email: OutgoingEmail,
    correlation: Option<String>,
    attempts: u32,
    next_attempt_at: OffsetDateTime,
    claimed_until: Option<OffsetDateTime>,
    finished: bool,
}

/// The tables, one vector (or map) each, in insertion order.
#[derive(Debug, Default)]
struct Tables {
    users: Vec<User>,
    workspaces: Vec<NewWorkspace>,
    resets: Vec<PasswordReset>,
    outbox: Vec<OutboxRow>,
    counters: HashMap<String, (u32, OffsetDateTime)>,
    events: Vec<SecurityEvent>,
    sessions: Vec<Session>,
    refresh: Vec<RefreshRecord>,
    mfa_failures: HashMap<SessionId, u32>,
    factors: HashMap<UserId, MfaRecord>,
    recovery: Vec<RecoveryRow>,
    authorizations: Vec<PendingAuthorization>,
    links: Vec<LinkedIdentity>,
    passkeys: Vec<StoredPasskey>,
    ceremonies: Vec<CeremonyRecord>,
    signing_keys: Vec<StoredSigningKey>,
}

/// Every repository port of the domain crates over one in-memory database; clones share the data.
///
/// Each call takes the database's lock once, so every operation is atomic, as the store's transactions are.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore(Arc<Mutex<Tables>>);

impl MemoryStore {
    /// A new, empty database.
    pub fn new() -> Self {
        Self::default()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The memory store, named for the port a test uses it as (the names tests used before it was one store).
pub type MemoryUsers = MemoryStore;
/// The memory store as the session repository.
pub type MemorySessions = MemoryStore;
/// The memory store as the MFA repository.
pub type MemoryMfa = MemoryStore;
/// The memory store as the OAuth repository.
pub type MemoryOAuth = MemoryStore;
/// The memory store as the passkey repository.
pub type MemoryPasskeys = MemoryStore;

/// `n` as a count, saturating (a vector never holds `u64::MAX` rows).
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
