//! Idempotency keys: a write a client may resend without it being applied twice.
//!
//! A centre runs on bad networks: a coordinator's tablet sends "dispatch team 3", the answer
//! is lost, and the page (or a script) sends it again. A write request (`POST`, `PUT`,
//! `PATCH`, `DELETE` under `/api/`) may carry `Idempotency-Key: <1-200 characters>`, chosen by
//! the client, fresh for each write and the same on each resend of it. [`layer`] reads it and
//! puts it in a task-local; [`write_tx!`](crate::write_tx) inserts the key's row **in the same
//! transaction as the write** (on SQLite inside the write's savepoint), so after a crash, even a
//! `kill -9`, the write and its key are both there or both gone. After the handler, the
//! answer (status and JSON body) is stored on the key's row.
//!
//! A key belongs to the logged-in user and to one request (method, path, query and body,
//! hashed): the same key with a different request is refused, 422 `idempotency_key_reused`.
//! A resend of a key:
//! - whose write committed and whose answer was stored: that answer again, status and body,
//!   with `Idempotent-Replayed: true`;
//! - whose write committed but whose answer was not stored (the process died between the
//!   COMMIT and storing it, or the client went away and the write finished alone): 200
//!   `{"code": "already_applied", ...}` with `Idempotent-Replayed: true`. The write is there;
//!   the client reloads what it shows instead of resending;
//! - while the first request with it is still running: 409 `in_progress` (try again shortly);
//! - whose first request failed (a 4xx, a 5xx, a crash before COMMIT): nothing was kept, not
//!   even the key, so the resend runs as new.
//!
//! Keys expire after [`KEY_LIFETIME`]: an older row is ignored, then purged. Requests without
//! a session (logging in) and the session routes ignore the key; so do reads. Only one
//! transaction of a request carries the key: the first that commits (handlers write once).

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::AppError;
use crate::store::{Timestamp, on_pool, write_tx};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on an answer that comes from a key already applied, not from running the write again.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key is remembered: longer than any client retries.
pub const KEY_LIFETIME_SECONDS: i64 = 24 * 3600;
/// [`KEY_LIFETIME_SECONDS`] for the docs' sake.
pub const KEY_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(KEY_LIFETIME_SECONDS as u64);
/// The largest body a keyed request may have: the register import's limit, the largest route
/// limit. The body is hashed before the handler runs, so it is read here.
const MAX_KEYED_BODY: usize = 256 * 1024 * 1024;
/// Answers larger than this are not stored: a resend then gets `already_applied`.
const MAX_STORED_ANSWER: usize = 256 * 1024;

tokio::task_local! {
    /// The key of the request this task serves, for `write_tx!` to record.
    static KEY: Arc<Pending>;
}

/// Keys whose first request is running in this process, by database (the store's address:
/// tests run several servers in one process), user and key. A second request with one gets
/// 409 at once; across instances (PostgreSQL) the primary key makes the second wait and fail.
static IN_FLIGHT: LazyLock<Mutex<HashSet<InFlightKey>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

type InFlightKey = (usize, i64, String);

fn store_identity(store: &crate::store::Store) -> usize {
    match store {
        crate::store::Store::Sqlite(s) => Arc::as_ptr(s) as usize,
        crate::store::Store::Postgres(s) => Arc::as_ptr(s) as usize,
    }
}

/// A request's key, waiting to be recorded by its write.
#[derive(Debug)]
pub struct Pending {
    user_id: i64,
    key: String,
    method: String,
    route: String,
    request_hash: String,
    /// A transaction holding the key's row committed.
    recorded: AtomicBool,
    /// The key's row was there already: another request with the key applied it.
    taken: AtomicBool,
}

/// The key a write in this task should record, if there is one still to record.
pub fn pending() -> Option<Arc<Pending>> {
    KEY.try_with(Arc::clone)
        .ok()
        .filter(|p| !p.recorded.load(Ordering::SeqCst))
}

