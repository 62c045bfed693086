//! The volunteer centre's HTTP routes. Everything here is the centre's work: coordinators and
//! admins. Board terminals see the matching board through the websocket only.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::board::EquipmentStock;
use super::equipment::{self, Adjustment, NewItem};
use super::needs::{self, Duplicate, Need, NeedRecord, NewNeed, Received};
use super::paper::{self, DaySummary};
use super::teams::{self, Dispatch, NewTeam, Preparation, Report, ReturnCheck, Team};
use super::volunteers::{self, CheckedIn, InsuranceInput, NewVolunteer, Search, Volunteer};
use crate::activations::{self, Activation};
use crate::app::AppState;
use crate::auth::{CurrentUser, Role};
use crate::error::Result;
use crate::events::Event;
use crate::extract::{ApiJson, ApiJsonOrEmpty, ApiPath, ApiQuery};

const CENTRE: &[Role] = &[Role::Coordinator, Role::Admin];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/activations/{id}/volunteers",
            get(search_volunteers).post(register),
        )
        .route(
            "/api/activations/{id}/volunteers/{volunteer}",
            get(show_volunteer),
        )
        .route(
            "/api/activations/{id}/volunteers/{volunteer}/checkin",
            post(check_in),
        )
        .route(
            "/api/activations/{id}/volunteers/{volunteer}/checkout",
            post(check_out),
        )
        .route(
            "/api/activations/{id}/volunteers/{volunteer}/insurance",
            post(insurance),
        )
        .route("/volunteers/card", get(card))
        .route("/volunteers/certificate", get(certificate))
        .route("/api/activations/{id}/needs", get(list_needs).post(receive))
        .route("/api/activations/{id}/needs/duplicates", get(duplicates))
        .route("/api/activations/{id}/needs/{need}", get(show_need))
        .route(
            "/api/activations/{id}/needs/{need}/status",
            post(need_status),
        )
        .route(
            "/api/activations/{id}/equipment",
            get(list_equipment).post(add_equipment),
        )
        .route(
            "/api/activations/{id}/equipment/{item}/adjust",
            post(adjust_equipment),
        )
        .route("/api/activations/{id}/teams", get(list_teams).post(form))
        .route("/api/activations/{id}/teams/{team}", get(show_team))
        .route("/api/activations/{id}/teams/{team}/prepare", post(prepare))
        .route(
            "/api/activations/{id}/teams/{team}/dispatch",
            post(dispatch),
        )
        .route(
            "/api/activations/{id}/teams/{team}/return",
            post(return_team),
        )
        .route("/api/activations/{id}/teams/{team}/report", post(report))
        .route("/api/activations/{id}/teams/{team}/disband", post(disband))
        .route("/api/activations/{id}/day-summary", get(day_summary))
        .route(
            "/api/activations/{id}/day-summary/export",
            get(day_summary_export),
        )
        .route("/dispatch/day-summary/print", get(day_summary_print))
}

