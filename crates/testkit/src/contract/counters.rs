//! The contract of [`RateLimiter`]: fixed windows per bucket.

use authd_account::ports::RateLimiter;
use time::Duration;

use super::{T0, unique};

/// Hits count up within a window that ends `window` after its first hit; a hit after it starts a new one.
pub async fn hits_count_within_a_window_and_restart_after_it(repo: impl RateLimiter) {
    let bucket = unique("bucket");
    let window = Duration::minutes(10);
    for (expected, minutes) in [(1, 0), (2, 3), (3, 9)] {
        let state = repo
            .hit(&bucket, window, T0 + Duration::minutes(minutes))
            .await
            .unwrap();
        assert_eq!((state.hits, state.resets_at), (expected, T0 + window));
    }
    let later = T0 + window;
    let restarted = repo.hit(&bucket, window, later).await.unwrap();
    assert_eq!((restarted.hits, restarted.resets_at), (1, later + window));
}

/// Buckets count apart, and a cleared bucket starts over at its next hit.
pub async fn buckets_are_independent_and_clearing_starts_over(repo: impl RateLimiter) {
    let (a, b) = (unique("a"), unique("b"));
    let window = Duration::minutes(10);
    for _ in 0..3 {
        repo.hit(&a, window, T0).await.unwrap();
    }
    assert_eq!(repo.hit(&b, window, T0).await.unwrap().hits, 1);
    repo.clear(&a).await.unwrap();
    let at = T0 + Duration::minutes(1);
    let fresh = repo.hit(&a, window, at).await.unwrap();
    assert_eq!((fresh.hits, fresh.resets_at), (1, at + window));
    assert_eq!(repo.hit(&b, window, T0).await.unwrap().hits, 2);
    repo.clear(&unique("never-hit")).await.unwrap();
}
