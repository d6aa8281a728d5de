//! Randomness as a port, so tests can be deterministic where they need to be.

/// A cryptographically secure source of random bytes.
pub trait Random: Send + Sync + std::fmt::Debug {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);

    /// Returns `N` random bytes.
    fn bytes<const N: usize>(&self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // The OS generator failing means the machine cannot produce secrets at all; continuing with
        // predictable bytes would be far worse than stopping.
        #[expect(
            clippy::expect_used,
            reason = "no safe way to continue without an entropy source"
        )]
        getrandom::fill(buf).expect("the operating system's random generator failed");
    }
}

impl<R: Random + ?Sized> Random for std::sync::Arc<R> {
    fn fill(&self, buf: &mut [u8]) {
        (**self).fill(buf);
    }
}