/// Runs a write that yields one event, as the user, and answers its value.
async fn write<T, F, Fut>(state: &AppState, user: &CurrentUser, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(crate::store::Store, crate::events::Actor) -> Fut,
    Fut: Future<Output = Result<(T, Event)>> + Send + 'static,
{
    user.require(CENTRE)?;
    let future = f(state.store.clone(), user.actor());
    state
        .commit(async move {
            let (value, event) = future.await?;
            Ok((value, vec![event]))
        })
        .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RegisterQuery {
    #[serde(default)]
    allow_same_phone: bool,
}

async fn register(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<RegisterQuery>,
    ApiJson(new): ApiJson<NewVolunteer>,
) -> Result<(StatusCode, Json<CheckedIn>)> {
    let done = write(&state, &user, move |store, actor| async move {
        volunteers::register(&store, &actor, id, new, query.allow_same_phone).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

async fn search_volunteers(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(search): ApiQuery<Search>,
) -> Result<Json<Vec<Volunteer>>> {
    user.require(CENTRE)?;
    activations::get_one(&state.store, id).await?;
    Ok(Json(volunteers::search(&state.store, id, search).await?))
}

async fn show_volunteer(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, volunteer)): ApiPath<(i64, i64)>,
) -> Result<Json<Volunteer>> {
    user.require(CENTRE)?;
    Ok(Json(
        volunteers::get_one(&state.store, id, volunteer).await?,
    ))
}

async fn check_in(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, volunteer)): ApiPath<(i64, i64)>,
) -> Result<(StatusCode, Json<CheckedIn>)> {
    let done = write(&state, &user, move |store, actor| async move {
        volunteers::check_in(&store, &actor, id, volunteer).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

async fn check_out(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, volunteer)): ApiPath<(i64, i64)>,
) -> Result<StatusCode> {
    write(&state, &user, move |store, actor| async move {
        let event = volunteers::check_out(&store, &actor, id, volunteer).await?;
        Ok(((), event))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn insurance(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, volunteer)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<InsuranceInput>,
) -> Result<Json<Volunteer>> {
    let done = write(&state, &user, move |store, actor| async move {
        volunteers::set_insurance(&store, &actor, id, volunteer, input).await
    })
    .await?;
    Ok(Json(done))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VolunteerPaper {
    activation: i64,
    volunteer: i64,
}

async fn card(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(query): ApiQuery<VolunteerPaper>,
) -> Result<Html<String>> {
    user.require(CENTRE)?;
    let activation = activations::get_one(&state.store, query.activation).await?;
    Ok(Html(
        paper::card(&state.store, &activation, query.volunteer).await?,
    ))
}

async fn certificate(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(query): ApiQuery<VolunteerPaper>,
) -> Result<Html<String>> {
    user.require(CENTRE)?;
    let activation = activations::get_one(&state.store, query.activation).await?;
    Ok(Html(
        paper::certificate(&state.store, &activation, query.volunteer, &user.username).await?,
    ))
}

async fn receive(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewNeed>,
) -> Result<(StatusCode, Json<Received>)> {
    let done = write(&state, &user, move |store, actor| async move {
        needs::receive(&store, &actor, id, new).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

async fn list_needs(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<needs::Filter>,
) -> Result<Json<Vec<Need>>> {
    user.require(CENTRE)?;
    activations::get_one(&state.store, id).await?;
    Ok(Json(needs::list(&state.store, id, filter).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DuplicateQuery {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
}

async fn duplicates(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DuplicateQuery>,
) -> Result<Json<Vec<Duplicate>>> {
    user.require(CENTRE)?;
    Ok(Json(
        needs::duplicates(&state.store, id, &query.phone, &query.address).await?,
    ))
}

async fn show_need(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, need)): ApiPath<(i64, i64)>,
) -> Result<Json<NeedRecord>> {
    user.require(CENTRE)?;
    Ok(Json(needs::get_one(&state.store, id, need).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    status: String,
    #[serde(default)]
    note: String,
}

async fn need_status(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, need)): ApiPath<(i64, i64)>,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<Json<Need>> {
    let done = write(&state, &user, move |store, actor| async move {
        needs::set_status(&store, &actor, id, need, &change.status, &change.note).await
    })
    .await?;
    Ok(Json(done))
}

async fn list_equipment(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<EquipmentStock>>> {
    user.require(CENTRE)?;
    Ok(Json(equipment::list(&state.store, id).await?))
}

async fn add_equipment(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(item): ApiJson<NewItem>,
) -> Result<(StatusCode, Json<EquipmentStock>)> {
    let done = write(&state, &user, move |store, actor| async move {
        equipment::add_item(&store, &actor, id, item).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

async fn adjust_equipment(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, item)): ApiPath<(i64, i64)>,
    ApiJson(adjustment): ApiJson<Adjustment>,
) -> Result<Json<EquipmentStock>> {
    let done = write(&state, &user, move |store, actor| async move {
        equipment::adjust(&store, &actor, id, item, adjustment).await
    })
    .await?;
    Ok(Json(done))
}

async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewTeam>,
) -> Result<(StatusCode, Json<Team>)> {
    let team_id = write(&state, &user, move |store, actor| async move {
        teams::form(&store, &actor, id, new).await
    })
    .await?;
    let done = teams::get_one(&state.store, id, team_id).await?;
    Ok((StatusCode::CREATED, Json(done)))
}

async fn list_teams(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<teams::Filter>,
) -> Result<Json<Vec<Team>>> {
    user.require(CENTRE)?;
    activations::get_one(&state.store, id).await?;
    Ok(Json(teams::list(&state.store, id, filter).await?))
}

async fn show_team(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
) -> Result<Json<Team>> {
    user.require(CENTRE)?;
    Ok(Json(teams::get_one(&state.store, id, team).await?))
}

async fn prepare(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
    ApiJson(preparation): ApiJson<Preparation>,
) -> Result<Json<Team>> {
    let done = write(&state, &user, move |store, actor| async move {
        teams::prepare(&store, &actor, id, team, preparation).await
    })
    .await?;
    Ok(Json(done))
}

async fn dispatch(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<Dispatch>,
) -> Result<Json<Team>> {
    let done = write(&state, &user, move |store, actor| async move {
        teams::dispatch(&store, &actor, id, team, request).await
    })
    .await?;
    Ok(Json(done))
}

async fn return_team(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
    ApiJson(check): ApiJson<ReturnCheck>,
) -> Result<Json<Team>> {
    let team_id = write(&state, &user, move |store, actor| async move {
        teams::return_team(&store, &actor, id, team, check).await
    })
    .await?;
    let done = teams::get_one(&state.store, id, team_id).await?;
    Ok(Json(done))
}

async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
    ApiJson(report): ApiJson<Report>,
) -> Result<Json<Team>> {
    let team_id = write(&state, &user, move |store, actor| async move {
        teams::report(&store, &actor, id, team, report).await
    })
    .await?;
    let done = teams::get_one(&state.store, id, team_id).await?;
    Ok(Json(done))
}

async fn disband(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
) -> Result<Json<Team>> {
    let done = write(&state, &user, move |store, actor| async move {
        teams::disband(&store, &actor, id, team).await
    })
    .await?;
    Ok(Json(done))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DayQuery {
    day: Option<String>,
}

/// The day summary the three routes show (JSON, CSV, page): the centre only.
async fn summary_of(
    state: &AppState,
    user: &CurrentUser,
    activation_id: i64,
    day: Option<&str>,
) -> Result<(Activation, DaySummary)> {
    user.require(CENTRE)?;
    let activation = activations::get_one(&state.store, activation_id).await?;
    let day = paper::parse_day(day)?;
    let summary = paper::day_summary(&state.store, activation.id, day).await?;
    Ok((activation, summary))
}

async fn day_summary(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> Result<Json<DaySummary>> {
    let (_, summary) = summary_of(&state, &user, id, query.day.as_deref()).await?;
    Ok(Json(summary))
}

async fn day_summary_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> Result<Response> {
    let (_, summary) = summary_of(&state, &user, id, query.day.as_deref()).await?;
    let bytes = paper::day_summary_csv(&summary)?;
    Ok(crate::register::paper::csv_download(
        &format!("day-summary-{}.csv", summary.day),
        "text/csv; charset=utf-8",
        bytes,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DayPrintQuery {
    activation: i64,
    day: Option<String>,
}

async fn day_summary_print(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(query): ApiQuery<DayPrintQuery>,
) -> Result<Html<String>> {
    let (activation, summary) =
        summary_of(&state, &user, query.activation, query.day.as_deref()).await?;
    Ok(Html(paper::day_summary_html(
        &activation,
        &summary,
        &user.username,
    )))
}
