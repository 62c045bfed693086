//! The volunteer centre's HTTP routes. Everything here is the centre's work: coordinators and
//! admins. Board terminals see the matching board through the websocket only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::board::EquipmentStock;
use super::equipment::{self, Adjustment, NewItem};
use super::needs::{self, Duplicate, Need, NeedRecord, NewNeed, Received};
use super::paper::{self, DaySummary};
use super::teams::{self, Dispatch, NewTeam, Preparation, Report, ReturnCheck, Team};
use super::volunteers::{self, CheckedIn, InsuranceInput, NewVolunteer, Search, Volunteer};
use crate::activations::{self, Activation};
use crate::app::AppState;
use crate::auth::{Allowed, Centre};
use crate::error::Result;
use crate::events::Event;
use crate::extract::{ApiJson, ApiJsonOrEmpty, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_volunteers, register))
        .routes(routes!(show_volunteer))
        .routes(routes!(check_in))
        .routes(routes!(check_out))
        .routes(routes!(insurance))
        .routes(routes!(card))
        .routes(routes!(certificate))
        .routes(routes!(list_needs, receive))
        .routes(routes!(duplicates))
        .routes(routes!(show_need))
        .routes(routes!(need_status))
        .routes(routes!(list_equipment, add_equipment))
        .routes(routes!(adjust_equipment))
        .routes(routes!(list_teams, form))
        .routes(routes!(show_team))
        .routes(routes!(prepare))
        .routes(routes!(dispatch))
        .routes(routes!(return_team))
        .routes(routes!(report))
        .routes(routes!(disband))
        .routes(routes!(day_summary))
        .routes(routes!(day_summary_export))
        .routes(routes!(day_summary_print))
}

/// Runs a write that yields one event, as the user, and answers its value. Only centre staff
/// write here: the extractor has checked the role before the body was read.
async fn write<T, F, Fut>(state: &AppState, centre: &Allowed<Centre>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(crate::store::Store, crate::events::Actor) -> Fut,
    Fut: Future<Output = Result<(T, Event)>> + Send + 'static,
{
    let future = f(state.store.clone(), centre.user.actor());
    state
        .commit(async move {
            let (value, event) = future.await?;
            Ok((value, vec![event]))
        })
        .await
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RegisterQuery {
    /// Register even though the phone is registered already (a family sharing one phone).
    #[serde(default)]
    allow_same_phone: bool,
}

/// Registers a first-time volunteer and checks them in today (ボランティア受付).
///
/// Registration and check-in are one step. The answer carries what the desk should tell them
/// (`warnings`: no valid insurance, basic plan). A phone already registered in this activation is
/// refused (409 `already_registered`, with `volunteer_id` and `card_code`): check that person in
/// again instead, or pass `allow_same_phone` for a family sharing one phone. Coordinators and
/// admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/volunteers",
    tag = "volunteers",
    params(("id" = i64, Path, description = "The activation."), RegisterQuery),
    request_body = NewVolunteer,
    responses((status = 201, description = "Registered and checked in today.", body = CheckedIn))
)]
async fn register(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<RegisterQuery>,
    ApiJson(new): ApiJson<NewVolunteer>,
) -> Result<(StatusCode, Json<CheckedIn>)> {
    let done = write(&state, &centre, move |store, actor| async move {
        volunteers::register(&store, &actor, id, new, query.allow_same_phone).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// Finds volunteers: by phone, card code or name, or today's pool.
///
/// A returning volunteer is found by phone or by the code on their card; anyone by part of their
/// name or kana; `waiting` gives today's pool (checked in, in no team, not gone home). At most 500,
/// sorted by kana. Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/volunteers",
    tag = "volunteers",
    params(("id" = i64, Path, description = "The activation."), Search),
    responses((status = 200, description = "The volunteers found.", body = Vec<Volunteer>))
)]
async fn search_volunteers(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(search): ApiQuery<Search>,
) -> Result<Json<Vec<Volunteer>>> {
    activations::get_one(&state.store, id).await?;
    Ok(Json(volunteers::search(&state.store, id, search).await?))
}

/// One volunteer, with their insurance and where they are today. Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/volunteers/{volunteer}",
    tag = "volunteers",
    params(("id" = i64, Path, description = "The activation."), ("volunteer" = i64, Path, description = "The volunteer.")),
    responses((status = 200, description = "The volunteer.", body = Volunteer))
)]
async fn show_volunteer(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath((id, volunteer)): ApiPath<(i64, i64)>,
) -> Result<Json<Volunteer>> {
    Ok(Json(
        volunteers::get_one(&state.store, id, volunteer).await?,
    ))
}

