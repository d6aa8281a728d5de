//! Fresh databases for tests (feature `testing`): a new SQLite file per call, and a PostgreSQL database per
//! test process (or per call, for tests that need one to themselves).
//!
//! PostgreSQL is found through `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! Without a server the PostgreSQL tests print one loud line and skip, unless `CI` is set or
//! `AUTHD_REQUIRE_POSTGRES=1`, in which case they fail: CI never passes without them.

#![expect(
    clippy::panic,
    clippy::expect_used,
    reason = "test support fails loudly"
)]

use std::sync::OnceLock;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use tempfile::TempDir;

use crate::{Backend, DatabaseUrl, PoolOptions, Store};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database for one test or test process; an SQLite file lives as long as this value.
#[derive(Debug)]
pub struct TestDatabase {
    /// Where it is.
    pub url: DatabaseUrl,
    /// The raw URL, for handing to the app's configuration.
    pub raw_url: String,
    /// Whether migrations already ran (the shared PostgreSQL database is migrated once, up front, because
    /// concurrent migration runs race on PostgreSQL's catalog).
    migrated: bool,
    _dir: Option<TempDir>,
}

impl TestDatabase {
    /// A migrated store on this database.
    pub async fn store(&self) -> Store {
        let store = Store::open(&self.url, PoolOptions::default());
        if !self.migrated {
            store.migrate().await.expect("migrations apply");
        }
        store
    }
}

/// A new, empty SQLite database file in its own temporary directory.
pub fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("temporary directory");
    let raw_url = format!("sqlite://{}", dir.path().join("authd-test.db").display());
    TestDatabase {
        url: DatabaseUrl::parse(&raw_url).expect("valid URL"),
        raw_url,
        migrated: false,
        _dir: Some(dir),
    }
}

/// The PostgreSQL database shared by this test process (created on first use), or `None` when there is no
/// server and PostgreSQL is not required.
pub fn postgres() -> Option<TestDatabase> {
    static SHARED: OnceLock<Option<String>> = OnceLock::new();
    let raw_url = SHARED
        .get_or_init(|| create_postgres_database(true))
        .clone()?;
    Some(TestDatabase {
        url: DatabaseUrl::parse(&raw_url).expect("valid URL"),
        raw_url,
        migrated: true,
        _dir: None,
    })
}

/// A PostgreSQL database of its own (for tests that revert migrations), or `None` as for [`postgres`].
pub fn postgres_private() -> Option<TestDatabase> {
    let raw_url = create_postgres_database(false)?;
    Some(TestDatabase {
        url: DatabaseUrl::parse(&raw_url).expect("valid URL"),
        raw_url,
        migrated: false,
        _dir: None,
    })
}

fn postgres_required() -> bool {
    std::env::var_os("CI").is_some()
        || std::env::var("AUTHD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Creates `authd_test_<pid>_<n>` (migrated when `shared`) on its own thread and runtime, so it works from any test, sync or async.
fn create_postgres_database(shared: bool) -> Option<String> {
    let admin = admin_url();
    let result = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime
            .block_on(create_on(&admin, shared))
            .map_err(|e| (admin, e))
    })
    .join()
    .expect("database creation thread");
    match result {
        Ok(url) => Some(url),
        Err((admin, err)) if postgres_required() => {
            panic!(
                "PostgreSQL is required (CI or AUTHD_REQUIRE_POSTGRES=1) but {admin} failed: {err}"
            )
        }
        Err((admin, err)) => {
            eprintln!(
                "!!!!! SKIPPING POSTGRESQL TESTS: no PostgreSQL at {admin} ({err}); set TEST_DATABASE_URL to run them !!!!!"
            );
            None
        }
    }
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

impl TestDatabase {
    /// Drops this PostgreSQL database (one from [`postgres_private`], once nothing is connected to it), for
    /// tests that leave nothing behind rather than wait for the next run to drop it as stale.
    ///
    /// # Errors
    /// The server's refusal, as text.
    pub async fn drop_postgres(self) -> Result<(), String> {
        if self.url.backend() != Backend::Postgres {
            return Err("not a PostgreSQL database".into());
        }
        let base = self.raw_url.split('?').next().unwrap_or_default();
        let (_, name) = base
            .rsplit_once('/')
            .ok_or_else(|| format!("{} names no database", self.raw_url))?;
        let mut admin = AsyncPgConnection::establish(&admin_url())
            .await
            .map_err(|e| e.to_string())?;
        admin
            .batch_execute(&format!("DROP DATABASE {name}"))
            .await
            .map_err(|e| e.to_string())
    }
}

async fn create_on(admin_url: &str, shared: bool) -> Result<String, String> {
    let connect = AsyncPgConnection::establish(admin_url);
    let mut admin = tokio::time::timeout(std::time::Duration::from_secs(5), connect)
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    if shared {
        drop_stale_databases(&mut admin).await;
    }
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("authd_test_{}_{n}_{}", std::process::id(), &nonce[..8]);
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(|e| e.to_string())?;
    let url = replace_database(admin_url, &name);
    if shared {
        let parsed = DatabaseUrl::parse(&url).map_err(|e| e.to_string())?;
        Store::open(&parsed, PoolOptions::default())
            .migrate()
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(url)
}

/// Earlier runs' databases, which nobody is connected to any more; one still in use refuses to drop.
async fn drop_stale_databases(admin: &mut AsyncPgConnection) {
    use diesel::QueryableByName;
    use diesel_async::RunQueryDsl as _;

    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let stale: Vec<Name> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'authd\\_test\\_%'")
            .load(admin)
            .await
            .unwrap_or_default();
    for Name { datname } in stale {
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {datname}"))
            .await;
    }
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(q) => format!("{server}/{database}?{q}"),
        None => format!("{server}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            super::replace_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
