//! The storage boundary: one `Store` over SQLite (the default, one embedded file) or
//! PostgreSQL (for deployments with several server instances on one database).
//!
//! Each engine has its own module for what really differs: connecting, pragmas and their
//! check at start-up, migrations, and how a write transaction begins. Queries whose SQL is the
//! same on both engines are written once and run through [`on_pool!`] and [`write_tx!`],
//! which expand the same code for each concrete pool type; nothing here is generic over
//! `sqlx::Database` (the sqlx maintainers advise against that, sqlx issues #964 and #483).
//! Queries whose SQL differs go in the engine modules.
//!
//! Every write runs in one transaction. A write that changes an activation's records also
//! appends its event in that transaction (see `events::append!`), so the change and its audit
//! row commit or vanish together.

mod pinning;
mod postgres;
mod sqlite;

use std::sync::Arc;

use serde::{Serialize, Serializer};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The database behind the server. Cheap to clone: both variants hold a pool handle.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

/// Which engine a store runs on, for messages and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The engine and URL of the database `--database` names: `sqlite://PATH` and
/// `postgres://...` as they are, and a plain file path (`data/saigai-vc.db`, what `serve` says
/// it created) as SQLite. Everything that opens a database by name decides the engine here.
pub fn locate(name: &str) -> anyhow::Result<(Engine, std::borrow::Cow<'_, str>)> {
    if name.starts_with("postgres://") || name.starts_with("postgresql://") {
        Ok((Engine::Postgres, name.into()))
    } else if name.starts_with("sqlite:") {
        Ok((Engine::Sqlite, name.into()))
    } else if !name.contains("://") {
        Ok((Engine::Sqlite, format!("sqlite://{name}").into()))
    } else {
        anyhow::bail!(
            "unsupported database URL: expected sqlite://PATH, a file's path or postgres://..., got a URL starting with {:?}",
            name.split(':').next().unwrap_or_default()
        )
    }
}

impl Store {
    /// Opens the database named by `name` (see [`locate`]), creating a SQLite file that is
    /// not there yet, checks its settings and runs the embedded migrations for its engine.
    pub async fn open(name: &str) -> anyhow::Result<Store> {
        let store = match locate(name)? {
            (Engine::Postgres, url) => {
                Store::Postgres(Arc::new(PostgresStore::connect(&url).await?))
            }
            (Engine::Sqlite, url) => Store::Sqlite(Arc::new(SqliteStore::connect(&url).await?)),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens a database that must already be there: for the commands that only make sense on
    /// the centre's data (a new password, the audit check), a mistyped SQLite path is an
    /// error, not a new empty database ("audit log intact" of an empty file would mislead).
    pub async fn open_existing(name: &str) -> anyhow::Result<Store> {
        if let (Engine::Sqlite, url) = locate(name)? {
            let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
                .map_err(|e| anyhow::anyhow!("invalid SQLite database URL: {e}"))?;
            let path = options.get_filename();
            anyhow::ensure!(
                path.is_file(),
                "no database at {}: check --database (the server creates its database on first start)",
                path.display()
            );
        }
        Store::open(name).await
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Store::Sqlite(s) => sqlx::migrate!("migrations/sqlite").run(&s.pool).await?,
            Store::Postgres(s) => sqlx::migrate!("migrations/postgres").run(&s.pool).await?,
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        match self {
            Store::Sqlite(_) => Engine::Sqlite,
            Store::Postgres(_) => Engine::Postgres,
        }
    }

    /// True when the database answers a trivial query: what `/healthz` reports.
    pub async fn is_reachable(&self) -> bool {
        let probe =
            on_pool!(self, pool => sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool).await);
        probe.is_ok()
    }

    /// Closes every connection; used at shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(s) => s.pool.close().await,
        }
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever engine `$store` holds.
/// The body is compiled once per engine, so it must be SQL both engines accept.
#[macro_export]
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(s) => {
                let $pool = &s.pool;
                $body
            }
            $crate::store::Store::Postgres(s) => {
                let $pool = &s.pool;
                $body
            }
        }
    };
}

