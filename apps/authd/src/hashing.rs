//! The password-hasher port on a bounded blocking pool: at most `concurrency` scrypt computations at once
//! (each takes 128 MiB at the default cost), at most `queue` more waiting, and `Busy` beyond that, so a
//! login flood gets 503s instead of exhausting memory or starving the async executor. Hashing a new password
//! (a sign-up, a reset) may hold at most half of those places: a sign-up flood cannot keep logins out.

use std::sync::Arc;

use authd_identity::ports::PasswordHasher;
use authd_identity::{IdentityError, NewPassword, PasswordHash, ScryptHasher, Verification};
use authd_kernel::{OsRandom, Random, Secret};
use tokio::sync::Semaphore;

/// scrypt off the executor, with admission control.
#[derive(Debug, Clone)]
pub struct BoundedHasher {
    scrypt: Arc<ScryptHasher>,
    /// Permits to compute.
    running: Arc<Semaphore>,
    /// Permits to be in the building at all (computing or waiting).
    admitted: Arc<Semaphore>,
    /// The share of `admitted` that hashing new passwords may hold.
    new_passwords: Arc<Semaphore>,
}

impl BoundedHasher {
    /// A pool computing `concurrency` hashes at once with `queue` more waiting.
    pub fn new(scrypt: ScryptHasher, concurrency: usize, queue: usize) -> Self {
        let admitted = concurrency.max(1) + queue;
        Self {
            scrypt: Arc::new(scrypt),
            running: Arc::new(Semaphore::new(concurrency.max(1))),
            admitted: Arc::new(Semaphore::new(admitted)),
            new_passwords: Arc::new(Semaphore::new(admitted.div_ceil(2))),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&ScryptHasher) -> Result<T, IdentityError> + Send + 'static,
    ) -> Result<T, IdentityError> {
        let admission = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| IdentityError::Busy)?;
        let slot = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| IdentityError::Busy)?;
        let scrypt = Arc::clone(&self.scrypt);
        // The permits move into the blocking task: if the client goes away, the computation still counts
        // against the limit until it really ends.
        tokio::task::spawn_blocking(move || {
            let _permits = (admission, slot);
            job(&scrypt)
        })
        .await
        .map_err(|e| IdentityError::Hashing(format!("hashing task failed: {e}")))?
    }
}

impl PasswordHasher for BoundedHasher {
    async fn hash(&self, password: &NewPassword) -> Result<PasswordHash, IdentityError> {
        let share = self
            .new_passwords
            .clone()
            .try_acquire_owned()
            .map_err(|_| IdentityError::Busy)?;
        let password = password.secret().clone();
        let salt: [u8; 16] = OsRandom.bytes();
        self.run(move |scrypt| {
            let _share = share;
            scrypt.hash(&password, &salt)
        })
        .await
    }

    async fn verify(
        &self,
        password: &Secret,
        hash: Option<&PasswordHash>,
    ) -> Result<Verification, IdentityError> {
        let password = password.clone();
        let hash = hash.cloned();
        self.run(move |scrypt| scrypt.verify(&password, hash.as_ref()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use authd_identity::ScryptCost;

    use super::*;

    fn hasher(concurrency: usize, queue: usize, log_n: u8) -> BoundedHasher {
        let scrypt = ScryptHasher::new(ScryptCost { log_n, r: 8, p: 1 }, &OsRandom).unwrap();
        BoundedHasher::new(scrypt, concurrency, queue)
    }

    #[tokio::test]
    async fn hashes_and_verifies_off_the_executor() {
        let hasher = hasher(1, 1, 4);
        let password = NewPassword::parse(Secret::new("a long passphrase")).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        let ok = hasher
            .verify(&Secret::new("a long passphrase"), Some(&hash))
            .await
            .unwrap();
        assert_eq!(ok, Verification::Match { rehash: false });
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_instead_of_waiting() {
        // One computing, one waiting; the third is refused at once.
        let hasher = hasher(1, 1, 14);
        let secret = Secret::new("a long passphrase");
        let (a, b, c) = tokio::join!(
            hasher.verify(&secret, None),
            hasher.verify(&secret, None),
            hasher.verify(&secret, None)
        );
        let busy = [&a, &b, &c]
            .iter()
            .filter(|r| matches!(r, Err(IdentityError::Busy)))
            .count();
        assert_eq!(busy, 1, "{a:?} {b:?} {c:?}");
    }

    #[tokio::test]
    async fn new_passwords_may_hold_only_half_the_places_so_logins_still_get_in() {
        // Four places: two for new passwords at most, so a sign-up flood leaves room for a login.
        let hasher = hasher(1, 3, 14);
        let password = NewPassword::parse(Secret::new("a long passphrase")).unwrap();
        let secret = Secret::new("a long passphrase");
        let (a, b, c, d, login) = tokio::join!(
            hasher.hash(&password),
            hasher.hash(&password),
            hasher.hash(&password),
            hasher.hash(&password),
            hasher.verify(&secret, None),
        );
        let busy = [&a, &b, &c, &d]
            .iter()
            .filter(|r| matches!(r, Err(IdentityError::Busy)))
            .count();
        assert_eq!(busy, 2, "two sign-ups hashed, two refused");
        assert!(login.is_ok(), "the login got a place: {login:?}");
    }
}
