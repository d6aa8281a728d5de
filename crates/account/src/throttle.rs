//! The throttling policy: login attempts per client IP and failures per account, wrong second-factor codes
//! per user, password-reset requests per client IP and reset emails per address. Counters live behind the
//! [`RateLimiter`] port (in the database in the service), so every instance enforces the same limits.
//! Unknown emails are counted exactly like known ones, so the limits reveal nothing about which accounts
//! exist.

use std::net::IpAddr;

use authd_kernel::{Clock, TokenHash, UserId};
use time::{Duration, OffsetDateTime};

use crate::AccountError;
use crate::ports::{RateLimiter, RateWindow};

/// At most `max` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Hits allowed in one window.
    pub max: u32,
    /// The window's length.
    pub window: Duration,
}

/// Every limit the service enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Off turns every limit below off (for load tests and black-box suites); the contract's five codes per
    /// pending session are not a rate limit and stay.
    pub enabled: bool,
    /// Login attempts per client IP.
    pub login_per_ip: Limit,
    /// Sign-ups per client IP (each costs a password hash before the email is known to be free).
    pub registrations_per_ip: Limit,
    /// Ceremonies anyone may begin without signing in (passkey login challenges, provider sign-ins), per
    /// client IP: each one is a stored row until it expires.
    pub anonymous_ceremonies_per_ip: Limit,
    /// Failed logins per account (counted per email, known or not).
    pub login_failures_per_account: Limit,
    /// Wrong second-factor codes per user, across all their sessions and MFA disabling.
    pub second_factor_failures_per_user: Limit,
    /// Password-reset requests per client IP.
    pub reset_requests_per_ip: Limit,
    /// Reset emails per address.
    pub reset_emails_per_address: Limit,
}

/// The throttling policy over its counters.
#[derive(Debug, Clone)]
pub struct Throttle<L, C> {
    counters: L,
    policy: ThrottlePolicy,
    clock: C,
}

impl<L: RateLimiter, C: Clock> Throttle<L, C> {
    /// The policy over `counters`.
    pub fn new(counters: L, policy: ThrottlePolicy, clock: C) -> Self {
        Self {
            counters,
            policy,
            clock,
        }
    }

    /// Counts a login attempt from `ip` and against the account, and refuses it when either is over its
    /// limit. The account's attempt is counted as a failure *before* the password is checked, so concurrent
    /// guesses cannot all slip in while earlier ones are still hashing; a success then clears the count
    /// ([`Self::after_login`]), which leaves exactly the failures counted.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`] ([`AccountError::LockedOut`] for the attempt that crosses the account's
    /// limit), or a storage failure.
    pub async fn before_login(&self, ip: Option<IpAddr>, email: &str) -> Result<(), AccountError> {
        if !self.policy.enabled {
            return Ok(());
        }
        if let Some(ip) = ip {
            self.count(
                &format!("login:ip:{}", ip_key(ip)),
                self.policy.login_per_ip,
            )
            .await?;
        }
        let limit = self.policy.login_failures_per_account;
        let now = self.clock.now();
        let account = self
            .counters
            .hit(&account_bucket(email), limit.window, now)
            .await?;
        // The attempt that crosses the limit locks the account out (for the rest of the window): the one
        // the security log records; the later ones are plain refusals.
        if account.hits == limit.max.saturating_add(1) {
            return Err(AccountError::LockedOut {
                retry_after: retry_after(account, now),
            });
        }
        refuse_over(account, limit.max, now)
    }