/// Checks a registered volunteer in again today.
///
/// For a returning volunteer, found by phone or card. 409 `already_checked_in` when they are.
/// Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/volunteers/{volunteer}/checkin",
    tag = "volunteers",
    params(("id" = i64, Path, description = "The activation."), ("volunteer" = i64, Path, description = "The volunteer.")),
    responses((status = 201, description = "Checked in today.", body = CheckedIn))
)]
async fn check_in(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, volunteer)): ApiPath<(i64, i64)>,
) -> Result<(StatusCode, Json<CheckedIn>)> {
    let done = write(&state, &centre, move |store, actor| async move {
        volunteers::check_in(&store, &actor, id, volunteer).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// A volunteer goes home for the day.
///
/// Refused while they are in an active team (409 `in_team`) or when they are not checked in today
/// (409 `not_checked_in`). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/volunteers/{volunteer}/checkout",
    tag = "volunteers",
    params(("id" = i64, Path, description = "The activation."), ("volunteer" = i64, Path, description = "The volunteer.")),
    responses((status = 204, description = "Gone home for the day."))
)]
async fn check_out(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, volunteer)): ApiPath<(i64, i64)>,
) -> Result<StatusCode> {
    write(&state, &centre, move |store, actor| async move {
        let event = volunteers::check_out(&store, &actor, id, volunteer).await?;
        Ok(((), event))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a volunteer's activity insurance (ボランティア活動保険).
///
/// A certificate shown at the desk, or enrolment at the counter (`enrol_here`, which covers from
/// tomorrow). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/volunteers/{volunteer}/insurance",
    tag = "volunteers",
    params(("id" = i64, Path, description = "The activation."), ("volunteer" = i64, Path, description = "The volunteer.")),
    request_body = InsuranceInput,
    responses((status = 200, description = "The volunteer with their insurance.", body = Volunteer))
)]
async fn insurance(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, volunteer)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<InsuranceInput>,
) -> Result<Json<Volunteer>> {
    let done = write(&state, &centre, move |store, actor| async move {
        volunteers::set_insurance(&store, &actor, id, volunteer, input).await
    })
    .await?;
    Ok(Json(done))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct VolunteerPaper {
    /// The activation.
    activation: i64,
    /// The volunteer.
    volunteer: i64,
}

/// The volunteer card to print (ボランティアカード).
///
/// Name, card code and its QR code, shown at the desk next time: an HTML page with the print style.
/// Coordinators and admins.
#[utoipa::path(
    get,
    path = "/volunteers/card",
    tag = "volunteers",
    params(VolunteerPaper),
    responses((status = 200, description = "The card, a printable page.", content_type = "text/html", body = String))
)]
async fn card(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiQuery(query): ApiQuery<VolunteerPaper>,
) -> Result<Html<String>> {
    let activation = activations::get_one(&state.store, query.activation).await?;
    Ok(Html(
        paper::card(&state.store, &activation, query.volunteer).await?,
    ))
}

/// The activity certificate to print (ボランティア活動証明書).
///
/// Every day the volunteer came, what their teams did and the hours reported, signed by the user
/// printing it. Coordinators and admins.
#[utoipa::path(
    get,
    path = "/volunteers/certificate",
    tag = "volunteers",
    params(VolunteerPaper),
    responses((status = 200, description = "The certificate, a printable page.", content_type = "text/html", body = String))
)]
async fn certificate(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<Centre>,
    ApiQuery(query): ApiQuery<VolunteerPaper>,
) -> Result<Html<String>> {
    let activation = activations::get_one(&state.store, query.activation).await?;
    Ok(Html(
        paper::certificate(&state.store, &activation, query.volunteer, &user.username).await?,
    ))
}

