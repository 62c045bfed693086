//! The audit log: who read, exported or changed what in the register. Append-only and
//! hash-chained: each row's hash covers the row and the hash before it, so a row removed or
//! altered afterwards breaks the chain (`verify` finds where).
//!
//! Appending locks the chain's head row for the length of the caller's transaction, which
//! orders concurrent appenders, on several server instances too. The audit row is written in
//! the same transaction as what it records: a read that could not be audited is not served.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::store::{Store, Timestamp, on_pool};

/// One audited action, as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash that chains a row to the one before it.
pub fn chain_hash(
    prev_hash: &str,
    at: Timestamp,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut hasher = Sha256::new();
    for part in [prev_hash, &at.0.to_string(), actor, action, subject, detail] {
        // Length-prefixed, so no two different rows hash the same by shifting a separator.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Appends one audit row inside the open transaction `$tx`.
/// `$detail` is serialised to JSON; it must not carry personal data beyond the subject.
#[macro_export]
macro_rules! audit_append {
    ($tx:expr, $actor:expr, $action:expr, $subject:expr, $detail:expr) => {{
        let at = $crate::store::Timestamp::now();
        let detail = serde_json::to_string(&$detail).map_err(anyhow::Error::from)?;
        // Locks the head (PostgreSQL: row lock; SQLite: the write lock is already held).
        let prev: String = sqlx::query_scalar("UPDATE audit_head SET last_hash = last_hash WHERE one = 1 RETURNING last_hash")
            .fetch_one(&mut *$tx)
            .await?;
        let actor: &str = $actor;
        let action: &str = $action;
        let subject: &str = $subject;
        let hash = $crate::audit::chain_hash(&prev, at, actor, action, subject, &detail);
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(&detail)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE one = 1").bind(&hash).execute(&mut *$tx).await?;
    }};
}

pub use crate::audit_append as append;

/// Audits one action in a transaction of its own (a read that changes nothing else).
pub async fn record(
    store: &Store,
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> Result<()> {
    crate::store::write_tx!(store, tx => {
        append!(tx, actor, action, subject, detail);
    });
    Ok(())
}

/// The newest entries first, for the admin's audit screen.
pub async fn latest(store: &Store, limit: i64) -> Result<Vec<AuditEntry>> {
    let rows = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// Walks the whole chain; answers the id of the first row that does not follow on, if any.
pub async fn verify(store: &Store) -> Result<Option<i64>> {
    let rows: Vec<AuditEntry> = on_pool!(store, pool => {
        sqlx::query_as("SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY id")
            .fetch_all(pool)
            .await?
    });
    let mut prev = "genesis".to_string();
    for row in rows {
        let expected = chain_hash(
            &prev,
            row.at,
            &row.actor,
            &row.action,
            &row.subject,
            &row.detail,
        );
        if row.prev_hash != prev || row.hash != expected {
            return Ok(Some(row.id));
        }
        prev = row.hash;
    }
    Ok(None)
}

/// `GET /api/audit?limit=N` (admin): the newest entries and whether the chain is intact.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::app::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(show))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// At most this many entries, newest first (1 to 10,000; default 200).
    limit: Option<i64>,
}

/// The audit log's newest entries and whether its hash chain is intact.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct AuditPage {
    entries: Vec<AuditEntry>,
    /// Every entry follows on from the one before (`saigai-vc audit verify` checks the same).
    chain_intact: bool,
    /// The first entry that does not follow on, when the chain is broken.
    broken_at: Option<i64>,
}

/// The audit log's newest entries, and whether its chain is intact.
///
/// Who read, exported or printed personal data, changed consent or declared a disclosure,
/// hash-chained so that an altered or removed entry shows. Admins only.
#[utoipa::path(
    get,
    path = "/api/audit",
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, description = "The newest entries, newest first.", body = AuditPage))
)]
async fn show(
    axum::extract::State(state): axum::extract::State<crate::app::AppState>,
    user: crate::auth::CurrentUser,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<AuditQuery>,
) -> Result<axum::Json<AuditPage>> {
    user.require(&[crate::auth::Role::Admin])?;
    let entries = latest(&state.store, query.limit.unwrap_or(200).clamp(1, 10_000)).await?;
    let broken_at = verify(&state.store).await?;
    Ok(axum::Json(AuditPage {
        entries,
        chain_intact: broken_at.is_none(),
        broken_at,
    }))
}
