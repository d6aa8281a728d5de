//! Passkeys and WebAuthn ceremonies in flight: the passkey crate's `PasskeyRepository`.

use authd_kernel::{SecurityEvent, StoreError, UserId};
use authd_passkey::ports::PasskeyRepository;
use authd_passkey::{
    CeremonyPurpose, CeremonyRecord, CredentialId, PasskeyError, PasskeyId, StoredPasskey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::{
    ExpressionMethods as _, Insertable, OptionalExtension as _, QueryDsl as _, Queryable,
};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, from_db, is_unique_violation, to_db, uuid};
use crate::events::EventRow;
use crate::schema::{passkeys, webauthn_ceremonies};

#[derive(Queryable, Insertable)]
#[diesel(table_name = passkeys)]
struct PasskeyRow {
    id: String,
    user_id: String,
    credential_id: String,
    name: String,
    data: String,
    created_at: PrimitiveDateTime,
    last_used_at: Option<PrimitiveDateTime>,
}

/// Credential ids are stored base64url, as they travel.
fn encode(id: &CredentialId) -> String {
    URL_SAFE_NO_PAD.encode(&id.0)
}

impl PasskeyRow {
    fn from_domain(p: &StoredPasskey) -> Self {
        Self {
            id: p.id.to_string(),
            user_id: p.user_id.to_string(),
            credential_id: encode(&p.credential_id),
            name: p.name.clone(),
            data: p.data.clone(),
            created_at: to_db(p.created_at),
            last_used_at: p.last_used_at.map(to_db),
        }
    }

    fn into_domain(self) -> Result<StoredPasskey, StoreError> {
        let credential = URL_SAFE_NO_PAD.decode(&self.credential_id).map_err(|e| {
            StoreError::message(format!("stored credential id is not base64url: {e}"))
        })?;
        Ok(StoredPasskey {
            id: PasskeyId::from_uuid(uuid(&self.id)?),
            user_id: UserId::from_uuid(uuid(&self.user_id)?),
            credential_id: CredentialId(credential),
            name: self.name,
            data: self.data,
            created_at: from_db(self.created_at),
            last_used_at: self.last_used_at.map(from_db),
        })
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = webauthn_ceremonies)]
struct CeremonyRow {
    challenge: String,
    kind: String,
    user_id: Option<String>,
    state: String,
    created_at: PrimitiveDateTime,
    expires_at: PrimitiveDateTime,
}

/// The stored `kind` of a registration ceremony (which also stores its user).
const REGISTRATION: &str = "registration";
/// The stored `kind` of a sign-in ceremony.
const AUTHENTICATION: &str = "authentication";

/// The stored `kind` column of a ceremony.
const fn kind_of(purpose: CeremonyPurpose) -> &'static str {
    match purpose {
        CeremonyPurpose::Registration(_) => REGISTRATION,
        CeremonyPurpose::Authentication => AUTHENTICATION,
    }
}

impl CeremonyRow {
    fn purpose(&self) -> Result<CeremonyPurpose, StoreError> {
        match (self.kind.as_str(), self.user_id.as_deref()) {
            (REGISTRATION, Some(user)) => Ok(CeremonyPurpose::Registration(UserId::from_uuid(
                uuid(user)?,
            ))),
            (AUTHENTICATION, None) => Ok(CeremonyPurpose::Authentication),
            (kind, user) => Err(StoreError::message(format!(
                "inconsistent ceremony: kind {kind:?}, user {user:?}"
            ))),
        }
    }

    fn into_domain(self) -> Result<CeremonyRecord, StoreError> {
        Ok(CeremonyRecord {
            purpose: self.purpose()?,
            challenge: self.challenge,
            state: self.state,
            created_at: from_db(self.created_at),
            expires_at: from_db(self.expires_at),
        })
    }
}

impl PasskeyRepository for Store {
    async fn drop_registrations_of(&self, user: UserId) -> Result<(), StoreError> {
        let user = user.to_string();
        with_conn!(self, |conn| {
            diesel::delete(
                webauthn_ceremonies::table
                    .filter(webauthn_ceremonies::user_id.eq(&user))
                    .filter(webauthn_ceremonies::kind.eq(REGISTRATION)),
            )
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(())
    }

    async fn save_ceremony(&self, ceremony: &CeremonyRecord) -> Result<(), StoreError> {
        let row = CeremonyRow {
            challenge: ceremony.challenge.clone(),
            kind: kind_of(ceremony.purpose).to_owned(),
            user_id: match ceremony.purpose {
                CeremonyPurpose::Registration(user) => Some(user.to_string()),
                CeremonyPurpose::Authentication => None,
            },
            state: ceremony.state.clone(),
            created_at: to_db(ceremony.created_at),
            expires_at: to_db(ceremony.expires_at),
        };
        with_conn!(self, |conn| {
            diesel::insert_into(webauthn_ceremonies::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }

    async fn take_ceremony(&self, challenge: &str) -> Result<Option<CeremonyRecord>, StoreError> {
        let row: Option<CeremonyRow> = with_conn!(self, |conn| {
            diesel::delete(webauthn_ceremonies::table.find(challenge))
                .returning(webauthn_ceremonies::all_columns)
                .get_result(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        row.map(CeremonyRow::into_domain).transpose()
    }

    async fn passkeys_of(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        let user = user.to_string();
        let rows: Vec<PasskeyRow> = with_conn!(self, |conn| {
            passkeys::table
                .filter(passkeys::user_id.eq(&user))
                .order((passkeys::created_at.asc(), passkeys::id.asc()))
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(PasskeyRow::into_domain).collect()
    }

    async fn find_by_credential(
        &self,
        credential: &CredentialId,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        let encoded = encode(credential);
        let row: Option<PasskeyRow> = with_conn!(self, |conn| {
            passkeys::table
                .filter(passkeys::credential_id.eq(&encoded))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        row.map(PasskeyRow::into_domain).transpose()
    }

    async fn insert(
        &self,
        passkey: &StoredPasskey,
        event: &SecurityEvent,
    ) -> Result<(), PasskeyError> {
        let row = PasskeyRow::from_domain(passkey);
        let event = EventRow::from_domain(event);
        let result = with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::insert_into(passkeys::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                record_if!(conn, true, Some(&event));
                Ok(())
            })
            .await
        });
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_unique_violation(&err) => Err(PasskeyError::AlreadyRegistered),
            Err(err) => Err(PasskeyError::Store(db_error(err))),
        }
    }

    async fn record_use(
        &self,
        id: PasskeyId,
        previous: &str,
        data: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        let updated = with_conn!(self, |conn| {
            diesel::update(
                passkeys::table
                    .find(&id)
                    .filter(passkeys::data.eq(previous)),
            )
            .set((
                passkeys::data.eq(data),
                passkeys::last_used_at.eq(Some(to_db(at))),
            ))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(updated == 1)
    }

    async fn delete(
        &self,
        user: UserId,
        id: PasskeyId,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let (user, id) = (user.to_string(), id.to_string());
        let event = EventRow::from_domain(event);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let removed = diesel::delete(
                    passkeys::table
                        .find(&id)
                        .filter(passkeys::user_id.eq(&user)),
                )
                .execute(conn)
                .await?;
                record_if!(conn, removed == 1, Some(&event));
                Ok(removed == 1)
            })
            .await
            .map_err(db_error)
        })
    }
}