/// Takes a need in (ニーズ受付).
///
/// Usually over the phone. The need is saved even when it looks like an open need with the same
/// phone or address: those come back in `duplicates`, to tell the caller. Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/needs",
    tag = "needs",
    params(("id" = i64, Path, description = "The activation.")),
    request_body = NewNeed,
    responses((status = 201, description = "The need, with look-alike open needs.", body = Received))
)]
async fn receive(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewNeed>,
) -> Result<(StatusCode, Json<Received>)> {
    let done = write(&state, &centre, move |store, actor| async move {
        needs::receive(&store, &actor, id, new).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// The activation's needs, urgent first.
///
/// Urgent needs (危機介入) come first, then by priority, then in the order they came in. Coordinators
/// and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/needs",
    tag = "needs",
    params(("id" = i64, Path, description = "The activation."), needs::Filter),
    responses((status = 200, description = "The needs.", body = Vec<Need>))
)]
async fn list_needs(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<needs::Filter>,
) -> Result<Json<Vec<Need>>> {
    activations::get_one(&state.store, id).await?;
    Ok(Json(needs::list(&state.store, id, filter).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DuplicateQuery {
    /// A phone number as typed.
    #[serde(default)]
    phone: String,
    /// An address as typed.
    #[serde(default)]
    address: String,
}

/// Open needs with this phone or address (before a need is saved).
///
/// What intake warns about, asked before saving. A phone is compared by its digits (6 or more), an
/// address without spaces and with one kind of digit and hyphen. Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/needs/duplicates",
    tag = "needs",
    params(("id" = i64, Path, description = "The activation."), DuplicateQuery),
    responses((status = 200, description = "Look-alike open needs.", body = Vec<Duplicate>))
)]
async fn duplicates(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DuplicateQuery>,
) -> Result<Json<Vec<Duplicate>>> {
    Ok(Json(
        needs::duplicates(&state.store, id, &query.phone, &query.address).await?,
    ))
}

/// One need with its history. Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/needs/{need}",
    tag = "needs",
    params(("id" = i64, Path, description = "The activation."), ("need" = i64, Path, description = "The need.")),
    responses((status = 200, description = "The need and its history, oldest first.", body = NeedRecord))
)]
async fn show_need(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath((id, need)): ApiPath<(i64, i64)>,
) -> Result<Json<NeedRecord>> {
    Ok(Json(needs::get_one(&state.store, id, need).await?))
}

/// A need moved by hand.
#[derive(Deserialize, ToSchema)]
#[schema(as = NeedStatusChange)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    /// The status to move to.
    #[schema(value_type = super::NeedStatusCode)]
    status: String,
    /// Why, at most 1,000 characters: kept in the need's history.
    #[serde(default)]
    #[schema(max_length = 1000)]
    note: String,
}

/// Moves a need by hand (surveyed, done, continuing, cancelled).
///
/// With a note. Allowed: received → surveyed, reported → done or continuing, continuing → done, and
/// received, surveyed or continuing → cancelled. The other steps follow from what teams do; asking
/// for them is refused (409 `status_change_refused`). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/needs/{need}/status",
    tag = "needs",
    params(("id" = i64, Path, description = "The activation."), ("need" = i64, Path, description = "The need.")),
    request_body = StatusChange,
    responses((status = 200, description = "The need.", body = Need))
)]
async fn need_status(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, need)): ApiPath<(i64, i64)>,
    ApiJson(change): ApiJson<StatusChange>,
) -> Result<Json<Need>> {
    let done = write(&state, &centre, move |store, actor| async move {
        needs::set_status(&store, &actor, id, need, &change.status, &change.note).await
    })
    .await?;
    Ok(Json(done))
}

/// The activation's equipment (資機材) and its counts.
///
/// Each item with how many the centre has and how many are at the centre now (the rest are out with
/// teams). Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/equipment",
    tag = "equipment",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "The equipment, by name.", body = Vec<EquipmentStock>))
)]
async fn list_equipment(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<EquipmentStock>>> {
    Ok(Json(equipment::list(&state.store, id).await?))
}

/// Adds an item to the equipment list.
///
/// A name already listed is refused (409 `equipment_exists`: adjust its count instead).
/// Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/equipment",
    tag = "equipment",
    params(("id" = i64, Path, description = "The activation.")),
    request_body = NewItem,
    responses((status = 201, description = "The item.", body = EquipmentStock))
)]
async fn add_equipment(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(item): ApiJson<NewItem>,
) -> Result<(StatusCode, Json<EquipmentStock>)> {
    let done = write(&state, &centre, move |store, actor| async move {
        equipment::add_item(&store, &actor, id, item).await
    })
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// Adds to or takes from an item's count.
///
/// Taking from it: lost, broken, given away. Never below what is at the centre: items out with
/// teams cannot be written off until they are back (409 `equipment_short`). Coordinators and
/// admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/equipment/{item}/adjust",
    tag = "equipment",
    params(("id" = i64, Path, description = "The activation."), ("item" = i64, Path, description = "The item of equipment.")),
    request_body = Adjustment,
    responses((status = 200, description = "The item.", body = EquipmentStock))
)]
async fn adjust_equipment(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, item)): ApiPath<(i64, i64)>,
    ApiJson(adjustment): ApiJson<Adjustment>,
) -> Result<Json<EquipmentStock>> {
    let done = write(&state, &centre, move |store, actor| async move {
        equipment::adjust(&store, &actor, id, item, adjustment).await
    })
    .await?;
    Ok(Json(done))
}

