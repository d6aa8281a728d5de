//! Nothing to use: this crate exists for its tests, which check the workspace's architecture every time
//! `cargo test` runs (see `tests/dependency_rule.rs`), so the rules hold by test rather than by convention.