/// Runs `$body` inside one write transaction bound to `$tx`, committing when the body
/// finishes and rolling back if it returns early with `?` or `return Err(..)` (the body runs
/// in an async block: `return` leaves the body, and its error is then returned).
///
/// SQLite: writers queue on an in-process gate (so they wait in tokio, not in SQLite's
/// sleeping busy handler), and writes that queue up share one transaction and one disk flush
/// (group commit; see `sqlite::Group`), each in a savepoint of its own. The macro returns only
/// after that COMMIT, so the write is on disk when it returns. The turn itself, from the
/// savepoint to its release, runs on the writer connection's core (see `pinning`); waiting
/// for the turn and for the COMMIT does not. PostgreSQL: an ordinary
/// transaction; row locks serialise what must be serialised.
///
/// A request's idempotency key, if it has one not yet recorded (see `crate::idempotency`), is
/// inserted first, inside the same transaction or savepoint: the write and its key are kept
/// or lost together.
#[macro_export]
macro_rules! write_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        $crate::__write_tx!($store, $tx => $body, $crate::store::keep_always)
    };
}

/// As [`write_tx!`], for a write that may decide, after writing, that nothing of it may stay
/// (an import that finds an invalid row on its way through the file). The body evaluates to
/// `Ok(value)`, committed, or `Err(refusal)`, rolled back; either is returned as the macro's
/// value, a `Result<T, U>`.
#[macro_export]
macro_rules! write_tx_or_discard {
    ($store:expr, $tx:ident => $body:expr) => {
        $crate::__write_tx!($store, $tx => $body, $crate::store::keep_if_ok)
    };
}

/// The one body of [`write_tx!`] and [`write_tx_or_discard!`]: `$keep` says, from the body's
/// value, whether the transaction is committed or rolled back. An error from the body itself
/// (`?`, `return Err`) always rolls back and is returned.
#[doc(hidden)]
#[macro_export]
macro_rules! __write_tx {
    ($store:expr, $tx:ident => $body:expr, $keep:path) => {
        match $store {
            $crate::store::Store::Sqlite(s) => {
                let key = $crate::idempotency::pending();
                let turn = s.wait_turn().await;
                let (result, kept, committing) = s
                    .on_writer_core(async {
                        let mut turn = turn.begin().await?;
                        let result = {
                            let $tx = turn.conn();
                            async {
                                if let Some(key) = &key {
                                    key.record_sqlite(&mut *$tx).await?;
                                }
                                Ok::<_, $crate::error::AppError>($body)
                            }
                            .await
                        };
                        let kept = matches!(&result, Ok(value) if $keep(value));
                        let committing = turn.release(kept).await;
                        Ok::<_, $crate::error::AppError>((result, kept, committing))
                    })
                    .await?;
                committing.committed().await?;
                if let (Some(key), true) = (&key, kept) {
                    key.committed();
                }
                result?
            }
            $crate::store::Store::Postgres(s) => {
                let key = $crate::idempotency::pending();
                let mut $tx = s.pool.begin().await?;
                let result = async {
                    if let Some(key) = &key {
                        key.record_postgres(&mut *$tx).await?;
                    }
                    Ok::<_, $crate::error::AppError>($body)
                }
                .await;
                let value = result?;
                if $keep(&value) {
                    $tx.commit().await?;
                    if let Some(key) = &key {
                        key.committed();
                    }
                } else {
                    $tx.rollback().await?;
                }
                value
            }
        }
    };
}

/// [`write_tx!`] keeps every write the body finishes.
#[doc(hidden)]
pub fn keep_always<T>(_: &T) -> bool {
    true
}

/// [`write_tx_or_discard!`] keeps a write whose body finished with `Ok`.
#[doc(hidden)]
pub fn keep_if_ok<T, E>(value: &Result<T, E>) -> bool {
    value.is_ok()
}

/// Runs `$body` inside one read-only transaction that sees a single consistent state of the
/// database: how a snapshot of the board matches exactly one event `seq`.
#[macro_export]
macro_rules! read_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(s) => {
                // In WAL mode a deferred transaction reads one snapshot from its first SELECT.
                let mut $tx = s.pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::store::Store::Postgres(s) => {
                let mut $tx = s
                    .pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

pub use crate::{on_pool, read_tx, write_tx, write_tx_or_discard};

/// A point in time, stored as microseconds since the Unix epoch (UTC) in both engines and
/// shown as RFC 3339 in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp(chrono::Utc::now().timestamp_micros())
    }

    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }

    pub fn to_rfc3339(self) -> String {
        match chrono::DateTime::from_timestamp_micros(self.0) {
            Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            None => String::new(),
        }
    }
}

/// In the API description: an RFC 3339 date-time string.
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}
