//! `POST /api/login`, `POST /api/logout`, `GET /api/me`.
//!
//! A login takes its account's turn, checks the failure limits (429 before any hashing), then
//! verifies the password on the bounded hasher (503 when it is full); see `limits`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::limits::{self, ClientAddress, Keys};
use super::{CurrentUser, Role, SESSION_COOKIE, new_token, token_hash, users};
use crate::app::AppState;
use crate::error::AppError;
use crate::extract::ApiJson;
use crate::store::{Timestamp, on_pool};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct LoggedIn {
    token: String,
    role: Role,
    username: String,
    shelter_id: Option<i64>,
}

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

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = super::request_token(&headers) {
        on_pool!(&state.store, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(&token)).execute(pool).await?;
        });
    }
    let clear = session_cookie("", 0, state.settings.secure_cookie);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

async fn me(user: CurrentUser) -> Json<CurrentUser> {
    Json(user)
}
