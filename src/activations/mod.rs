//! Activations (発災・訓練): a drill or a real event. Every operational record belongs to one,
//! and every screen shows which kind is running. Admins declare and close them; coordinators
//! and admins post centre-wide announcements (お知らせ) to them.

pub mod announcements;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use announcements::Announcement;

use crate::app::AppState;
use crate::auth::{AdminOnly, Allowed, CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::events::{self, Actor};
use crate::extract::{ApiJson, ApiPath};
use crate::store::{Store, Timestamp, on_pool, write_tx};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, delete))
        .routes(routes!(close))
        .routes(routes!(event_log))
        .merge(announcements::router())
}

/// The two kinds, never mixed: a drill must never change a real activation's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// 訓練
    Drill,
    /// 災害対応
    Real,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Drill => "drill",
            Kind::Real => "real",
        }
    }
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Activation {
    pub id: i64,
    pub name: String,
    /// `drill` (訓練) or `real` (災害対応).
    pub kind: String,
    /// `open` or `closed`.
    pub status: String,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// The seq of the activation's latest event.
    pub last_seq: i64,
    /// A drill's scenario key (the scenario file's stem, e.g. `flood-ward`), so the review
    /// can compare runs of the same scenario; null for a real activation or a drill opened by
    /// hand.
    // `default`: readers that do not select it (the board's snapshot) get `None`.
    #[sqlx(default)]
    pub scenario: Option<String>,
    /// The speed a scenario was played at: drill seconds per real second (24: a day in an
    /// hour). The review's times are real times; in the drill's own time they are this many
    /// times longer. Null for a real activation or a drill opened by hand.
    #[sqlx(default)]
    pub speed: Option<f64>,
}

/// The columns an [`Activation`] is read from, for every query that reads one whole: a new
/// column is added here once.
macro_rules! activation_columns {
    () => {
        "id, name, kind, status, opened_at, closed_at, last_seq, scenario, speed"
    };
}
pub(crate) use activation_columns;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewActivation {
    pub name: String,
    pub kind: Kind,
}

/// The body of `POST /api/activations`: a new activation and, for a drill played from a
/// scenario, the scenario's key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateActivation {
    name: String,
    kind: Kind,
    #[serde(default)]
    scenario: Option<String>,
    /// The speed the scenario is played at, drill seconds per real second (more than 0, at
    /// most 100000); only with `scenario`.
    #[serde(default)]
    speed: Option<f64>,
}

/// The longest scenario key kept: a file stem, not a description.
const SCENARIO_KEY_MAX: usize = 100;

/// Checks a scenario key: only a drill plays a scenario, and the key is 1 to 100 characters
/// without control characters (it is shown in the review and used to group runs).
fn check_scenario_key(kind: Kind, scenario: Option<String>) -> Result<Option<String>> {
    let Some(key) = scenario else {
        return Ok(None);
    };
    if kind != Kind::Drill {
        return Err(AppError::invalid(
            "scenario",
            "only a drill plays a scenario: leave scenario out for a real activation",
        ));
    }
    let key = key.trim();
    if key.is_empty() || key.chars().count() > SCENARIO_KEY_MAX || key.chars().any(char::is_control)
    {
        return Err(AppError::invalid(
            "scenario",
            "scenario is a key of 1 to 100 characters, such as the scenario file's name (flood-ward)",
        ));
    }
    Ok(Some(key.to_string()))
}

/// Checks a drill's playing speed: only a scenario is played at a speed, and it is drill time
/// per real time, as the drill runner takes it (`--speed`).
fn check_speed(scenario: Option<&str>, speed: Option<f64>) -> Result<Option<f64>> {
    let Some(speed) = speed else {
        return Ok(None);
    };
    if scenario.is_none() {
        return Err(AppError::invalid(
            "speed",
            "only a scenario is played at a speed: give scenario with speed",
        ));
    }
    if !(speed.is_finite() && speed > 0.0 && speed <= 100_000.0) {
        return Err(AppError::invalid(
            "speed",
            "speed is drill time per real time: more than 0 and at most 100000",
        ));
    }
    Ok(Some(speed))
}

