//! Removal of rows that can no longer matter. Safe to run on every instance at once: each statement is an
//! idempotent delete of rows past their expiry.

use authd_kernel::{LONGEST_RATE_WINDOW, StoreError};
use diesel::{BoolExpressionMethods as _, ExpressionMethods as _, QueryDsl as _};
use diesel_async::RunQueryDsl as _;
use time::{Duration, OffsetDateTime};

use crate::Store;
use crate::convert::{db_error, to_db};
use crate::schema::{
    email_outbox, oauth_authorizations, password_resets, rate_limits, refresh_tokens, sessions,
    webauthn_ceremonies,
};

/// How long rows are kept after they expire, so reuse of a just-expired refresh token is still recognised
/// and investigations have something to look at.
const GRACE: Duration = Duration::days(7);

impl Store {
    /// Deletes sessions (with their refresh tokens), reset tokens, finished outbox entries and rate-limit
    /// counters that expired long enough ago.
    /// Returns how many rows went.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn purge_expired(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let cutoff = to_db(now - GRACE);
        // Begun OAuth flows and WebAuthn ceremonies are worthless once expired, and anyone can create
        // them without signing in: they go at once, not after the grace period.
        let now_db = to_db(now);
        let stale_window = to_db(now - LONGEST_RATE_WINDOW);
        with_conn!(self, |conn| {
            let tokens =
                diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(cutoff)))
                    .execute(conn)
                    .await
                    .map_err(db_error)?;
            let sessions = diesel::delete(sessions::table.filter(sessions::expires_at.lt(cutoff)))
                .execute(conn)
                .await
                .map_err(db_error)?;
            let counters = diesel::delete(
                rate_limits::table.filter(rate_limits::window_start.lt(stale_window)),
            )
            .execute(conn)
            .await
            .map_err(db_error)?;
            let resets = diesel::delete(
                password_resets::table.filter(password_resets::expires_at.lt(cutoff)),
            )
            .execute(conn)
            .await
            .map_err(db_error)?;
            let emails = diesel::delete(
                email_outbox::table.filter(
                    email_outbox::sent_at
                        .lt(cutoff)
                        .or(email_outbox::failed_at.lt(cutoff)),
                ),
            )
            .execute(conn)
            .await
            .map_err(db_error)?;
            let flows = diesel::delete(
                oauth_authorizations::table.filter(oauth_authorizations::expires_at.lt(now_db)),
            )
            .execute(conn)
            .await
            .map_err(db_error)?;
            let ceremonies = diesel::delete(
                webauthn_ceremonies::table.filter(webauthn_ceremonies::expires_at.lt(now_db)),
            )
            .execute(conn)
            .await
            .map_err(db_error)?;
            Ok(tokens + sessions + counters + resets + emails + flows + ceremonies)
        })
    }
}
