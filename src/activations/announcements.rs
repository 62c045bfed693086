//! Announcements (お知らせ): centre-wide notices on the board, such as "the 13:00 shift
//! gathers at the car park" or "heat warning: rest every 20 minutes".

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::{Allowed, Centre, CurrentUser};
use crate::error::{AppError, Result};
use crate::events::{self, Actor};
use crate::extract::{ApiJson, ApiPath};
use crate::store::{Store, Timestamp, on_pool, write_tx};

/// Long enough for a shift briefing, short enough to read on a wall screen.
const MAX_CHARS: usize = 2000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, post))
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Announcement {
    pub id: i64,
    pub text: String,
    pub posted_by: String,
    pub posted_at: Timestamp,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAnnouncement {
    text: String,
}

pub async fn post_one(
    store: &Store,
    activation_id: i64,
    text: &str,
    actor: &Actor,
) -> Result<(Announcement, events::Event)> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::invalid("text", "an announcement needs some text"));
    }
    if text.chars().count() > MAX_CHARS {
        return Err(AppError::invalid(
            "text",
            format!("an announcement has at most {MAX_CHARS} characters"),
        ));
    }
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO announcements (activation_id, text, posted_by, posted_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(activation_id)
        .bind(text)
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let announcement = Announcement { id, text: text.to_string(), posted_by: actor.name.clone(), posted_at: now };
        let event = events::record!(tx, activation_id, seq, "announcement_posted", actor, &announcement);
        (announcement, event)
    });
    Ok(out)
}

/// The newest `limit` announcements of an activation, newest first.
pub async fn latest(store: &Store, activation_id: i64, limit: i64) -> Result<Vec<Announcement>> {
    let rows = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT id, text, posted_by, posted_at FROM announcements WHERE activation_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(activation_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// The activation's announcements, newest first (at most 500).
#[utoipa::path(
    get,
    path = "/api/activations/{id}/announcements",
    tag = "announcements",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "Announcements, newest first.", body = Vec<Announcement>))
)]
async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<Announcement>>> {
    super::get_one(&state.store, id).await?;
    Ok(Json(latest(&state.store, id, 500).await?))
}

/// Posts a centre-wide announcement (お知らせ) to the board. Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/announcements",
    tag = "announcements",
    params(("id" = i64, Path, description = "The activation.")),
    request_body = NewAnnouncement,
    responses((status = 201, description = "The announcement, as the board shows it.", body = Announcement))
)]
async fn post(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewAnnouncement>,
) -> Result<(StatusCode, Json<Announcement>)> {
    let store = state.store.clone();
    let actor = user.actor();
    let announcement = state
        .commit(async move {
            let (announcement, event) = post_one(&store, id, &body.text, &actor).await?;
            Ok((announcement, vec![event]))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(announcement)))
}
