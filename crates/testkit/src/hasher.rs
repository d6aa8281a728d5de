//! The password-hasher port run inline, for tests with a cheap cost (production uses a bounded pool).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use authd_identity::ports::PasswordHasher;
use authd_identity::{
    IdentityError, NewPassword, PasswordHash, ScryptCost, ScryptHasher, Verification,
};
use authd_kernel::{OsRandom, Random, Secret};

/// scrypt on the calling thread, counting verifications so tests can see that the dummy hash was used.
#[derive(Debug, Clone)]
pub struct InlineHasher {
    scrypt: ScryptHasher,
    verifications: Arc<AtomicU64>,
}

impl InlineHasher {
    /// A hasher at scrypt's cheapest sensible cost (log_n 4).
    pub fn cheap() -> Self {
        Self::with_cost(ScryptCost {
            log_n: 4,
            r: 8,
            p: 1,
        })
    }

    /// A hasher at the given cost.
    pub fn with_cost(cost: ScryptCost) -> Self {
        #[expect(clippy::expect_used, reason = "test helper with a valid constant cost")]
        let scrypt = ScryptHasher::new(cost, &OsRandom).expect("valid cost");
        Self {
            scrypt,
            verifications: Arc::default(),
        }
    }

    /// How many verifications ran (real or dummy).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::SeqCst)
    }
}

impl PasswordHasher for InlineHasher {
    async fn hash(&self, password: &NewPassword) -> Result<PasswordHash, IdentityError> {
        self.scrypt.hash(password.secret(), &OsRandom.bytes())
    }

    async fn verify(
        &self,
        password: &Secret,
        hash: Option<&PasswordHash>,
    ) -> Result<Verification, IdentityError> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        self.scrypt.verify(password, hash)
    }
}