/// Declares an activation. Its first event (`activation_opened`, seq 1) is written with it.
pub async fn open(
    store: &Store,
    new: NewActivation,
    actor: &Actor,
) -> Result<(Activation, events::Event)> {
    open_scenario(store, new, None, None, actor).await
}

/// Declares an activation, a drill with the key of the scenario it plays and the speed it is
/// played at (both checked by the caller), or any activation with `None`.
pub async fn open_scenario(
    store: &Store,
    new: NewActivation,
    scenario: Option<String>,
    speed: Option<f64>,
    actor: &Actor,
) -> Result<(Activation, events::Event)> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(
            "name",
            "an activation needs a name of 1 to 200 characters",
        ));
    }
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO activations (name, kind, opened_at, opened_by, scenario, speed) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name)
        .bind(new.kind.as_str())
        .bind(now)
        .bind(actor.user_id)
        .bind(&scenario)
        .bind(speed)
        .fetch_one(&mut *tx)
        .await?;
        let mut activation = Activation {
            id,
            name: name.to_string(),
            kind: new.kind.as_str().to_string(),
            status: "open".into(),
            opened_at: now,
            closed_at: None,
            last_seq: 1,
            scenario: scenario.clone(),
            speed,
        };
        let event = events::append!(tx, id, "activation_opened", actor, &activation);
        activation.last_seq = event.seq;
        (activation, event)
    });
    Ok(out)
}

pub async fn list_all(store: &Store) -> Result<Vec<Activation>> {
    let rows = on_pool!(store, pool => {
        sqlx::query_as(concat!("SELECT ", activation_columns!(), " FROM activations ORDER BY status = 'closed', id DESC"))
            .fetch_all(pool)
            .await?
    });
    Ok(rows)
}

pub async fn get_one(store: &Store, id: i64) -> Result<Activation> {
    let row: Option<Activation> = on_pool!(store, pool => {
        sqlx::query_as(concat!("SELECT ", activation_columns!(), " FROM activations WHERE id = $1")).bind(id).fetch_optional(pool).await?
    });
    row.ok_or(AppError::NotFound("activation"))
}

/// Closes an activation: its last event is `activation_closed`, and later writes answer 409.
pub async fn close_one(
    store: &Store,
    id: i64,
    actor: &Actor,
) -> Result<(Activation, events::Event)> {
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let closed: Option<Activation> = sqlx::query_as(concat!("UPDATE activations SET status = 'closed', closed_at = $2, closed_by = $3, last_seq = last_seq + 1 \
             WHERE id = $1 AND status = 'open' RETURNING ", activation_columns!()))
        .bind(id)
        .bind(now)
        .bind(actor.user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(closed) = closed else {
            get_one(store, id).await?;
            return Err(AppError::conflict("activation_closed", "this activation is already closed"));
        };
        let event = events::record!(tx, id, closed.last_seq, "activation_closed", actor, &closed);
        (closed, event)
    });
    Ok(out)
}

/// An activation's own tables, children first (their own children cascade). Names from this
/// list only are put into SQL.
const DRILL_TABLES: [&str; 12] = [
    "teams",
    "equipment",
    "checkins",
    "needs",
    "volunteers",
    "assignments",
    "shelter_openings",
    "safety_status",
    "safety_checks",
    "disclosures",
    "announcements",
    "events",
];

