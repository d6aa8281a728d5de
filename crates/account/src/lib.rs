//! authd's application layer: the use cases that cross domains.
//!
//! A sign-in is a throttle, a first factor (password, provider, passkey), a decision (does the user owe a
//! second factor?), and a session, full or pending; a pending session is finished by a counted second
//! factor. Those steps belong to five domain crates; this crate is the one place that puts them in order,
//! so "what happens on the fifth wrong code?" is answered by reading [`Accounts`].
//!
//! Like the domain crates it is pure: no web framework, database, HTTP client or runtime. Its ports (the
//! domains' repositories plus [`ports::RateLimiter`]) are named together by one [`Ports`] type, filled by
//! the store in the service and by in-memory fakes in tests. Email delivery ([`EmailDelivery`]) drains the
//! outbox the use cases queue into, behind the [`ports::Outbox`] port.

mod accounts;
mod delivery;
mod error;
pub mod ports;
mod reset;
mod second_factor;
mod sessions;
mod sign_in;
mod step_up;
mod throttle;

pub use accounts::{AccountPolicy, Accounts, Domains, Parts, Ports};
pub use delivery::{DeliveryPolicy, EmailDelivery, LEASE, MAX_BACKOFF, backoff};
pub use error::AccountError;
pub use reset::ResetEmail;
pub use second_factor::{PENDING_SESSION_ATTEMPTS, SecondFactor};
pub use sessions::{EventPage, Revoked};
pub use sign_in::{FullSession, PendingSession, ProviderCallback, ProviderSignIn, SignIn};
pub use step_up::Proof;
pub use throttle::{Limit, Throttle, ThrottlePolicy};
