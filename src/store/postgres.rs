//! PostgreSQL: for deployments that outgrow one machine, with several server instances on
//! one database. Migrations take PostgreSQL's advisory lock (sqlx does this), so instances
//! starting together apply them once.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};

#[derive(Debug)]
pub struct PostgresStore {
    pub pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> anyhow::Result<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // While the database is down a request waits this long for a connection, then
            // answers 503 with Retry-After: long enough to ride out a fast restart, short
            // enough that a tired user is told something.
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await
            .context("cannot connect to PostgreSQL")?;
        Ok(PostgresStore { pool })
    }
}
