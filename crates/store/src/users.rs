//! Users, workspaces and memberships: the identity crate's `UserRepository`.

use authd_identity::ports::{LoginMethodRepository, UserRepository};
use authd_identity::{
    DisplayName, Email, IdentityError, LoginMethods, Membership, NewWorkspace, PasswordHash,
    Profile, Role, User, Workspace, WorkspaceId,
};
use authd_kernel::{SecurityEvent, StoreError, UserId};
use diesel::{
    ExpressionMethods as _, Insertable, NullableExpressionMethods as _, OptionalExtension as _,
    QueryDsl as _, Queryable,
};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, from_db, is_unique_violation, to_db, uuid};
use crate::events::EventRow;
use crate::schema::{memberships, oauth_links, passkeys, users, workspaces};

#[derive(Queryable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    created_at: PrimitiveDateTime,
    updated_at: PrimitiveDateTime,
}

impl UserRow {
    fn from_domain(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_str().to_owned(),
            password_hash: user.password_hash.as_ref().map(|h| h.as_phc().to_owned()),
            created_at: to_db(user.created_at),
            updated_at: to_db(user.updated_at),
        }
    }

    fn into_domain(self) -> Result<User, StoreError> {
        let corrupt = |what: &str| {
            StoreError::message(format!("stored user {} has an invalid {what}", self.id))
        };
        Ok(User {
            id: UserId::from_uuid(uuid(&self.id)?),
            email: Email::parse(&self.email).map_err(|_| corrupt("email"))?,
            name: DisplayName::parse(&self.name).map_err(|_| corrupt("name"))?,
            password_hash: self.password_hash.map(PasswordHash::from_phc),
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = workspaces)]
struct WorkspaceRow {
    id: String,
    name: String,
    created_at: PrimitiveDateTime,
    updated_at: PrimitiveDateTime,
}

impl WorkspaceRow {
    fn from_domain(workspace: &Workspace) -> Self {
        Self {
            id: workspace.id.as_uuid().to_string(),
            name: workspace.name.clone(),
            created_at: to_db(workspace.created_at),
            updated_at: to_db(workspace.updated_at),
        }
    }

    fn into_domain(self) -> Result<Workspace, StoreError> {
        Ok(Workspace {
            id: WorkspaceId::from_uuid(uuid(&self.id)?),
            name: self.name,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = memberships)]
struct MembershipRow {
    user_id: String,
    workspace_id: String,
    role: String,
    created_at: PrimitiveDateTime,
}

/// Why an account-creation transaction stopped.
pub(crate) enum CreateError {
    EmailTaken,
    AlreadyLinked,
    Db(diesel::result::Error),
    Store(StoreError),
}

impl From<StoreError> for CreateError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<diesel::result::Error> for CreateError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Db(err)
    }
}

impl CreateError {
    /// A unique violation at this statement means `conflict`.
    fn unique(conflict: Self) -> impl FnOnce(diesel::result::Error) -> Self {
        move |err| {
            if is_unique_violation(&err) {
                conflict
            } else {
                Self::Db(err)
            }
        }
    }
}

impl Store {
    /// Inserts a user, their personal workspace, the owner membership and, for a provider sign-up, the
    /// linked identity, all in one transaction.
    pub(crate) async fn create_account(
        &self,
        user: &User,
        workspace: &NewWorkspace,
        link: Option<&crate::oauth::LinkRow>,
        event: Option<&SecurityEvent>,
    ) -> Result<(), CreateError> {
        let event = event.map(EventRow::from_domain);
        let user_row = UserRow::from_domain(user);
        let workspace_row = WorkspaceRow::from_domain(&workspace.workspace);
        let membership = MembershipRow {
            user_id: workspace.owner.to_string(),
            workspace_id: workspace_row.id.clone(),
            role: Role::Owner.as_str().to_owned(),
            created_at: workspace_row.created_at,
        };
        with_conn!(self, |conn| {
            conn.transaction::<_, CreateError, _>(async |conn| {
                diesel::insert_into(users::table)
                    .values(&user_row)
                    .execute(conn)
                    .await
                    .map_err(CreateError::unique(CreateError::EmailTaken))?;
                diesel::insert_into(workspaces::table)
                    .values(&workspace_row)
                    .execute(conn)
                    .await?;
                diesel::insert_into(memberships::table)
                    .values(&membership)
                    .execute(conn)
                    .await?;
                if let Some(link) = link {
                    diesel::insert_into(oauth_links::table)
                        .values(link)
                        .execute(conn)
                        .await
                        .map_err(CreateError::unique(CreateError::AlreadyLinked))?;
                }
                record_if!(conn, true, event.as_ref());
                Ok(())
            })
            .await
        })
    }
}

impl UserRepository for Store {
    async fn create_with_workspace(
        &self,
        user: &User,
        workspace: &NewWorkspace,
        event: Option<&SecurityEvent>,
    ) -> Result<(), IdentityError> {
        self.create_account(user, workspace, None, event)
            .await
            .map_err(|err| match err {
                CreateError::EmailTaken | CreateError::AlreadyLinked => IdentityError::EmailTaken,
                CreateError::Db(err) => IdentityError::Store(db_error(err)),
                CreateError::Store(err) => IdentityError::Store(err),
            })
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = with_conn!(self, |conn| {
            users::table
                .filter(users::email.eq(email.as_str()))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        row.map(UserRow::into_domain).transpose()
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let id = id.to_string();
        let row: Option<UserRow> = with_conn!(self, |conn| users::table
            .find(&id)
            .first(conn)
            .await
            .optional()
            .map_err(db_error))?;
        row.map(UserRow::into_domain).transpose()
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        let changes = (
            users::password_hash.eq(Some(hash.as_phc())),
            users::updated_at.eq(to_db(at)),
        );
        with_conn!(self, |conn| {
            diesel::update(users::table.find(&id))
                .set(changes)
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }

    /// One query: the user's row repeated once per membership (once, with no membership, when none).
    async fn find_profile(&self, id: UserId) -> Result<Option<Profile>, StoreError> {
        let id = id.to_string();
        let rows: Vec<(UserRow, Option<(WorkspaceRow, String)>)> = with_conn!(self, |conn| {
            users::table
                .left_join(memberships::table.inner_join(workspaces::table))
                .filter(users::id.eq(&id))
                .order((workspaces::created_at.asc(), workspaces::id.asc()))
                .select((
                    users::all_columns,
                    (workspaces::all_columns, memberships::role).nullable(),
                ))
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        let mut rows = rows.into_iter();
        let Some((user, first)) = rows.next() else {
            return Ok(None);
        };
        let memberships = std::iter::once(first)
            .chain(rows.map(|(_, membership)| membership))
            .flatten()
            .map(|(workspace, role): (WorkspaceRow, String)| membership(workspace, &role))
            .collect::<Result<_, _>>()?;
        Ok(Some(Profile {
            user: user.into_domain()?,
            memberships,
        }))
    }
}

fn membership(workspace: WorkspaceRow, role: &str) -> Result<Membership, StoreError> {
    let role =
        Role::parse(role).ok_or_else(|| StoreError::message(format!("unknown role {role:?}")))?;
    Ok(Membership {
        workspace: workspace.into_domain()?,
        role,
    })
}

impl LoginMethodRepository for Store {
    async fn login_methods(&self, user: UserId) -> Result<LoginMethods, StoreError> {
        let id = user.to_string();
        // One round trip: the counts are scalar subqueries of the user's row.
        let row: Option<(bool, Option<i64>, Option<i64>)> = with_conn!(self, |conn| {
            users::table
                .find(&id)
                .select((
                    users::password_hash.is_not_null(),
                    passkeys::table
                        .filter(passkeys::user_id.eq(&id))
                        .count()
                        .single_value(),
                    oauth_links::table
                        .filter(oauth_links::user_id.eq(&id))
                        .count()
                        .single_value(),
                ))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        let Some((password, passkeys, providers)) = row else {
            return Ok(LoginMethods::default());
        };
        let n = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
        Ok(LoginMethods {
            password,
            passkeys: n(passkeys),
            providers: n(providers),
        })
    }
}
