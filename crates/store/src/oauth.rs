//! Pending OAuth authorizations and linked identities: the oauth crate's `OAuthRepository`.

use authd_identity::{NewWorkspace, User};
use authd_kernel::{Secret, SecurityEvent, StoreError, TokenHash, UserId};
use authd_oauth::ports::OAuthRepository;
use authd_oauth::{
    FlowPurpose, LinkedIdentity, OAuthError, PendingAuthorization, ProviderKind, RedirectPath,
};
use authd_session::SessionId;
use diesel::{
    ExpressionMethods as _, Insertable, OptionalExtension as _, QueryDsl as _, Queryable,
};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use time::PrimitiveDateTime;

use crate::Store;
use crate::convert::{db_error, from_db, is_unique_violation, to_db, uuid};
use crate::events::EventRow;
use crate::schema::{oauth_authorizations, oauth_links};
use crate::users::CreateError;

#[derive(Queryable, Insertable)]
#[diesel(table_name = oauth_authorizations)]
struct PendingRow {
    state_hash: String,
    provider: String,
    binding_hash: String,
    pkce_verifier: String,
    nonce: String,
    redirect_to: String,
    link_user_id: Option<String>,
    created_at: PrimitiveDateTime,
    expires_at: PrimitiveDateTime,
    link_session_id: Option<String>,
}

fn provider(raw: &str) -> Result<ProviderKind, StoreError> {
    ProviderKind::parse(raw).ok_or_else(|| StoreError::message(format!("unknown provider {raw:?}")))
}

impl PendingRow {
    fn from_domain(p: &PendingAuthorization) -> Self {
        Self {
            state_hash: p.state_hash.as_str().to_owned(),
            provider: p.provider.as_str().to_owned(),
            binding_hash: p.binding_hash.as_str().to_owned(),
            pkce_verifier: p.pkce_verifier.expose().to_owned(),
            nonce: p.nonce.expose().to_owned(),
            redirect_to: p.redirect_to.as_str().to_owned(),
            link_user_id: match p.purpose {
                FlowPurpose::Link { user, .. } => Some(user.to_string()),
                FlowPurpose::SignIn => None,
            },
            link_session_id: match p.purpose {
                FlowPurpose::Link { session, .. } => Some(session.to_string()),
                FlowPurpose::SignIn => None,
            },
            created_at: to_db(p.created_at),
            expires_at: to_db(p.expires_at),
        }
    }

    fn into_domain(self) -> Result<PendingAuthorization, StoreError> {
        Ok(PendingAuthorization {
            state_hash: TokenHash::from_stored(self.state_hash),
            provider: provider(&self.provider)?,
            binding_hash: TokenHash::from_stored(self.binding_hash),
            pkce_verifier: Secret::new(self.pkce_verifier),
            nonce: Secret::new(self.nonce),
            redirect_to: RedirectPath::from_stored(self.redirect_to),
            purpose: match (
                self.link_user_id.as_deref(),
                self.link_session_id.as_deref(),
            ) {
                (Some(user), Some(session)) => FlowPurpose::Link {
                    user: UserId::from_uuid(uuid(user)?),
                    session: SessionId::from_uuid(uuid(session)?),
                },
                (None, None) => FlowPurpose::SignIn,
                _ => return Err(StoreError::message("a link flow without its session")),
            },
            created_at: from_db(self.created_at),
            expires_at: from_db(self.expires_at),
        })
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = oauth_links)]
pub(crate) struct LinkRow {
    provider: String,
    subject: String,
    user_id: String,
    email: Option<String>,
    linked_at: PrimitiveDateTime,
}

impl LinkRow {
    fn from_domain(link: &LinkedIdentity) -> Self {
        Self {
            provider: link.provider.as_str().to_owned(),
            subject: link.subject.clone(),
            user_id: link.user_id.to_string(),
            email: link.email.clone(),
            linked_at: to_db(link.linked_at),
        }
    }

    fn into_domain(self) -> Result<LinkedIdentity, StoreError> {
        Ok(LinkedIdentity {
            user_id: UserId::from_uuid(uuid(&self.user_id)?),
            provider: provider(&self.provider)?,
            subject: self.subject,
            email: self.email,
            linked_at: from_db(self.linked_at),
        })
    }
}

impl OAuthRepository for Store {
    async fn drop_link_flows_of(&self, user: UserId) -> Result<(), StoreError> {
        let user = user.to_string();
        with_conn!(self, |conn| {
            diesel::delete(
                oauth_authorizations::table.filter(oauth_authorizations::link_user_id.eq(&user)),
            )
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(())
    }

    async fn save_authorization(&self, pending: &PendingAuthorization) -> Result<(), StoreError> {
        let row = PendingRow::from_domain(pending);
        with_conn!(self, |conn| {
            diesel::insert_into(oauth_authorizations::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }

    async fn take_authorization(
        &self,
        state_hash: &TokenHash,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        // Delete-and-return is one statement: of two concurrent callbacks with one state, one gets the row.
        let row: Option<PendingRow> = with_conn!(self, |conn| {
            diesel::delete(oauth_authorizations::table.find(state_hash.as_str()))
                .returning(oauth_authorizations::all_columns)
                .get_result(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        row.map(PendingRow::into_domain).transpose()
    }

    async fn find_link(
        &self,
        provider: ProviderKind,
        subject: &str,
    ) -> Result<Option<LinkedIdentity>, StoreError> {
        let row: Option<LinkRow> = with_conn!(self, |conn| {
            oauth_links::table
                .find((provider.as_str(), subject))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        row.map(LinkRow::into_domain).transpose()
    }

    async fn links_of(&self, user: UserId) -> Result<Vec<LinkedIdentity>, StoreError> {
        let user = user.to_string();
        let rows: Vec<LinkRow> = with_conn!(self, |conn| {
            oauth_links::table
                .filter(oauth_links::user_id.eq(&user))
                .order(oauth_links::linked_at.asc())
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(LinkRow::into_domain).collect()
    }

    async fn link(&self, link: &LinkedIdentity, event: &SecurityEvent) -> Result<(), OAuthError> {
        let row = LinkRow::from_domain(link);
        let event = EventRow::from_domain(event);
        let result = with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::insert_into(oauth_links::table)
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
            Err(err) if is_unique_violation(&err) => Err(OAuthError::ProviderAlreadyLinked),
            Err(err) => Err(OAuthError::Store(db_error(err))),
        }
    }

    async fn create_user_with_link(
        &self,
        user: &User,
        workspace: &NewWorkspace,
        link: &LinkedIdentity,
        event: &SecurityEvent,
    ) -> Result<(), OAuthError> {
        let row = LinkRow::from_domain(link);
        self.create_account(user, workspace, Some(&row), Some(event))
            .await
            .map_err(|err| match err {
                CreateError::EmailTaken => {
                    OAuthError::NoUsableEmail("an account with this email was just created")
                }
                CreateError::AlreadyLinked => OAuthError::ProviderAlreadyLinked,
                CreateError::Db(err) => OAuthError::Store(db_error(err)),
                CreateError::Store(err) => OAuthError::Store(err),
            })
    }

    async fn unlink(
        &self,
        user: UserId,
        provider: ProviderKind,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let user = user.to_string();
        let event = EventRow::from_domain(event);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let removed = diesel::delete(
                    oauth_links::table
                        .filter(oauth_links::user_id.eq(&user))
                        .filter(oauth_links::provider.eq(provider.as_str())),
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
