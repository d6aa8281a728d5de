//! The two migration trees cannot drift: a fresh SQLite database and a fresh PostgreSQL database are migrated,
//! their catalogues read, and their tables, columns (type and nullability), primary keys and indexes (name,
//! columns, uniqueness, partial or not) compared with each other and with what `src/schema.rs` declares.
//!
//! Each schema is read as a set of facts ("column users.email Text NOT NULL"), so a drift reads as the facts
//! only one side has.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::collections::BTreeSet;
use std::fmt;

use authd_store::testing;
use diesel::sql_types::{Bool, Integer, Text};
use diesel::{Connection as _, QueryableByName, SqliteConnection};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};

/// One thing a schema says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Fact {
    Column {
        table: String,
        column: String,
        diesel_type: String,
        nullable: bool,
    },
    PrimaryKey {
        table: String,
        columns: Vec<String>,
    },
    Index {
        table: String,
        /// `None` for the index behind a `UNIQUE` constraint, whose name each database makes up itself.
        name: Option<String>,
        columns: Vec<String>,
        unique: bool,
        partial: bool,
    },
}

impl Fact {
    /// `schema.rs` says nothing about indexes, so they are left out of comparisons with it.
    fn is_index(&self) -> bool {
        matches!(self, Self::Index { .. })
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Column {
                table,
                column,
                diesel_type,
                nullable,
            } => {
                let null = if *nullable { "NULL" } else { "NOT NULL" };
                write!(f, "column {table}.{column} {diesel_type} {null}")
            }
            Self::PrimaryKey { table, columns } => {
                write!(f, "primary key of {table} ({})", columns.join(", "))
            }
            Self::Index {
                table,
                name,
                columns,
                unique,
                partial,
            } => {
                let kind = match (unique, partial) {
                    (true, true) => "partial unique index",
                    (true, false) => "unique index",
                    (false, true) => "partial index",
                    (false, false) => "index",
                };
                let name = name.as_deref().unwrap_or("(of a UNIQUE constraint)");
                write!(f, "{kind} {name} on {table} ({})", columns.join(", "))
            }
        }
    }
}

type Schema = BTreeSet<Fact>;

/// Each database's name for a column type, as the diesel type `schema.rs` gives it: SQLite's declared type
/// and PostgreSQL's `information_schema` `data_type`, compared case-insensitively. Only the types the
/// migrations use are mapped; any other keeps its own name, so it shows as a difference instead of passing.
fn diesel_type(database_type: &str) -> String {
    let mapped = match database_type.to_ascii_lowercase().as_str() {
        "text" => "Text",
        "integer" => "Integer",
        "bigint" => "BigInt",
        "boolean" => "Bool",
        "blob" | "bytea" => "Binary",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        other => return format!("unmapped type {other}"),
    };
    mapped.to_owned()
}

/// The bookkeeping tables of diesel and SQLite, which no migration creates.
const NOT_OURS: &str = "'__diesel_schema_migrations', 'sqlite_sequence'";

// ---- schema.rs ----------------------------------------------------------------------------------------------

/// The tables `schema.rs` declares, read from its `diesel::table!` blocks as text. Any line in a block that is
/// not `column -> Type,` fails the parse rather than being skipped.
fn schema_rs() -> Schema {
    let text = include_str!("../src/schema.rs");
    let facts: Schema = text
        .split("diesel::table! {")
        .skip(1)
        .flat_map(table_block)
        .collect();
    assert!(!facts.is_empty(), "no table! block found in schema.rs");
    facts
}

fn table_block(block: &str) -> Vec<Fact> {
    let mut lines = block.lines().map(str::trim).filter(|l| !l.is_empty());
    let header = lines.next().expect("a table! block without a header");
    let (table, key) = header
        .trim_end_matches('{')
        .trim()
        .split_once('(')
        .unwrap_or_else(|| panic!("unexpected table! header in schema.rs: {header}"));
    let table = table.trim().to_owned();
    let columns = key
        .trim_end_matches(')')
        .split(',')
        .map(|c| c.trim().to_owned())
        .collect();
    let mut facts = vec![Fact::PrimaryKey {
        table: table.clone(),
        columns,
    }];
    for line in lines.take_while(|l| *l != "}") {
        facts.push(column_line(&table, line));
    }
    facts
}

fn column_line(table: &str, line: &str) -> Fact {
    let (column, sql_type) = line
        .trim_end_matches(',')
        .split_once("->")
        .unwrap_or_else(|| panic!("unexpected line in schema.rs table {table}: {line}"));
    let sql_type = sql_type.trim();
    let inner = sql_type
        .strip_prefix("Nullable<")
        .and_then(|t| t.strip_suffix('>'));
    Fact::Column {
        table: table.to_owned(),
        column: column.trim().to_owned(),
        diesel_type: inner.unwrap_or(sql_type).to_owned(),
        nullable: inner.is_some(),
    }
}

