//! SQLite: the default engine, one embedded file under `./data/` that a newcomer needs
//! nothing installed for.
//!
//! Durability settings are set explicitly and read back at start-up, because sqlx no longer
//! sets the journal mode for us and a silently different setting would lose acknowledged
//! writes on power loss: WAL journal, `synchronous=FULL`, foreign keys on, a busy timeout.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, ensure};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[derive(Debug)]
pub struct SqliteStore {
    pub pool: SqlitePool,
    /// Serialises writers inside this process. SQLite allows one writer at a time anyway;
    /// queueing here is fair and costs no polling, where SQLite's busy handler sleeps and
    /// retries. Held only for the length of one write transaction.
    pub writer: tokio::sync::Mutex<()>,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> anyhow::Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| "invalid SQLite database URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .context("cannot open the SQLite database")?;
        let store = SqliteStore {
            pool,
            writer: tokio::sync::Mutex::new(()),
        };
        store.check_settings().await?;
        Ok(store)
    }

    /// Reads the durability pragmas back: a connection that did not get them must not serve.
    async fn check_settings(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.acquire().await?;
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?;
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await?;
        let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await?;
        ensure!(
            journal.eq_ignore_ascii_case("wal"),
            "SQLite journal_mode is {journal}, expected wal"
        );
        ensure!(
            synchronous == 2,
            "SQLite synchronous is {synchronous}, expected 2 (FULL)"
        );
        ensure!(foreign_keys == 1, "SQLite foreign_keys is off");
        ensure!(busy_timeout > 0, "SQLite busy_timeout is not set");
        Ok(())
    }
}