/// The current task's key, to carry into a task a write is moved to (see [`scoped`]).
pub fn current() -> Option<Arc<Pending>> {
    KEY.try_with(Arc::clone).ok()
}

/// Runs `fut` with `key` as its task's key: how `AppState::commit`, which runs each write in
/// a task of its own, keeps the request's key.
pub async fn scoped<F: Future>(key: Option<Arc<Pending>>, fut: F) -> F::Output {
    match key {
        Some(key) => KEY.scope(key, fut).await,
        None => fut.await,
    }
}

/// Inserts the key's row on `$conn`, inside the write's transaction. Written once for both
/// engines: the SQL is the same.
macro_rules! record_on {
    ($pending:expr, $conn:expr) => {{
        let p = $pending;
        let now = Timestamp::now();
        // An expired row of the same key is forgotten, so the key can start again.
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE user_id = $1 AND client_key = $2 AND created_at < $3",
        )
        .bind(p.user_id)
        .bind(&p.key)
        .bind(now.plus_seconds(-KEY_LIFETIME_SECONDS))
        .execute(&mut *$conn)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, client_key, method, route, request_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, client_key) DO NOTHING",
        )
        .bind(p.user_id)
        .bind(&p.key)
        .bind(&p.method)
        .bind(&p.route)
        .bind(&p.request_hash)
        .bind(now)
        .execute(&mut *$conn)
        .await?
        .rows_affected();
        if inserted == 0 {
            // Another request with this key committed first: this write must not happen.
            p.taken.store(true, Ordering::SeqCst);
            return Err(AppError::conflict(
                "already_applied",
                "this Idempotency-Key was applied already",
            ));
        }
        Ok(())
    }};
}

impl Pending {
    /// Records the key inside a SQLite write (its savepoint): see `write_tx!`.
    pub async fn record_sqlite(&self, conn: &mut sqlx::SqliteConnection) -> Result<(), AppError> {
        record_on!(self, conn)
    }

    /// Records the key inside a PostgreSQL write transaction: see `write_tx!`.
    pub async fn record_postgres(&self, conn: &mut sqlx::PgConnection) -> Result<(), AppError> {
        record_on!(self, conn)
    }

    /// The transaction that recorded the key committed: later writes of the request leave it.
    pub fn committed(&self) {
        self.recorded.store(true, Ordering::SeqCst);
    }
}

/// Removes a key from [`IN_FLIGHT`] however the request ends (even if it is dropped).
struct InFlight(InFlightKey);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut set) = IN_FLIGHT.lock() {
            set.remove(&self.0);
        }
    }
}

/// A key's row as a resend finds it.
#[derive(sqlx::FromRow)]
struct Applied {
    request_hash: String,
    status: Option<i32>,
    response: Option<Vec<u8>>,
}

