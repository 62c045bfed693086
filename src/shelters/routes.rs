//! The shelters' HTTP routes: the registry, opening and closing per activation, assignments
//! and the operator's records, suggestions, and the paper fallback.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::assignments::{self, Assignment, NewAssignment, ShelterList, StatusUpdate, Update};
use super::openings::{self, OpenRequest, ShelterState};
use super::suggest::{self, Confirmation, DistrictPlan, Suggestion};
use super::{Shelter, ShelterFields, paper};
use crate::activations;
use crate::app::AppState;
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::extract::{ApiJson, ApiJsonOrEmpty, ApiPath, ApiQuery};

/// The centre: coordinators and admins. Routes check roles before they look anything up, so
/// a refused role learns nothing, not even whether an activation exists.
const CENTRE: &[Role] = &[Role::Coordinator, Role::Admin];

/// A facility list is hundreds of rows; this is far more than any.
const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/shelters", get(list).post(create))
        .route("/api/shelters/{id}", get(show).put(update))
        .route(
            "/api/shelters/imports",
            post(import_list).layer(axum::extract::DefaultBodyLimit::max(MAX_LIST_BYTES)),
        )
        .route("/api/activations/{id}/shelters", get(states))
        .route("/api/activations/{id}/shelters/{shelter}/open", post(open))
        .route(
            "/api/activations/{id}/shelters/{shelter}/close",
            post(close),
        )
        .route(
            "/api/activations/{id}/shelters/{shelter}/assignments",
            get(shelter_list),
        )
        .route(
            "/api/activations/{id}/shelters/{shelter}/assignments/export",
            get(export),
        )
        .route("/shelters/print", get(print))
        .route(
            "/api/activations/{id}/assignments",
            get(assignment_list).post(assign),
        )
        .route("/api/activations/{id}/assignments/plan", get(plan))
        .route("/api/activations/{id}/assignments/batch", post(confirm))
        .route(
            "/api/activations/{id}/assignments/{assignment}/status",
            post(record_status),
        )
        .route("/api/activations/{id}/suggestions", get(suggestions))
}

async fn list(State(state): State<AppState>, _user: CurrentUser) -> Result<Json<Vec<Shelter>>> {
    Ok(Json(super::list(&state.store).await?))
}

async fn show(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Shelter>> {
    Ok(Json(super::get_one(&state.store, id).await?))
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(fields): ApiJson<ShelterFields>,
) -> Result<(StatusCode, Json<Shelter>)> {
    user.require(&[Role::Admin])?;
    let store = state.store.clone();
    let shelter = state
        .commit(async move { Ok((super::create(&store, fields).await?, vec![])) })
        .await?;
    Ok((StatusCode::CREATED, Json(shelter)))
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(fields): ApiJson<ShelterFields>,
) -> Result<Json<Shelter>> {
    user.require(&[Role::Admin])?;
    let store = state.store.clone();
    let actor = user.actor();
    let shelter = state
        .commit(async move { super::update(&store, id, fields, &actor).await })
        .await?;
    Ok(Json(shelter))
}

async fn states(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ShelterState>>> {
    activations::get_one(&state.store, id).await?;
    Ok(Json(openings::states(&state.store, id).await?))
}

async fn open(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, shelter)): ApiPath<(i64, i64)>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<OpenRequest>,
) -> Result<Json<ShelterState>> {
    let store = state.store.clone();
    let opened = state
        .commit(async move {
            let (state, event) = openings::open(&store, &user, id, shelter, request).await?;
            Ok((state, vec![event]))
        })
        .await?;
    Ok(Json(opened))
}

async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, shelter)): ApiPath<(i64, i64)>,
) -> Result<Json<ShelterState>> {
    let store = state.store.clone();
    let closed = state
        .commit(async move {
            let (state, event) = openings::close(&store, &user, id, shelter).await?;
            Ok((state, vec![event]))
        })
        .await?;
    Ok(Json(closed))
}

async fn shelter_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, shelter)): ApiPath<(i64, i64)>,
) -> Result<Json<ShelterList>> {
    assignments::may_read_list(&user, shelter)?;
    let activation = activations::get_one(&state.store, id).await?;
    Ok(Json(
        assignments::list_for_shelter(
            &state.store,
            &user,
            &activation,
            shelter,
            "shelter.assignments.read",
        )
        .await?,
    ))
}

