//! Connection pools for both backends, migrations, and the macro that runs one query body on either.

use std::fmt;
use std::time::Duration;

use authd_kernel::StoreError;
use diesel::{Connection as _, SqliteConnection};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;
type PgPool = bb8::Pool<AsyncDieselConnectionManager<AsyncPgConnection>>;
type SqlitePool = bb8::Pool<AsyncDieselConnectionManager<SqliteConn>>;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
/// An arbitrary key for PostgreSQL's advisory lock around migrations ("authd" in ASCII).
const MIGRATION_LOCK: i64 = 0x0061_7574_6864;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Runs `$body` with `$conn` bound to a pooled connection of whichever backend `$store` uses. The body is
/// compiled once per backend, so it must type-check against both.
macro_rules! with_conn {
    ($store:expr, |$conn:ident| $body:expr) => {
        match &$store.db {
            $crate::pool::Db::Postgres(pool) => {
                let mut guard = pool.get().await.map_err($crate::pool::pool_error)?;
                let $conn = &mut *guard;
                $body
            }
            $crate::pool::Db::Sqlite(pool) => {
                let mut guard = pool.get().await.map_err($crate::pool::pool_error)?;
                let $conn = &mut *guard;
                $body
            }
        }
    };
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL (`postgres://` or `postgresql://`).
    Postgres,
    /// SQLite (`sqlite://PATH`).
    Sqlite,
}

/// A parsed database URL.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    /// What the driver is given: the whole URL for PostgreSQL, the file path for SQLite.
    target: String,
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A PostgreSQL URL may carry a password.
        f.debug_struct("DatabaseUrl")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://...` or `postgresql://...`.
    ///
    /// # Errors
    /// A message saying which forms are accepted.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                target: raw.to_owned(),
            });
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"));
        match path {
            Some(path) if !path.is_empty() && path != ":memory:" => Ok(Self {
                backend: Backend::Sqlite,
                target: path.to_owned(),
            }),
            Some(_) => Err("an SQLite URL needs a file path, e.g. sqlite://authd.db".into()),
            None => Err("expected sqlite://PATH or postgres://USER@HOST:PORT/DB".into()),
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// Pool sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Clone)]
pub(crate) enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// The storage adapter: implements every repository port. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    url: DatabaseUrl,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

pub(crate) fn pool_error<E: std::error::Error + Send + Sync + 'static>(
    err: bb8::RunError<E>,
) -> StoreError {
    match err {
        bb8::RunError::User(err) => StoreError::new(err),
        bb8::RunError::TimedOut => {
            StoreError::message("timed out waiting for a database connection")
        }
    }
}

impl Store {
    /// Opens a pool. Connections are made lazily; call [`Store::ping`] to check the database answers.
    pub fn open(url: &DatabaseUrl, options: PoolOptions) -> Self {
        let db = match url.backend {
            Backend::Postgres => {
                let manager =
                    AsyncDieselConnectionManager::<AsyncPgConnection>::new(url.target.clone());
                Db::Postgres(pool_builder(options).build_unchecked(manager))
            }
            Backend::Sqlite => {
                let mut config = ManagerConfig::<SqliteConn>::default();
                config.custom_setup = Box::new(|path| Box::pin(open_sqlite(path.to_owned())));
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                    url.target.clone(),
                    config,
                );
                Db::Sqlite(pool_builder(options).build_unchecked(manager))
            }
        };
        Self {
            db,
            url: url.clone(),
        }
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.url.backend
    }

    /// Checks that the database answers a trivial query.
    ///
    /// # Errors
    /// The database is unreachable.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_conn!(self, |conn| conn
            .batch_execute("SELECT 1")
            .await
            .map_err(crate::convert::db_error))
    }

    /// Applies every pending migration and returns how many ran. Runs on a thread of its own, because
    /// diesel's migration harness is synchronous.
    ///
    /// # Errors
    /// The database is unreachable or a migration failed.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let url = self.url.clone();
        on_own_thread(move || run_migrations(&url, MigrationStep::ApplyPending)).await
    }

    /// Reverts every migration (used by the up-down-up test of the migrations). Test-only (feature
    /// `testing`): nothing in production should be able to drop every table.
    ///
    /// # Errors
    /// The database is unreachable or a down migration failed.
    #[cfg(feature = "testing")]
    pub async fn revert_all_migrations(&self) -> Result<usize, StoreError> {
        let url = self.url.clone();
        on_own_thread(move || run_migrations(&url, MigrationStep::RevertAll)).await
    }
}

fn pool_builder<M: bb8::ManageConnection>(options: PoolOptions) -> bb8::Builder<M> {
    bb8::Pool::builder()
        .max_size(options.max_connections)
        .connection_timeout(options.acquire_timeout)
}

/// WAL lets readers proceed during a write; the busy timeout makes concurrent writers wait for each other
/// instead of failing; SQLite only enforces foreign keys when asked.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

async fn open_sqlite(path: String) -> diesel::ConnectionResult<SqliteConn> {
    let mut conn = SqliteConn::establish(&path).await?;
    conn.batch_execute(SQLITE_PRAGMAS)
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

#[derive(Debug, Clone, Copy)]
enum MigrationStep {
    ApplyPending,
    #[cfg(feature = "testing")]
    RevertAll,
}

fn run_migrations(url: &DatabaseUrl, step: MigrationStep) -> Result<usize, StoreError> {
    match url.backend {
        Backend::Postgres => {
            // diesel's harness is synchronous; this wrapper drives the async connection on its own runtime.
            let mut conn =
                <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(
                    &url.target,
                )
                .map_err(StoreError::new)?;
            // Instances starting together would race on the catalog; the advisory lock makes them take
            // turns (the lock ends with this connection at the latest).
            diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                &format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"),
            )
            .map_err(StoreError::new)?;
            let applied = apply(&mut conn, PG_MIGRATIONS, step);
            let _ = diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                &format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"),
            );
            applied
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::establish(&url.target).map_err(StoreError::new)?;
            apply(&mut conn, SQLITE_MIGRATIONS, step)
        }
    }
}

fn apply<DB: diesel::backend::Backend>(
    harness: &mut impl MigrationHarness<DB>,
    migrations: EmbeddedMigrations,
    step: MigrationStep,
) -> Result<usize, StoreError>
where
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    let done = match step {
        MigrationStep::ApplyPending => harness.run_pending_migrations(migrations).map(|v| v.len()),
        #[cfg(feature = "testing")]
        MigrationStep::RevertAll => harness.revert_all_migrations(migrations).map(|v| v.len()),
    };
    done.map_err(StoreError)
}

/// Runs blocking work on a plain thread, outside any async runtime, and awaits its result.
async fn on_own_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    rx.await
        .map_err(|_| StoreError::message("the migration thread died"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://authd.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/authd.db")
                .unwrap()
                .target,
            "/var/lib/authd.db"
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn debug_output_hides_the_url() {
        let url = DatabaseUrl::parse("postgres://u:hunter2@h/db").unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
    }
}