/// The middleware: see the module's doc.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let path = request.uri().path();
    let session_route = path == "/api/login" || path == "/api/logout";
    if !writes || !path.starts_with("/api/") || session_route {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match value.to_str() {
        Ok(k) if (1..=200).contains(&k.chars().count()) => k.to_string(),
        _ => {
            return AppError::invalid(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 200 visible ASCII characters",
            )
            .into_response();
        }
    };
    // The key belongs to a user: without a session the handler answers (401, or a login).
    let Some(token) = crate::auth::request_token(request.headers()) else {
        return next.run(request).await;
    };
    let user_id = match crate::auth::session_user(&state, &token).await {
        Ok(Some(user)) => user.id,
        Ok(None) => return next.run(request).await,
        Err(err) => return err.into_response(),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = request.method().to_string();
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_KEYED_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(json!({ "error": "the request body is too large", "field": "body" })),
            )
                .into_response();
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update([0]);
    hasher.update(
        parts
            .uri
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
    );
    hasher.update([0]);
    hasher.update(&body);
    let request_hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    match lookup(&state, user_id, &key).await {
        Ok(Some(applied)) => return answer_applied(applied, &request_hash),
        Ok(None) => {}
        Err(err) => return err.into_response(),
    }
    let _in_flight = {
        let Ok(mut set) = IN_FLIGHT.lock() else {
            return AppError::Internal(anyhow::anyhow!("idempotency set poisoned")).into_response();
        };
        let id = (store_identity(&state.store), user_id, key.clone());
        if !set.insert(id.clone()) {
            return in_progress();
        }
        InFlight(id)
    };
    let pending = Arc::new(Pending {
        user_id,
        key: key.clone(),
        method,
        route,
        request_hash: request_hash.clone(),
        recorded: AtomicBool::new(false),
        taken: AtomicBool::new(false),
    });
    let request = Request::from_parts(parts, Body::from(body));
    let response = KEY.scope(pending.clone(), next.run(request)).await;

    if pending.taken.load(Ordering::SeqCst) {
        // Another request (another instance) applied the key while this one ran.
        return match lookup(&state, user_id, &key).await {
            Ok(Some(applied)) => answer_applied(applied, &request_hash),
            Ok(None) => in_progress(),
            Err(err) => err.into_response(),
        };
    }
    if !pending.recorded.load(Ordering::SeqCst) {
        // No write committed (a refusal, a read): nothing to remember, the key stays free.
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return (parts, Body::empty()).into_response();
    };
    let stored = (bytes.len() <= MAX_STORED_ANSWER).then(|| bytes.to_vec());
    if let Err(err) = store_answer(&state, user_id, &key, parts.status, stored).await {
        // The write stands; a resend will be told it was applied.
        tracing::warn!(error = %err, "could not store an idempotent answer");
    }
    (parts, Body::from(bytes)).into_response()
}

async fn lookup(state: &AppState, user_id: i64, key: &str) -> Result<Option<Applied>, AppError> {
    let applied = on_pool!(&state.store, pool => {
        sqlx::query_as::<_, Applied>(
            "SELECT request_hash, status, response FROM idempotency_keys \
             WHERE user_id = $1 AND client_key = $2 AND created_at >= $3",
        )
        .bind(user_id)
        .bind(key)
        .bind(Timestamp::now().plus_seconds(-KEY_LIFETIME_SECONDS))
        .fetch_optional(pool)
        .await?
    });
    Ok(applied)
}

/// Stores the answer on the key's row, and purges expired keys while writing anyway.
async fn store_answer(
    state: &AppState,
    user_id: i64,
    key: &str,
    status: StatusCode,
    body: Option<Vec<u8>>,
) -> Result<(), AppError> {
    let status = i32::from(status.as_u16());
    let cutoff = Timestamp::now().plus_seconds(-KEY_LIFETIME_SECONDS);
    write_tx!(&state.store, tx => {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response = $2 \
             WHERE user_id = $3 AND client_key = $4",
        )
        .bind(status)
        .bind(&body)
        .bind(user_id)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

fn answer_applied(applied: Applied, request_hash: &str) -> Response {
    if applied.request_hash != request_hash {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({
                "error": "this Idempotency-Key was used for a different request",
                "code": "idempotency_key_reused",
                "field": "Idempotency-Key",
            })),
        )
            .into_response();
    }
    let mut response = match (applied.status, applied.response) {
        (Some(status), Some(body)) => {
            let status = u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK);
            let typed = !body.is_empty();
            let mut response = (status, body).into_response();
            if typed {
                // Every API answer with a body is JSON.
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            response
        }
        _ => (
            StatusCode::OK,
            axum::Json(json!({
                "code": "already_applied",
                "detail": "this write was applied before; its answer was not kept. Reload to see it.",
            })),
        )
            .into_response(),
    };
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn in_progress() -> Response {
    AppError::conflict(
        "in_progress",
        "a request with this Idempotency-Key is still running; try again shortly",
    )
    .into_response()
}
