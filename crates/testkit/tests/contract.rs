//! Every contract suite, run on the in-memory store: one test per check, each on a fresh store.

use authd_testkit::MemoryStore;
use futures_util::FutureExt as _;

/// Runs a check to completion: the in-memory store never suspends, so one poll is enough.
fn run(check: impl std::future::Future<Output = ()>) {
    assert!(
        check.now_or_never().is_some(),
        "the in-memory store suspended"
    );
}

macro_rules! on_the_memory_store {
    ($suite:ident, $database:ident: $($check:ident),* $(,)?) => {
        mod $suite {
            $(
                #[test]
                fn $check() {
                    super::run(authd_testkit::contract::$suite::$check(super::MemoryStore::new()));
                }
            )*
        }
    };
}

authd_testkit::for_each_contract_suite!(on_the_memory_store);
