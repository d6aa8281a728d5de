//! Conversions at the storage boundary: timestamps, ids and errors.

use authd_kernel::StoreError;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

/// UTC, truncated to the microsecond both backends keep.
pub(crate) fn to_db(at: OffsetDateTime) -> PrimitiveDateTime {
    let utc = at.to_offset(UtcOffset::UTC);
    let micros = utc.nanosecond() / 1_000 * 1_000;
    let utc = utc.replace_nanosecond(micros).unwrap_or(utc);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

/// Stored timestamps are UTC.
pub(crate) fn from_db(at: PrimitiveDateTime) -> OffsetDateTime {
    at.assume_utc()
}

/// Parses a stored UUID; a malformed one means the database was edited by hand.
pub(crate) fn uuid(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw)
        .map_err(|e| StoreError::message(format!("stored id {raw:?} is not a UUID: {e}")))
}

/// Every diesel error is a storage failure unless a caller maps it first.
pub(crate) fn db_error(err: diesel::result::Error) -> StoreError {
    StoreError::new(err)
}

/// Whether an error is a unique-constraint violation (e.g. a duplicate email).
pub(crate) fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