/// Forms a team (班) for a need.
///
/// From volunteers checked in today, taking its equipment from stock; the need becomes matched.
/// Refused (409) when a member is not checked in (`not_checked_in`) or is in another active team
/// (`volunteer_busy`), the need is closed (`need_closed`) or the stock is short
/// (`equipment_short`). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/teams",
    tag = "teams",
    params(("id" = i64, Path, description = "The activation.")),
    request_body = NewTeam,
    responses((status = 201, description = "The new team.", body = Team))
)]
async fn form(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewTeam>,
) -> Result<(StatusCode, Json<Team>)> {
    let team_id = write(&state, &centre, move |store, actor| async move {
        teams::form(&store, &actor, id, new).await
    })
    .await?;
    let done = teams::get_one(&state.store, id, team_id).await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// The activation's teams, newest first.
///
/// At most 500, each with its members and equipment. Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/teams",
    tag = "teams",
    params(("id" = i64, Path, description = "The activation."), teams::Filter),
    responses((status = 200, description = "The teams.", body = Vec<Team>))
)]
async fn list_teams(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<teams::Filter>,
) -> Result<Json<Vec<Team>>> {
    activations::get_one(&state.store, id).await?;
    Ok(Json(teams::list(&state.store, id, filter).await?))
}

/// One team, with its members and equipment. Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/teams/{team}",
    tag = "teams",
    params(("id" = i64, Path, description = "The activation."), ("team" = i64, Path, description = "The team.")),
    responses((status = 200, description = "The team.", body = Team))
)]
async fn show_team(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
) -> Result<Json<Team>> {
    Ok(Json(teams::get_one(&state.store, id, team).await?))
}

/// Prepares a team before it leaves.
///
/// Orientation (オリエンテーション) given, more equipment, the vehicle. Only a team that has not left (409
/// `team_not_formed`). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/teams/{team}/prepare",
    tag = "teams",
    params(("id" = i64, Path, description = "The activation."), ("team" = i64, Path, description = "The team.")),
    request_body = Preparation,
    responses((status = 200, description = "The team.", body = Team))
)]
async fn prepare(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
    ApiJson(preparation): ApiJson<Preparation>,
) -> Result<Json<Team>> {
    let done = write(&state, &centre, move |store, actor| async move {
        teams::prepare(&store, &actor, id, team, preparation).await
    })
    .await?;
    Ok(Json(done))
}

/// Sends a team out (送り出し).
///
/// The need becomes dispatched. The centre's safety rules are checked here (409): a leader
/// (`no_leader`), the orientation given (`orientation_required`), every member insured today
/// (`uninsured_members`). The body may be left out (4 hours out). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/teams/{team}/dispatch",
    tag = "teams",
    params(("id" = i64, Path, description = "The activation."), ("team" = i64, Path, description = "The team.")),
    request_body(content = Option<Dispatch>, description = "Optional: an empty body or `null` takes the defaults."),
    responses((status = 200, description = "The team, out.", body = Team))
)]
async fn dispatch(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
    // `Option`: an empty body and a JSON `null` both take the defaults.
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<Option<Dispatch>>,
) -> Result<Json<Team>> {
    let request = request.unwrap_or_default();
    let done = write(&state, &centre, move |store, actor| async move {
        teams::dispatch(&store, &actor, id, team, request).await
    })
    .await?;
    Ok(Json(done))
}

/// Records a team's return and its return check (帰着).
///
/// The return check: injuries, near misses (ヒヤリハット), everyone back. Only a team that is out (409
/// `team_not_out`). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/teams/{team}/return",
    tag = "teams",
    params(("id" = i64, Path, description = "The activation."), ("team" = i64, Path, description = "The team.")),
    request_body = ReturnCheck,
    responses((status = 200, description = "The team, back.", body = Team))
)]
async fn return_team(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
    ApiJson(check): ApiJson<ReturnCheck>,
) -> Result<Json<Team>> {
    let team_id = write(&state, &centre, move |store, actor| async move {
        teams::return_team(&store, &actor, id, team, check).await
    })
    .await?;
    let done = teams::get_one(&state.store, id, team_id).await?;
    Ok(Json(done))
}

