//! Who may do what: users and roles, login sessions, and the extractor every protected route
//! takes.
//!
//! A session is a random bearer token; the database keeps only its SHA-256, with an expiry,
//! so sessions survive a restart and are shared by several server instances. Browsers carry
//! the token in an HttpOnly, SameSite=Strict cookie; scripts and terminals may send
//! `Authorization: Bearer TOKEN` instead.

pub mod limits;
pub mod password;
mod routes;
pub mod users;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::AppError;
use crate::events::Actor;
use crate::store::{Timestamp, on_pool};

pub use routes::router;

pub const SESSION_COOKIE: &str = "saigai_session";

/// The roles of DOMAIN.md.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[clap(rename_all = "snake_case")]
pub enum Role {
    /// システム管理者: users, shelters, imports, declares an activation.
    Admin,
    /// 災害VCスタッフ: intake, matching, dispatch, safety checks, the board.
    Coordinator,
    /// 福祉避難所運営者: only their own shelter's assignments and arrivals.
    ShelterOperator,
    /// 表示端末: a read-only terminal showing the live board.
    Board,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::ShelterOperator => "shelter_operator",
            Role::Board => "board",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Admin,
            Role::Coordinator,
            Role::ShelterOperator,
            Role::Board,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The logged-in user of a request. Taking it as an argument is what makes a route
/// require a session: without one the request is answered 401 before the handler runs.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CurrentUser {
    #[serde(skip)]
    #[schema(ignore)]
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub shelter_id: Option<i64>,
}

impl CurrentUser {
    /// Refuses with 403 unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden("your role may not do this"))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.id),
            name: self.username.clone(),
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = request_token(&parts.headers).ok_or(AppError::Unauthorized)?;
        session_user(state, &token)
            .await?
            .ok_or(AppError::Unauthorized)
    }
}

/// Who may use a route, as a type: [`Allowed`] checks it when the request comes in, before the
/// request's body is read, so a role that may not is refused 403 whatever it sends and learns
/// nothing from how its body was parsed.
pub trait Roles: Send + Sync + 'static {
    const ROLES: &'static [Role];
}

/// Admins only: declaring activations, the shelter registry, drills, disclosure.
pub struct AdminOnly;
impl Roles for AdminOnly {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// The centre's staff: coordinators and admins.
pub struct Centre;
impl Roles for Centre {
    const ROLES: &'static [Role] = &[Role::Coordinator, Role::Admin];
}

/// Everyone who works a record: the centre and shelter operators, who are then limited to
/// their own shelter by the handler (which needs the record to tell). Not board terminals.
pub struct Staff;
impl Roles for Staff {
    const ROLES: &'static [Role] = &[Role::Coordinator, Role::Admin, Role::ShelterOperator];
}

/// The logged-in user of a request, whose role is one of `R::ROLES` (else 403, or 401 without
/// a session). Taken in place of [`CurrentUser`] by routes that take a body.
pub struct Allowed<R: Roles> {
    pub user: CurrentUser,
    roles: std::marker::PhantomData<R>,
}

impl<R: Roles> FromRequestParts<AppState> for Allowed<R> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.require(R::ROLES)?;
        Ok(Allowed {
            user,
            roles: std::marker::PhantomData,
        })
    }
}

/// The session token of a request: the bearer header first, else the session cookie.
pub(crate) fn request_token(headers: &HeaderMap) -> Option<String> {
    bearer_token(headers).or_else(|| cookie_token(headers))
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_string())
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// A new random session token: 256 bits, URL-safe base64.
pub(crate) fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    username: String,
    role: String,
    shelter_id: Option<i64>,
}

/// The user of a live session token, if any.
pub async fn session_user(state: &AppState, token: &str) -> Result<Option<CurrentUser>, AppError> {
    let hash = token_hash(token);
    let row: Option<SessionRow> = on_pool!(&state.store, pool => {
        sqlx::query_as(
            "SELECT u.id, u.username, u.role, u.shelter_id FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE",
        )
        .bind(&hash)
        .bind(Timestamp::now())
        .fetch_optional(pool)
        .await?
    });
    Ok(row.and_then(|r| {
        Some(CurrentUser {
            id: r.id,
            username: r.username,
            role: Role::parse(&r.role)?,
            shelter_id: r.shelter_id,
        })
    }))
}