async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, shelter)): ApiPath<(i64, i64)>,
) -> Result<Response> {
    assignments::may_read_list(&user, shelter)?;
    let activation = activations::get_one(&state.store, id).await?;
    let (file_name, bytes) = paper::export(&state.store, &user, &activation, shelter).await?;
    Ok(crate::register::paper::csv_download(
        &file_name,
        "text/csv; charset=utf-8",
        bytes,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrintQuery {
    activation: i64,
    shelter: i64,
}

async fn print(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(query): ApiQuery<PrintQuery>,
) -> Result<Html<String>> {
    assignments::may_read_list(&user, query.shelter)?;
    let activation = activations::get_one(&state.store, query.activation).await?;
    Ok(Html(
        paper::print(&state.store, &user, &activation, query.shelter).await?,
    ))
}

async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewAssignment>,
) -> Result<(StatusCode, Json<Assignment>)> {
    user.require(CENTRE)?;
    let activation = activations::get_one(&state.store, id).await?;
    let store = state.store.clone();
    let made = state
        .commit(async move {
            let (assignment, event) = assignments::assign(&store, &user, &activation, new).await?;
            Ok((assignment, vec![event]))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignmentQuery {
    resident_id: Option<String>,
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum AssignmentListing {
    History(Vec<Assignment>),
    Active(Vec<ActiveEntry>),
}

#[derive(serde::Serialize)]
struct ActiveEntry {
    resident_id: String,
    shelter_id: i64,
    status: String,
}

/// With `resident_id`: that person's assignments, oldest first (the reassignment history).
/// Without: who is placed where now, as ids (the coordinator's screens mark people with it).
async fn assignment_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<AssignmentQuery>,
) -> Result<Json<AssignmentListing>> {
    user.require(CENTRE)?;
    let activation = activations::get_one(&state.store, id).await?;
    match query.resident_id {
        Some(resident_id) => Ok(Json(AssignmentListing::History(
            assignments::history(&state.store, &user, &activation, &resident_id).await?,
        ))),
        None => {
            let rows = assignments::active(&state.store, id).await?;
            Ok(Json(AssignmentListing::Active(
                rows.into_iter()
                    .map(|(resident_id, shelter_id, status)| ActiveEntry {
                        resident_id,
                        shelter_id,
                        status,
                    })
                    .collect(),
            )))
        }
    }
}

async fn record_status(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, assignment)): ApiPath<(i64, i64)>,
    ApiJson(update): ApiJson<StatusUpdate>,
) -> Result<(StatusCode, Json<Update>)> {
    user.require(&[Role::Admin, Role::Coordinator, Role::ShelterOperator])?;
    let activation = activations::get_one(&state.store, id).await?;
    let store = state.store.clone();
    let saved = state
        .commit(async move {
            assignments::record_status(&store, &user, &activation, assignment, update).await
        })
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestionQuery {
    resident_id: String,
}

async fn suggestions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<SuggestionQuery>,
) -> Result<Json<Vec<Suggestion>>> {
    user.require(CENTRE)?;
    let activation = activations::get_one(&state.store, id).await?;
    Ok(Json(
        suggest::for_person(&state.store, &user, &activation, &query.resident_id).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanQuery {
    /// The district to plan; empty for people with no district.
    district: Option<String>,
}

async fn plan(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<PlanQuery>,
) -> Result<Json<DistrictPlan>> {
    user.require(CENTRE)?;
    let activation = activations::get_one(&state.store, id).await?;
    let district = query
        .district
        .ok_or_else(|| AppError::invalid("district", "name the district to plan"))?;
    Ok(Json(
        suggest::plan_district(&state.store, &user, &activation, &district).await?,
    ))
}

async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(confirmation): ApiJson<Confirmation>,
) -> Result<(StatusCode, Json<Vec<Assignment>>)> {
    user.require(CENTRE)?;
    let activation = activations::get_one(&state.store, id).await?;
    let store = state.store.clone();
    let made = state
        .commit(async move { suggest::confirm(&store, &user, &activation, confirmation).await })
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    allow_invalid: bool,
    encoding: Option<String>,
}

/// The municipality's facility list: the body is the CSV file, or a form with `file` and
/// optionally `mapping` (TOML), as for the register.
async fn import_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(query): ApiQuery<ImportQuery>,
    request: axum::extract::Request,
) -> Result<Json<super::import::ImportReport>> {
    use std::io::Read;
    user.require(&[Role::Admin])?;
    let encoding = crate::register::encoding_choice(query.encoding.as_deref())?;
    let (mut file, mapping) = crate::register::read_upload(request, &state).await?;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map(|_| bytes)
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("reading the upload: {e}")))?
    .map_err(|e| AppError::Internal(e.into()))?;
    let options = super::import::ImportOptions {
        encoding,
        mapping,
        dry_run: query.dry_run,
        allow_invalid: query.allow_invalid,
    };
    let store = state.store.clone();
    let actor = user.actor();
    let report = state
        .commit(async move { super::import::import(&store, &actor, &bytes, options).await })
        .await?;
    Ok(Json(report))
}