/// Records a team's activity report (活動報告) and closes the team.
///
/// Frees its members, restocks the equipment that came back, and moves the need to reported
/// (`done`) or continuing (`continue`) once no other team is on it. Only after the return check
/// (409 `return_check_required`). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/teams/{team}/report",
    tag = "teams",
    params(("id" = i64, Path, description = "The activation."), ("team" = i64, Path, description = "The team.")),
    request_body = Report,
    responses((status = 200, description = "The closed team.", body = Team))
)]
async fn report(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
    ApiJson(report): ApiJson<Report>,
) -> Result<Json<Team>> {
    let team_id = write(&state, &centre, move |store, actor| async move {
        teams::report(&store, &actor, id, team, report).await
    })
    .await?;
    let done = teams::get_one(&state.store, id, team_id).await?;
    Ok(Json(done))
}

/// Disbands a team that has not left.
///
/// Members free again, equipment back in stock, the need back where it was. Only a team that has
/// not left (409 `team_not_formed`). Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/teams/{team}/disband",
    tag = "teams",
    params(("id" = i64, Path, description = "The activation."), ("team" = i64, Path, description = "The team.")),
    responses((status = 200, description = "The disbanded team.", body = Team))
)]
async fn disband(
    State(state): State<AppState>,
    centre: Allowed<Centre>,
    ApiPath((id, team)): ApiPath<(i64, i64)>,
) -> Result<Json<Team>> {
    let done = write(&state, &centre, move |store, actor| async move {
        teams::disband(&store, &actor, id, team).await
    })
    .await?;
    Ok(Json(done))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DayQuery {
    /// The day, YYYY-MM-DD; today (in Japan) when left out.
    day: Option<String>,
}

/// The day summary the three routes show (JSON, CSV, page), to the centre only: each takes
/// `Allowed<Centre>`.
async fn summary_of(
    state: &AppState,
    activation_id: i64,
    day: Option<&str>,
) -> Result<(Activation, DaySummary)> {
    let activation = activations::get_one(&state.store, activation_id).await?;
    let day = paper::parse_day(day)?;
    let summary = paper::day_summary(&state.store, activation.id, day).await?;
    Ok((activation, summary))
}

/// The day summary (日報).
///
/// One day of the centre in numbers: volunteers, needs, teams, hours, injuries and near misses
/// (ヒヤリハット). Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/day-summary",
    tag = "day-summary",
    params(("id" = i64, Path, description = "The activation."), DayQuery),
    responses((status = 200, description = "The day in numbers.", body = DaySummary))
)]
async fn day_summary(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> Result<Json<DaySummary>> {
    let (_, summary) = summary_of(&state, id, query.day.as_deref()).await?;
    Ok(Json(summary))
}

/// The day summary as CSV.
///
/// UTF-8 with BOM, for Excel: one row per figure, then per category, then each near miss.
/// Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/day-summary/export",
    tag = "day-summary",
    params(("id" = i64, Path, description = "The activation."), DayQuery),
    responses((status = 200, description = "A download, `day-summary-DAY.csv`.", content_type = "text/csv", body = String))
)]
async fn day_summary_export(
    State(state): State<AppState>,
    _: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> Result<Response> {
    let (_, summary) = summary_of(&state, id, query.day.as_deref()).await?;
    let bytes = paper::day_summary_csv(&summary)?;
    Ok(crate::register::paper::csv_download(
        &format!("day-summary-{}.csv", summary.day),
        "text/csv; charset=utf-8",
        bytes,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DayPrintQuery {
    /// The activation.
    activation: i64,
    /// The day, YYYY-MM-DD; today (in Japan) when left out.
    day: Option<String>,
}

/// The day summary as a page to print.
///
/// Stamped with who printed it and when. Coordinators and admins.
#[utoipa::path(
    get,
    path = "/dispatch/day-summary/print",
    tag = "day-summary",
    params(DayPrintQuery),
    responses((status = 200, description = "The day summary, a printable page.", content_type = "text/html", body = String))
)]
async fn day_summary_print(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<Centre>,
    ApiQuery(query): ApiQuery<DayPrintQuery>,
) -> Result<Html<String>> {
    let (activation, summary) = summary_of(&state, query.activation, query.day.as_deref()).await?;
    Ok(Html(paper::day_summary_html(
        &activation,
        &summary,
        &user.username,
    )))
}
