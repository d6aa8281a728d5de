//! The authd service: the HTTP contract over the domain crates. `main.rs` only parses the command line;
//! everything else is here so the API tests can build the same `App`.

pub mod api;
pub mod auth;
pub mod background;
pub mod client_ip;
pub mod config;
pub mod cookies;
pub mod cors;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod hashing;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod providers;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