/// Deletes a drill with every record it holds (events, announcements, safety checks, shelter
/// openings and assignments, volunteers, needs, teams, equipment: all cascade from the
/// activation). Master data (the register, shelters, users) is not touched, and a real
/// activation is never deleted: it is the record of a disaster. Audited.
pub async fn delete_drill(store: &Store, id: i64, actor: &Actor) -> Result<()> {
    write_tx!(store, tx => {
        let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM activations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        match kind.as_deref() {
            None => return Err(AppError::NotFound("activation")),
            Some("drill") => {}
            Some(_) => {
                return Err(AppError::conflict(
                    "real_activation_kept",
                    "a real activation is the record of a disaster and is never deleted: close it instead",
                ));
            }
        }
        // Children before parents, explicitly: PostgreSQL runs each cascade as its own step and
        // checks plain references between them (a team's need) before the last one is gone.
        for table in DRILL_TABLES {
            let sql = format!("DELETE FROM {table} WHERE activation_id = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM activations WHERE id = $1").bind(id).execute(&mut *tx).await?;
        crate::audit::append!(tx, &actor.name, "activation.delete", &format!("activation:{id}"),
            serde_json::json!({ "kind": "drill" }));
    });
    Ok(())
}

/// Deletes a drill and everything recorded in it. A real activation is never deleted (409).
#[utoipa::path(
    delete,
    path = "/api/activations/{id}",
    tag = "activations",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 204, description = "The drill and its records are gone."))
)]
async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode> {
    user.require(&[Role::Admin])?;
    let store = state.store.clone();
    let actor = user.actor();
    state
        .commit(async move {
            delete_drill(&store, id, &actor).await?;
            Ok(((), Vec::new()))
        })
        .await?;
    tracing::info!(activation = id, "drill deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Every activation, drills and real ones, newest first.
#[utoipa::path(
    get,
    path = "/api/activations",
    tag = "activations",
    responses((status = 200, description = "The activations.", body = Vec<Activation>))
)]
async fn list(State(state): State<AppState>, _user: CurrentUser) -> Result<Json<Vec<Activation>>> {
    Ok(Json(list_all(&state.store).await?))
}

/// One activation.
#[utoipa::path(
    get,
    path = "/api/activations/{id}",
    tag = "activations",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "The activation.", body = Activation))
)]
async fn show(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Activation>> {
    Ok(Json(get_one(&state.store, id).await?))
}

/// Declares an activation: a drill (訓練) or a real event (災害対応). Admins only.
#[utoipa::path(
    post,
    path = "/api/activations",
    tag = "activations",
    request_body = CreateActivation,
    responses((status = 201, description = "The new activation.", body = Activation))
)]
async fn create(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<AdminOnly>,
    ApiJson(body): ApiJson<CreateActivation>,
) -> Result<(StatusCode, Json<Activation>)> {
    let scenario = check_scenario_key(body.kind, body.scenario)?;
    let speed = check_speed(scenario.as_deref(), body.speed)?;
    let new = NewActivation {
        name: body.name,
        kind: body.kind,
    };
    let store = state.store.clone();
    let actor = user.actor();
    let activation = state
        .commit(async move {
            let (activation, event) = open_scenario(&store, new, scenario, speed, &actor).await?;
            Ok((activation, vec![event]))
        })
        .await?;
    tracing::info!(activation = activation.id, kind = %activation.kind, "activation opened");
    Ok((StatusCode::CREATED, Json(activation)))
}

/// Closes an activation: its records stay, no more changes are taken. Admins only.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/close",
    tag = "activations",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "The closed activation.", body = Activation))
)]
async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Activation>> {
    user.require(&[Role::Admin])?;
    let store = state.store.clone();
    let actor = user.actor();
    let activation = state
        .commit(async move {
            let (activation, event) = close_one(&store, id, &actor).await?;
            Ok((activation, vec![event]))
        })
        .await?;
    tracing::info!(activation = activation.id, "activation closed");
    Ok(Json(activation))
}

/// The activation's event log, oldest first.
///
/// For audit and review, and for a client resuming from a `seq`. Coordinators and admins
/// only: events carry what was changed.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/events",
    tag = "activations",
    params(("id" = i64, Path, description = "The activation."), EventPage),
    responses((status = 200, description = "Events after `after`, oldest first.", body = Vec<crate::events::WireEventSchema>))
)]
async fn event_log(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    crate::extract::ApiQuery(page): crate::extract::ApiQuery<EventPage>,
) -> Result<Json<Vec<serde_json::Value>>> {
    user.require(&[Role::Coordinator, Role::Admin])?;
    get_one(&state.store, id).await?;
    let limit = page.limit.unwrap_or(1000).clamp(1, 10_000);
    let events =
        crate::board::events_after(&state.store, id, page.after.unwrap_or(0), None, limit).await?;
    let body = events
        .iter()
        .map(|e| serde_json::from_str(&e.to_wire()).map_err(anyhow::Error::from))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Json(body))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventPage {
    /// Only events with a larger `seq` (default 0: from the start).
    after: Option<i64>,
    /// At most this many (1 to 10,000; default 1,000).
    limit: Option<i64>,
}
