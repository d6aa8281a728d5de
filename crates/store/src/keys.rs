//! Token signing keys: the session crate's `SigningKeyRepository`.

use authd_kernel::{Secret, StoreError};
use authd_session::ports::SigningKeyRepository;
use authd_session::{KeyId, StoredSigningKey};
use diesel::{ExpressionMethods as _, Insertable, QueryDsl as _, Queryable};
use diesel_async::RunQueryDsl as _;
use time::PrimitiveDateTime;

use crate::Store;
use crate::convert::{db_error, from_db, to_db};
use crate::schema::signing_keys;

#[derive(Queryable, Insertable)]
#[diesel(table_name = signing_keys)]
struct KeyRow {
    kid: i32,
    private_key: String,
    active: bool,
    created_at: PrimitiveDateTime,
}

impl KeyRow {
    fn into_domain(self) -> Result<StoredSigningKey, StoreError> {
        let kid =
            u32::try_from(self.kid).map_err(|_| StoreError::message("negative signing key id"))?;
        Ok(StoredSigningKey {
            kid: KeyId(kid),
            private_key: Secret::new(self.private_key),
            active: self.active,
            created_at: from_db(self.created_at),
        })
    }
}

impl Store {
    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        let rows: Vec<KeyRow> = with_conn!(self, |conn| {
            signing_keys::table
                .order(signing_keys::kid.asc())
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(KeyRow::into_domain).collect()
    }
}

impl SigningKeyRepository for Store {
    async fn load_or_insert(
        &self,
        candidate: &StoredSigningKey,
    ) -> Result<Vec<StoredSigningKey>, StoreError> {
        let existing = self.signing_keys().await?;
        if !existing.is_empty() {
            return Ok(existing);
        }
        let row = KeyRow {
            kid: i32::try_from(candidate.kid.0)
                .map_err(|_| StoreError::message("signing key id too large"))?,
            private_key: candidate.private_key.expose().to_owned(),
            active: candidate.active,
            created_at: to_db(candidate.created_at),
        };
        // Instances starting together race here; the primary key lets exactly one candidate in.
        with_conn!(self, |conn| {
            diesel::insert_into(signing_keys::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        self.signing_keys().await
    }
}
