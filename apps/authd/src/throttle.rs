//! Abuse limits: login attempts per client IP and failures per account; wrong second-factor codes per user;
//! password-reset requests per client IP and per email address. Counters live in the database so every instance enforces the same limits.
//! Unknown emails are counted exactly like known ones, so the limits reveal nothing about which accounts
//! exist.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use authd_kernel::{Clock, StoreError, TokenHash, UserId};
use authd_store::{RateWindow, Store};
use time::{Duration, OffsetDateTime};

use crate::config::{EmailSettings, RateLimitSettings};
use crate::error::ApiError;

/// Login limits over the store's counters.
#[derive(Clone)]
pub struct Throttle {
    store: Store,
    settings: RateLimitSettings,
    reset_per_email: u32,
    reset_per_ip: u32,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Throttle {
    /// Limits as configured.
    pub fn new(
        store: Store,
        settings: RateLimitSettings,
        email: &EmailSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            settings,
            reset_per_email: email.reset_per_email_per_hour.get(),
            reset_per_ip: email.reset_per_ip_per_hour.get(),
            clock,
        }
    }

    /// Counts a password-reset request from `ip` and refuses it over the per-IP limit.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`], or a storage failure.
    pub async fn before_reset_request(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let (true, Some(ip)) = (self.settings.enabled, ip) else {
            return Ok(());
        };
        self.count(&format!("reset:ip:{ip}"), Duration::HOUR, self.reset_per_ip)
            .await
    }

    /// Counts a reset email for `email`; false once the address had its share this hour. The caller
    /// answers the same either way and simply sends nothing more.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn allow_reset_email(&self, email: &str) -> Result<bool, StoreError> {
        if !self.settings.enabled {
            return Ok(true);
        }
        let bucket = format!("reset:email:{}", email_key(email));
        let state = self
            .store
            .hit_rate_limit(&bucket, Duration::HOUR, self.clock.now())
            .await?;
        Ok(state.hits <= self.reset_per_email)
    }

    /// Counts a login attempt from `ip` and against the account, and refuses it when either is over its
    /// limit. The account's attempt is counted as a failure *before* the password is checked, so concurrent
    /// guesses cannot all slip in while earlier ones are still hashing; a success then clears the count
    /// ([`Self::after_success`]), which leaves exactly the failures counted.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the seconds until the limit resets, or a storage failure.
    pub async fn before_login(&self, ip: Option<IpAddr>, email: &str) -> Result<(), ApiError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let limits = &self.settings;
        if let Some(ip) = ip {
            let window = secs(limits.login_ip_window_secs);
            self.count(&format!("login:ip:{ip}"), window, limits.login_per_ip.get())
                .await?;
        }
        let window = secs(limits.login_account_window_secs);
        self.count(
            &account_bucket(email),
            window,
            limits.login_failures_per_account.get(),
        )
        .await
    }

    /// Counts a second-factor attempt against the user (before its code is checked, as for logins) and
    /// refuses it over the per-user limit.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`], or a storage failure.
    pub async fn before_second_factor(&self, user: UserId) -> Result<(), ApiError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let window = secs(self.settings.mfa_window_secs);
        self.count(
            &second_factor_bucket(user),
            window,
            self.settings.mfa_failures_per_user.get(),
        )
        .await
    }

    /// Forgets the user's wrong second-factor codes after a right one.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn after_second_factor(&self, user: UserId) -> Result<(), StoreError> {
        if self.settings.enabled {
            self.store
                .clear_rate_limit(&second_factor_bucket(user))
                .await?;
        }
        Ok(())
    }

    /// Counts one hit in `bucket` and refuses it once the window holds more than `limit`.
    async fn count(&self, bucket: &str, window: Duration, limit: u32) -> Result<(), ApiError> {
        let now = self.clock.now();
        let state = self.store.hit_rate_limit(bucket, window, now).await?;
        refuse_over(state, limit, now)
    }

    /// Forgets the account's failures after a successful login (its own attempt included).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn after_success(&self, email: &str) -> Result<(), StoreError> {
        if self.settings.enabled {
            self.store.clear_rate_limit(&account_bucket(email)).await?;
        }
        Ok(())
    }
}

/// The account's bucket is keyed by a hash of the normalised email, so attempted addresses are not stored.
fn account_bucket(email: &str) -> String {
    format!("login:account:{}", email_key(email))
}

fn second_factor_bucket(user: UserId) -> String {
    format!("mfa:user:{user}")
}

fn email_key(email: &str) -> String {
    TokenHash::of(&email.trim().to_lowercase())
        .as_str()
        .to_owned()
}

fn secs(n: NonZeroU32) -> Duration {
    Duration::seconds(n.get().into())
}

fn refuse_over(state: RateWindow, limit: u32, now: OffsetDateTime) -> Result<(), ApiError> {
    if state.hits > limit {
        let retry_after = u64::try_from((state.resets_at - now).whole_seconds())
            .unwrap_or(1)
            .max(1);
        return Err(ApiError::RateLimited { retry_after });
    }
    Ok(())
}