// ---- SQLite -------------------------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    /// The column's place in the primary key, from 1; 0 when it is not part of it.
    #[diesel(sql_type = Integer)]
    pk_position: i32,
}

#[derive(QueryableByName)]
struct SqliteIndexColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    /// `c` for CREATE INDEX, `u` for a UNIQUE constraint, `pk` for the primary key.
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
    #[diesel(sql_type = Integer)]
    is_partial: i32,
    #[diesel(sql_type = Text)]
    column_name: String,
}

async fn migrated_sqlite() -> Schema {
    let db = testing::sqlite();
    drop(db.store().await);
    let path = db.raw_url.trim_start_matches("sqlite://");
    let mut conn = SqliteConnection::establish(path).unwrap();
    sqlite_schema(&mut conn)
}

fn sqlite_schema(conn: &mut SqliteConnection) -> Schema {
    use diesel::RunQueryDsl as _;

    let tables = format!("m.type = 'table' AND m.name NOT IN ({NOT_OURS})");
    let columns: Vec<SqliteColumn> = diesel::sql_query(format!(
        "SELECT m.name AS table_name, c.name AS column_name, c.type AS column_type, \
         c.\"notnull\" AS not_null, c.pk AS pk_position \
         FROM sqlite_master m, pragma_table_info(m.name) c WHERE {tables} ORDER BY m.name, c.pk"
    ))
    .load(conn)
    .unwrap();
    let index_columns: Vec<SqliteIndexColumn> = diesel::sql_query(format!(
        "SELECT m.name AS table_name, l.name AS index_name, l.origin AS origin, l.\"unique\" AS is_unique, \
         l.partial AS is_partial, i.name AS column_name \
         FROM sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) i \
         WHERE {tables} ORDER BY m.name, l.name, i.seqno"
    ))
    .load(conn)
    .unwrap();
    let mut facts: Schema = columns.iter().map(sqlite_column).collect();
    facts.extend(primary_keys(
        columns
            .iter()
            .filter(|c| c.pk_position > 0)
            .map(|c| (&c.table_name, &c.column_name)),
    ));
    facts.extend(indexes(
        index_columns
            .into_iter()
            .filter(|i| i.origin != "pk")
            .map(|i| IndexColumn {
                table: i.table_name,
                name: (i.origin == "c").then_some(i.index_name.clone()),
                key: i.index_name,
                unique: i.is_unique != 0,
                partial: i.is_partial != 0,
                column: i.column_name,
            }),
    ));
    facts
}

fn sqlite_column(c: &SqliteColumn) -> Fact {
    Fact::Column {
        table: c.table_name.clone(),
        column: c.column_name.clone(),
        diesel_type: diesel_type(&c.column_type),
        // SQLite lets a primary-key column other than INTEGER hold NULL unless told otherwise (a legacy
        // quirk, reported as nullable); PostgreSQL and diesel treat every primary-key column as NOT NULL.
        nullable: c.not_null == 0 && c.pk_position == 0,
    }
}

// ---- PostgreSQL ---------------------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
}

#[derive(QueryableByName)]
struct PgIndexColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    /// Whether a PRIMARY KEY or UNIQUE constraint made the index (rather than CREATE INDEX).
    #[diesel(sql_type = Bool)]
    backs_constraint: bool,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Bool)]
    is_partial: bool,
    /// A column's name, or `(an expression)` for an index on an expression (which SQLite cannot match).
    #[diesel(sql_type = Text)]
    column_name: String,
}

async fn postgres_schema(conn: &mut AsyncPgConnection) -> Schema {
    use diesel_async::RunQueryDsl as _;

    let columns: Vec<PgColumn> = diesel::sql_query(format!(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
         data_type::text AS column_type, is_nullable = 'NO' AS not_null \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name::text NOT IN ({NOT_OURS})"
    ))
    .load(conn)
    .await
    .unwrap();
    let index_columns: Vec<PgIndexColumn> = diesel::sql_query(format!(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name, x.indisprimary AS is_primary, \
         EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid \
                 AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u')) AS backs_constraint, \
         x.indisunique AS is_unique, x.indpred IS NOT NULL AS is_partial, \
         COALESCE(a.attname::text, '(an expression)') AS column_name \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE n.nspname = 'public' AND t.relname::text NOT IN ({NOT_OURS}) \
         ORDER BY t.relname, i.relname, k.ord"
    ))
    .load(conn)
    .await
    .unwrap();
    let mut facts: Schema = columns
        .iter()
        .map(|c| Fact::Column {
            table: c.table_name.clone(),
            column: c.column_name.clone(),
            diesel_type: diesel_type(&c.column_type),
            nullable: !c.not_null,
        })
        .collect();
    let (primary, other): (Vec<_>, Vec<_>) = index_columns.into_iter().partition(|i| i.is_primary);
    facts.extend(primary_keys(
        primary.iter().map(|i| (&i.table_name, &i.column_name)),
    ));
    facts.extend(indexes(other.into_iter().map(|i| IndexColumn {
        column: i.column_name,
        name: (!i.backs_constraint).then_some(i.index_name.clone()),
        table: i.table_name,
        key: i.index_name,
        unique: i.is_unique,
        partial: i.is_partial,
    })));
    facts
}

