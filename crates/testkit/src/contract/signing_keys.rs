//! The contract of [`SigningKeyRepository`]; its checks need an empty table.

use authd_kernel::Secret;
use authd_session::ports::SigningKeyRepository;
use authd_session::{KeyId, StoredSigningKey};

use super::T0;

fn candidate(hex: &str) -> StoredSigningKey {
    StoredSigningKey {
        kid: KeyId(1),
        private_key: Secret::new(hex),
        active: true,
        created_at: T0,
    }
}

/// With no key, the candidate is stored and returned; afterwards candidates are ignored.
pub async fn the_first_signing_key_wins_and_later_candidates_are_ignored(
    repo: impl SigningKeyRepository,
) {
    let first = repo
        .load_or_insert(&candidate(&"ab".repeat(32)))
        .await
        .unwrap();
    let second = repo
        .load_or_insert(&candidate(&"cd".repeat(32)))
        .await
        .unwrap();
    for keys in [&first, &second] {
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].private_key.expose(), "ab".repeat(32));
        assert_eq!(
            (keys[0].kid, keys[0].active, keys[0].created_at),
            (KeyId(1), true, T0)
        );
    }
}