    /// Forgets the account's failures after a successful login (its own attempt included).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn after_login(&self, email: &str) -> Result<(), AccountError> {
        self.forget(&account_bucket(email)).await
    }

    /// Counts a second-factor attempt against the user (before its code is checked, as for logins) and
    /// refuses it over the per-user limit.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], or a storage failure.
    pub async fn before_second_factor(&self, user: UserId) -> Result<(), AccountError> {
        if !self.policy.enabled {
            return Ok(());
        }
        self.count(
            &second_factor_bucket(user),
            self.policy.second_factor_failures_per_user,
        )
        .await
    }

    /// Forgets the user's wrong second-factor codes after a right one.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn after_second_factor(&self, user: UserId) -> Result<(), AccountError> {
        self.forget(&second_factor_bucket(user)).await
    }

    /// Counts a sign-up from `ip` and refuses it over the per-IP limit, before any password is hashed.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], or a storage failure.
    pub async fn before_registration(&self, ip: Option<IpAddr>) -> Result<(), AccountError> {
        let (true, Some(ip)) = (self.policy.enabled, ip) else {
            return Ok(());
        };
        self.count(
            &format!("register:ip:{}", ip_key(ip)),
            self.policy.registrations_per_ip,
        )
        .await
    }

    /// Counts a ceremony begun without signing in from `ip` and refuses it over the per-IP limit.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], or a storage failure.
    pub async fn before_anonymous_ceremony(&self, ip: Option<IpAddr>) -> Result<(), AccountError> {
        let (true, Some(ip)) = (self.policy.enabled, ip) else {
            return Ok(());
        };
        self.count(
            &format!("ceremony:ip:{}", ip_key(ip)),
            self.policy.anonymous_ceremonies_per_ip,
        )
        .await
    }

    /// Counts a password-reset request from `ip` and refuses it over the per-IP limit.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], or a storage failure.
    pub async fn before_reset_request(&self, ip: Option<IpAddr>) -> Result<(), AccountError> {
        let (true, Some(ip)) = (self.policy.enabled, ip) else {
            return Ok(());
        };
        self.count(
            &format!("reset:ip:{}", ip_key(ip)),
            self.policy.reset_requests_per_ip,
        )
        .await
    }

    /// Counts a reset email for `email`; false once the address had its share of the window. The caller
    /// answers the same either way and simply sends nothing more.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn allow_reset_email(&self, email: &str) -> Result<bool, AccountError> {
        if !self.policy.enabled {
            return Ok(true);
        }
        let limit = self.policy.reset_emails_per_address;
        let bucket = format!("reset:email:{}", email_key(email));
        let state = self
            .counters
            .hit(&bucket, limit.window, self.clock.now())
            .await?;
        Ok(state.hits <= limit.max)
    }

    /// Counts one hit in `bucket` and refuses it once the window holds more than the limit.
    async fn count(&self, bucket: &str, limit: Limit) -> Result<(), AccountError> {
        let now = self.clock.now();
        let state = self.counters.hit(bucket, limit.window, now).await?;
        refuse_over(state, limit.max, now)
    }

    async fn forget(&self, bucket: &str) -> Result<(), AccountError> {
        if self.policy.enabled {
            self.counters.clear(bucket).await?;
        }
        Ok(())
    }
}

/// The account's bucket is keyed by a hash of the normalised email, so attempted addresses are not stored.
fn account_bucket(email: &str) -> String {
    format!("login:account:{}", email_key(email))
}

/// A client as the per-IP limits see it: an IPv4 address, or the /64 of an IPv6 one (one subscriber line
/// usually holds a whole /64, so counting single IPv6 addresses would not limit anyone).
fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    }
}

fn second_factor_bucket(user: UserId) -> String {
    format!("mfa:user:{user}")
}

fn email_key(email: &str) -> String {
    TokenHash::of(&email.trim().to_lowercase())
        .as_str()
        .to_owned()
}

fn refuse_over(state: RateWindow, max: u32, now: OffsetDateTime) -> Result<(), AccountError> {
    if state.hits > max {
        return Err(AccountError::RateLimited {
            retry_after: retry_after(state, now),
        });
    }
    Ok(())
}

/// Whole seconds until the window ends, at least one.
fn retry_after(state: RateWindow, now: OffsetDateTime) -> u64 {
    u64::try_from((state.resets_at - now).whole_seconds())
        .unwrap_or(1)
        .max(1)
}
