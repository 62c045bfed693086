//! `POST /api/login`, `POST /api/logout`, `GET /api/me`.
//!
//! A login takes its account's turn, checks the failure limits (429 before any hashing), then
//! verifies the password on the bounded hasher (503 when it is full); see `limits`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::limits::{self, ClientAddress, Keys};
use super::{CurrentUser, Role, SESSION_COOKIE, new_token, token_hash, users};
use crate::app::AppState;
use crate::error::AppError;
use crate::extract::ApiJson;
use crate::store::{Timestamp, on_pool};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
struct Login {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
struct LoggedIn {
    token: String,
    role: Role,
    username: String,
    shelter_id: Option<i64>,
}

/// Logs in.
///
/// Answers a session token and sets it as an HttpOnly, SameSite=Strict cookie. Failed attempts
/// are limited per account and per client address (429 with `Retry-After`).
#[utoipa::path(
    post,
    path = "/api/login",
    tag = "auth",
    security(()),
    request_body = Login,
    responses(
        (status = 200, description = "Logged in; the `Set-Cookie` header carries the same token.", body = LoggedIn),
        (status = 401, description = "Wrong user name or password.", body = crate::openapi::ErrorBody),
        (status = 429, description = "Too many failed logins for this account or address.", body = crate::openapi::ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, AppError> {
    let keys = Keys::new(&body.username, client);
    let limits = &state.settings.login_limits;
    let turn = state.login_turns.take(&keys).await;
    limits::check(&state.store, &keys, limits).await?;
    let row = users::find_for_login(&state.store, &body.username).await?;
    // Verified against a decoy when the user does not exist, so both answers take as long.
    let stored = row.as_ref().map(|r| r.password_hash.clone());
    let matches = state.hasher.verify(body.password, stored).await?;
    let Some(row) = row.filter(|_| matches) else {
        limits::record_failure(&state.store, &keys, limits).await?;
        tracing::info!("login refused");
        return Err(AppError::Unauthorized);
    };
    limits::forgive_account(&state.store, &keys).await?;
    drop(turn);
    let role = Role::parse(&row.role).ok_or_else(|| anyhow::anyhow!("unknown role in database"))?;
    let token = new_token();
    let now = Timestamp::now();
    let ttl = state.settings.session_ttl.as_secs() as i64;
    on_pool!(&state.store, pool => {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(row.id)
            .bind(now)
            .bind(now.plus_seconds(ttl))
            .execute(pool)
            .await?;
        // Expired sessions are swept here rather than by a timer: logins are rare and this
        // keeps the table small without another moving part.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(pool).await?;
    });
    let cookie = session_cookie(&token, ttl, state.settings.secure_cookie);
    let body = LoggedIn {
        token,
        role,
        username: body.username,
        shelter_id: row.shelter_id,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

fn session_cookie(token: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("token is URL-safe base64")
}

/// Ends the session of the token or cookie sent, if any, and clears the cookie.
#[utoipa::path(
    post,
    path = "/api/logout",
    tag = "auth",
    security(()),
    responses((status = 204, description = "Logged out (also when there was no session)."))
)]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = super::request_token(&headers) {
        on_pool!(&state.store, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(&token)).execute(pool).await?;
        });
    }
    let clear = session_cookie("", 0, state.settings.secure_cookie);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// The user of this session.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "auth",
    responses((status = 200, description = "The session's user.", body = CurrentUser))
)]
async fn me(user: CurrentUser) -> Json<CurrentUser> {
    Json(user)
}
