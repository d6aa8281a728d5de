//! scrypt password hashing in PHC string format (`$scrypt$ln=17,r=8,p=1$salt$hash`).
//!
//! This is the synchronous, CPU- and memory-heavy part (128 MiB at the default cost). It must never run on
//! an async executor: the app runs it through the [`crate::ports::PasswordHasher`] port on a bounded pool.

use std::fmt;

use authd_kernel::{Random, Secret};
use password_hash::{PasswordHasher as _, PasswordVerifier as _};
use scrypt::Scrypt;
use scrypt::phc::PasswordHash as Phc;

use crate::IdentityError;

/// The scrypt cost parameters (`N = 2^log_n`, memory = 128 * N * r bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptCost {
    /// log2 of the CPU/memory cost N.
    pub log_n: u8,
    /// Block size.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

impl Default for ScryptCost {
    /// The recommended cost: log_n 17, r 8, p 1 (128 MiB, about 0.3 s on a modern core).
    fn default() -> Self {
        Self {
            log_n: 17,
            r: 8,
            p: 1,
        }
    }
}

impl ScryptCost {
    fn params(self) -> Result<scrypt::Params, IdentityError> {
        scrypt::Params::new(self.log_n, self.r, self.p)
            .map_err(|e| IdentityError::Hashing(format!("invalid scrypt cost: {e}")))
    }
}

/// A stored password hash in PHC string format.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from storage.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string to store.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password does not match.
    Mismatch,
    /// The password matches; `rehash` is true when the hash used a different cost than the configured one.
    Match {
        /// Whether the hash should be replaced by one at the configured cost.
        rehash: bool,
    },
}

/// Hashes and verifies passwords with scrypt at a configured cost.
#[derive(Clone)]
pub struct ScryptHasher {
    cost: ScryptCost,
    dummy: PasswordHash,
}

impl fmt::Debug for ScryptHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScryptHasher")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

impl ScryptHasher {
    /// A hasher at the given cost. Computes one hash of a random password up front: the dummy that unknown
    /// emails are verified against, so their logins take as long as real ones.
    ///
    /// # Errors
    /// [`IdentityError::Hashing`] when the cost is out of scrypt's range.
    pub fn new(cost: ScryptCost, random: &impl Random) -> Result<Self, IdentityError> {
        let filler: [u8; 32] = random.bytes();
        let salt: [u8; 16] = random.bytes();
        let dummy = hash_with(cost, &filler, &salt)?;
        Ok(Self { cost, dummy })
    }

    /// The configured cost.
    pub fn cost(&self) -> ScryptCost {
        self.cost
    }

    /// Hashes `password` with `salt` (16 random bytes) at the configured cost.
    ///
    /// # Errors
    /// [`IdentityError::Hashing`] if scrypt refuses its inputs.
    pub fn hash(&self, password: &Secret, salt: &[u8; 16]) -> Result<PasswordHash, IdentityError> {
        hash_with(self.cost, password.expose().as_bytes(), salt)
    }

    /// Checks `password` against `hash`, or against the dummy hash when there is none (unknown account or
    /// account without a password), in which case the answer is always [`Verification::Mismatch`].
    ///
    /// # Errors
    /// [`IdentityError::Hashing`] for a stored hash that is not a valid scrypt PHC string.
    pub fn verify(
        &self,
        password: &Secret,
        hash: Option<&PasswordHash>,
    ) -> Result<Verification, IdentityError> {
        let Some(hash) = hash else {
            // Same work as a real verification; the result is ignored on purpose.
            let _ = self.check(password, &self.dummy);
            return Ok(Verification::Mismatch);
        };
        self.check(password, hash)
    }

    fn check(&self, password: &Secret, hash: &PasswordHash) -> Result<Verification, IdentityError> {
        let phc = Phc::new(hash.as_phc())
            .map_err(|e| IdentityError::Hashing(format!("stored hash: {e}")))?;
        if Scrypt::default()
            .verify_password(password.expose().as_bytes(), &phc)
            .is_err()
        {
            return Ok(Verification::Mismatch);
        }
        let stored = scrypt::Params::try_from(&phc)
            .map_err(|e| IdentityError::Hashing(format!("stored hash params: {e}")))?;
        let current = self.cost;
        let rehash =
            (stored.log_n(), stored.r(), stored.p()) != (current.log_n, current.r, current.p);
        Ok(Verification::Match { rehash })
    }
}

fn hash_with(
    cost: ScryptCost,
    password: &[u8],
    salt: &[u8],
) -> Result<PasswordHash, IdentityError> {
    let phc = Scrypt::new_with_params(cost.params()?)
        .hash_password_with_salt(password, salt)
        .map_err(|e| IdentityError::Hashing(e.to_string()))?;
    Ok(PasswordHash(phc.to_string()))
}

#[cfg(test)]
mod tests {
    use authd_kernel::OsRandom;

    use super::*;

    const CHEAP: ScryptCost = ScryptCost {
        log_n: 4,
        r: 8,
        p: 1,
    };

    fn secret(s: &str) -> Secret {
        Secret::new(s)
    }

    #[test]
    fn a_hash_verifies_its_own_password_only() {
        let hasher = ScryptHasher::new(CHEAP, &OsRandom).unwrap();
        let hash = hasher.hash(&secret("correct horse"), &[7; 16]).unwrap();
        assert!(hash.as_phc().starts_with("$scrypt$ln=4,r=8,p=1$"));
        assert_eq!(
            hasher
                .verify(&secret("correct horse"), Some(&hash))
                .unwrap(),
            Verification::Match { rehash: false }
        );
        assert_eq!(
            hasher
                .verify(&secret("correct horsf"), Some(&hash))
                .unwrap(),
            Verification::Mismatch
        );
    }

    #[test]
    fn a_hash_at_another_cost_asks_for_a_rehash() {
        let old = ScryptHasher::new(CHEAP, &OsRandom).unwrap();
        let hash = old.hash(&secret("correct horse"), &[1; 16]).unwrap();
        let new = ScryptHasher::new(ScryptCost { log_n: 5, ..CHEAP }, &OsRandom).unwrap();
        assert_eq!(
            new.verify(&secret("correct horse"), Some(&hash)).unwrap(),
            Verification::Match { rehash: true }
        );
    }

    #[test]
    fn no_hash_always_mismatches() {
        let hasher = ScryptHasher::new(CHEAP, &OsRandom).unwrap();
        assert_eq!(
            hasher.verify(&secret("anything"), None).unwrap(),
            Verification::Mismatch
        );
    }

    #[test]
    fn a_corrupt_stored_hash_is_an_error_not_a_match() {
        let hasher = ScryptHasher::new(CHEAP, &OsRandom).unwrap();
        let corrupt = PasswordHash::from_phc("not a phc string".into());
        assert!(hasher.verify(&secret("x"), Some(&corrupt)).is_err());
    }

    #[test]
    fn the_known_passlib_vector_verifies() {
        let hasher = ScryptHasher::new(CHEAP, &OsRandom).unwrap();
        let vector = PasswordHash::from_phc(
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E".into(),
        );
        assert_eq!(
            hasher.verify(&secret("password"), Some(&vector)).unwrap(),
            Verification::Match { rehash: true }
        );
    }

    #[test]
    fn debug_output_never_shows_the_hash() {
        let hash = PasswordHash::from_phc("$scrypt$secret".into());
        assert!(!format!("{hash:?}").contains("secret"));
    }
}