// ---- Shared -------------------------------------------------------------------------------------------------

/// One column of one index, in the index's column order.
struct IndexColumn {
    table: String,
    /// What tells the indexes apart while grouping: the database's own name.
    key: String,
    name: Option<String>,
    unique: bool,
    partial: bool,
    column: String,
}

/// Groups index columns, given in order, into one fact per index.
fn indexes(columns: impl Iterator<Item = IndexColumn>) -> Vec<Fact> {
    let mut facts: Vec<(String, Fact)> = Vec::new();
    for c in columns {
        match facts.last_mut() {
            Some((key, Fact::Index { columns, .. })) if *key == c.key => columns.push(c.column),
            _ => facts.push((
                c.key,
                Fact::Index {
                    table: c.table,
                    name: c.name,
                    columns: vec![c.column],
                    unique: c.unique,
                    partial: c.partial,
                },
            )),
        }
    }
    facts.into_iter().map(|(_, fact)| fact).collect()
}

/// Groups primary-key columns, given table by table in key order, into one fact per table.
fn primary_keys<'a>(columns: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<Fact> {
    let mut facts: Vec<Fact> = Vec::new();
    for (table, column) in columns {
        match facts.last_mut() {
            Some(Fact::PrimaryKey { table: t, columns }) if t == table => {
                columns.push(column.clone());
            }
            _ => facts.push(Fact::PrimaryKey {
                table: table.clone(),
                columns: vec![column.clone()],
            }),
        }
    }
    facts
}

/// The facts only one side has, one per line, or nothing when both agree.
fn differences(left_name: &str, left: &Schema, right_name: &str, right: &Schema) -> Vec<String> {
    let only = |name: &str, this: &Schema, other: &Schema| {
        this.difference(other)
            .map(|fact| format!("only {name}: {fact}"))
            .collect::<Vec<_>>()
    };
    let mut lines = only(left_name, left, right);
    lines.extend(only(right_name, right, left));
    lines
}

fn assert_no_differences(lines: &[String]) {
    assert!(
        lines.is_empty(),
        "the schemas drifted apart:\n  {}",
        lines.join("\n  ")
    );
}

fn without_indexes(schema: &Schema) -> Schema {
    schema.iter().filter(|f| !f.is_index()).cloned().collect()
}

// ---- Tests --------------------------------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_migrations_build_what_schema_rs_declares() {
    let sqlite = migrated_sqlite().await;
    assert_no_differences(&differences(
        "in schema.rs",
        &schema_rs(),
        "in the SQLite migrations",
        &without_indexes(&sqlite),
    ));
}

#[tokio::test]
async fn postgresql_migrations_build_what_schema_rs_and_the_sqlite_migrations_do() {
    let Some(db) = testing::postgres_private() else {
        return;
    };
    drop(db.store().await);
    let mut conn = AsyncPgConnection::establish(&db.raw_url).await.unwrap();
    let postgres = postgres_schema(&mut conn).await;
    drop(conn);
    db.drop_postgres().await.unwrap();

    let pg = "in the PostgreSQL migrations";
    let mut lines = differences(
        "in schema.rs",
        &schema_rs(),
        pg,
        &without_indexes(&postgres),
    );
    lines.extend(differences(
        "in the SQLite migrations",
        &migrated_sqlite().await,
        pg,
        &postgres,
    ));
    assert_no_differences(&lines);
}

#[test]
fn schema_rs_is_read_column_by_column() {
    let schema = schema_rs();
    assert!(schema.contains(&Fact::Column {
        table: "users".into(),
        column: "password_hash".into(),
        diesel_type: "Text".into(),
        nullable: true,
    }));
    assert!(schema.contains(&Fact::PrimaryKey {
        table: "memberships".into(),
        columns: vec!["user_id".into(), "workspace_id".into()],
    }));
}

#[test]
fn a_fact_on_one_side_only_is_a_difference() {
    let index = Fact::Index {
        table: "users".into(),
        name: None,
        columns: vec!["email".into()],
        unique: true,
        partial: false,
    };
    let lines = differences("left", &Schema::from([index]), "right", &Schema::new());
    assert_eq!(
        lines,
        ["only left: unique index (of a UNIQUE constraint) on users (email)"]
    );
}
