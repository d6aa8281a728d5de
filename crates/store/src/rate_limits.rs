//! Fixed-window rate-limit counters, kept in the database so every instance shares them.

use authd_account::ports::{RateLimiter, RateWindow};
use authd_kernel::StoreError;
use diesel::dsl::case_when;
use diesel::sql_types::Integer;
use diesel::{ExpressionMethods as _, IntoSql as _, QueryDsl as _};
use diesel_async::RunQueryDsl as _;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, from_db, to_db};
use crate::schema::rate_limits;

fn window_of(hits: i32, window_start: PrimitiveDateTime, window: Duration) -> RateWindow {
    RateWindow {
        hits: u32::try_from(hits).unwrap_or(0),
        resets_at: from_db(window_start) + window,
    }
}

impl RateLimiter for Store {
    /// One statement, atomic on both backends: an upsert that restarts a stale window.
    async fn hit(
        &self,
        bucket: &str,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<RateWindow, StoreError> {
        let now_db = to_db(now);
        let stale = rate_limits::window_start.le(to_db(now - window));
        let (hits, start): (i32, PrimitiveDateTime) = with_conn!(self, |conn| {
            diesel::insert_into(rate_limits::table)
                .values((
                    rate_limits::bucket.eq(bucket),
                    rate_limits::window_start.eq(now_db),
                    rate_limits::hits.eq(1),
                ))
                .on_conflict(rate_limits::bucket)
                .do_update()
                .set((
                    rate_limits::hits.eq(case_when(stale, 1_i32.into_sql::<Integer>())
                        .otherwise(rate_limits::hits + 1)),
                    rate_limits::window_start.eq(case_when(
                        stale,
                        now_db.into_sql::<diesel::sql_types::Timestamp>(),
                    )
                    .otherwise(rate_limits::window_start)),
                ))
                .returning((rate_limits::hits, rate_limits::window_start))
                .get_result(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(window_of(hits, start, window))
    }

    async fn clear(&self, bucket: &str) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::delete(rate_limits::table.find(bucket))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }
}
