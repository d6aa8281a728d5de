//! A deterministic random source (splitmix64), for reproducible tests only.

use std::sync::{Arc, Mutex, PoisonError};

use authd_kernel::Random;

/// Deterministic bytes from a seed; clones share the stream.
#[derive(Debug, Clone)]
pub struct SeededRandom(Arc<Mutex<u64>>);

impl SeededRandom {
    /// A stream starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Arc::new(Mutex::new(seed)))
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for chunk in buf.chunks_mut(8) {
            *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}
