//! The shelters' HTTP routes: the registry, opening and closing per activation, assignments
//! and the operator's records, suggestions, and the paper fallback.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::assignments::{self, Assignment, NewAssignment, ShelterList, StatusUpdate, Update};
use super::import::ImportReport;
use super::openings::{self, OpenRequest, ShelterState};
use super::suggest::{self, Confirmation, DistrictPlan, Suggestion};
use super::{Shelter, ShelterFields, paper};
use crate::activations;
use crate::app::AppState;
use crate::auth::{AdminOnly, Allowed, Centre, CurrentUser, Role, Staff};
use crate::error::{AppError, Result};
use crate::extract::{ApiJson, ApiJsonOrEmpty, ApiPath, ApiQuery};

/// The centre: coordinators and admins. Routes check roles before they look anything up, so
/// a refused role learns nothing, not even whether an activation exists.
const CENTRE: &[Role] = &[Role::Coordinator, Role::Admin];

/// A facility list is hundreds of rows; this is far more than any.
const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, import) = routes!(import_list);
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes((
            schemas,
            paths,
            import.layer(axum::extract::DefaultBodyLimit::max(MAX_LIST_BYTES)),
        ))
        .routes(routes!(states))
        .routes(routes!(open))
        .routes(routes!(close))
        .routes(routes!(shelter_list))
        .routes(routes!(export))
        .routes(routes!(print))
        .routes(routes!(assignment_list, assign))
        .routes(routes!(plan))
        .routes(routes!(confirm))
        .routes(routes!(record_status))
        .routes(routes!(suggestions))
}

/// The shelter registry, by name.
///
/// Every welfare shelter (福祉避難所) with its capacity, who it takes in and what it has.
/// Any role.
#[utoipa::path(
    get,
    path = "/api/shelters",
    tag = "shelters",
    responses((status = 200, description = "The registry, by name.", body = Vec<Shelter>))
)]
async fn list(State(state): State<AppState>, _user: CurrentUser) -> Result<Json<Vec<Shelter>>> {
    Ok(Json(super::list(&state.store).await?))
}

/// One shelter of the registry.
///
/// Any role.
#[utoipa::path(
    get,
    path = "/api/shelters/{id}",
    tag = "shelters",
    params(("id" = i64, Path, description = "The shelter.")),
    responses((status = 200, description = "The shelter.", body = Shelter))
)]
async fn show(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Shelter>> {
    Ok(Json(super::get_one(&state.store, id).await?))
}

/// Adds a shelter to the registry.
///
/// Admins only. A name already in the registry is refused (409 `shelter_exists`): the
/// facility list import matches shelters by name.
#[utoipa::path(
    post,
    path = "/api/shelters",
    tag = "shelters",
    request_body = ShelterFields,
    responses((status = 201, description = "The new shelter.", body = Shelter))
)]
async fn create(
    State(state): State<AppState>,
    _admin: Allowed<AdminOnly>,
    ApiJson(fields): ApiJson<ShelterFields>,
) -> Result<(StatusCode, Json<Shelter>)> {
    let store = state.store.clone();
    let shelter = state
        .commit(async move { Ok((super::create(&store, fields).await?, vec![])) })
        .await?;
    Ok((StatusCode::CREATED, Json(shelter)))
}

/// Replaces a shelter's fields.
///
/// All of them: a field left out is emptied. Admins only. The boards of every open
/// activation show the change at once. Another shelter's name is refused (409
/// `shelter_exists`).
#[utoipa::path(
    put,
    path = "/api/shelters/{id}",
    tag = "shelters",
    params(("id" = i64, Path, description = "The shelter.")),
    request_body = ShelterFields,
    responses((status = 200, description = "The shelter as saved.", body = Shelter))
)]
async fn update(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<AdminOnly>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(fields): ApiJson<ShelterFields>,
) -> Result<Json<Shelter>> {
    let store = state.store.clone();
    let actor = user.actor();
    let shelter = state
        .commit(async move { super::update(&store, id, fields, &actor).await })
        .await?;
    Ok(Json(shelter))
}

/// The shelters of an activation, with their places.
///
/// Every shelter of the registry: open, closed or not opened in this activation, with its
/// capacity, people assigned and people arrived. Numbers only, never people. Any role.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/shelters",
    tag = "shelters",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "The shelters, by name.", body = Vec<ShelterState>))
)]
async fn states(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ShelterState>>> {
    activations::get_one(&state.store, id).await?;
    Ok(Json(openings::states(&state.store, id).await?))
}

/// Opens a shelter in an activation (開設).
///
/// Or changes the capacity of one already open. The centre (coordinators, admins) or the
/// shelter's own operator. The body is optional.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/shelters/{shelter}/open",
    tag = "shelters",
    params(("id" = i64, Path, description = "The activation."), ("shelter" = i64, Path, description = "The shelter (registry id).")),
    request_body(content = Option<OpenRequest>, description = "Optional: a capacity for this activation."),
    responses((status = 200, description = "The shelter as the board now shows it.", body = ShelterState))
)]
async fn open(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<Staff>,
    ApiPath((id, shelter)): ApiPath<(i64, i64)>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<Option<OpenRequest>>,
) -> Result<Json<ShelterState>> {
    // `null` is no options, as an empty body is: the document allows both.
    let request = request.unwrap_or_default();
    let store = state.store.clone();
    let opened = state
        .commit(async move {
            let (state, event) = openings::open(&store, &user, id, shelter, request).await?;
            Ok((state, vec![event]))
        })
        .await?;
    Ok(Json(opened))
}

/// Closes a shelter in an activation (閉鎖).
///
/// No one new is assigned to it; people already there stay assigned until the operator
/// records that they left. The centre or the shelter's own operator. A shelter that is not
/// open is refused (409 `shelter_not_open`).
#[utoipa::path(
    post,
    path = "/api/activations/{id}/shelters/{shelter}/close",
    tag = "shelters",
    params(("id" = i64, Path, description = "The activation."), ("shelter" = i64, Path, description = "The shelter (registry id).")),
    responses((status = 200, description = "The shelter as the board now shows it.", body = ShelterState))
)]
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

/// The people assigned to one shelter (受入者一覧).
///
/// Awaiting arrival first, with their care needs and the operator's records. The shelter's
/// own operator sees all of them; a coordinator or admin sees those the register lets them
/// see, the others only counted (`hidden`). Each read is audited.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/shelters/{shelter}/assignments",
    tag = "shelters",
    params(("id" = i64, Path, description = "The activation."), ("shelter" = i64, Path, description = "The shelter (registry id).")),
    responses((status = 200, description = "The shelter and its people.", body = ShelterList))
)]
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

/// One shelter's people as CSV.
///
/// The list above as a download (UTF-8 with BOM, opens in Excel), for the paper fallback.
/// Same rules as the list; audited.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/shelters/{shelter}/assignments/export",
    tag = "shelters",
    params(("id" = i64, Path, description = "The activation."), ("shelter" = i64, Path, description = "The shelter (registry id).")),
    responses((status = 200, description = "The CSV file (`Content-Disposition: attachment`).", content_type = "text/csv", body = String))
)]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PrintQuery {
    /// The activation.
    activation: i64,
    /// The shelter (registry id).
    shelter: i64,
}

/// One shelter's people as a printable page.
///
/// The shelter's paper copy for when the network is down, stamped with who printed it and
/// when, with a box to tick at arrival. Same rules as the list; audited.
#[utoipa::path(
    get,
    path = "/shelters/print",
    tag = "shelters",
    params(PrintQuery),
    responses((status = 200, description = "The printable page.", content_type = "text/html", body = String))
)]
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

/// Places a register person in a shelter.
///
/// Or moves them to another: the earlier assignment is kept as history. Coordinators and
/// admins. A closed or full shelter is refused (409 `shelter_closed`, `shelter_full`) unless
/// an admin gives an `override_reason`; in a drill only people who consented to sharing can
/// be assigned (409 `consent_required`).
#[utoipa::path(
    post,
    path = "/api/activations/{id}/assignments",
    tag = "shelter_assignments",
    params(("id" = i64, Path, description = "The activation.")),
    request_body = NewAssignment,
    responses((status = 201, description = "The new assignment.", body = Assignment))
)]
async fn assign(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewAssignment>,
) -> Result<(StatusCode, Json<Assignment>)> {
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AssignmentQuery {
    /// A person's resident number (宛名番号): their history instead of everyone's current
    /// placement.
    resident_id: Option<String>,
}

/// A person's assignment history, or everyone's current placement.
#[derive(Serialize)]
#[serde(untagged)]
enum AssignmentListing {
    History(Vec<Assignment>),
    Active(Vec<ActiveEntry>),
}

/// Either list, described as "any of" rather than utoipa's "one of" for untagged enums: an
/// empty list is both, which "one of" would call a mismatch.
impl utoipa::PartialSchema for AssignmentListing {
    fn schema() -> RefOr<Schema> {
        let list_of = |name: &str| {
            ArrayBuilder::new()
                .items(Ref::from_schema_name(name))
                .build()
        };
        AnyOfBuilder::new()
            .item(list_of("ShelterAssignment"))
            .item(list_of("ActiveAssignment"))
            .description(Some(
                "With `resident_id`: that person's assignments, oldest first. Without: every \
                 active assignment of the activation.",
            ))
            .into()
    }
}

impl ToSchema for AssignmentListing {
    fn name() -> std::borrow::Cow<'static, str> {
        "ShelterAssignmentListing".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            Assignment::name().into(),
            <Assignment as utoipa::PartialSchema>::schema(),
        ));
        <Assignment as ToSchema>::schemas(schemas);
        schemas.push((
            ActiveEntry::name().into(),
            <ActiveEntry as utoipa::PartialSchema>::schema(),
        ));
        <ActiveEntry as ToSchema>::schemas(schemas);
    }
}

/// Where a person is placed now, as ids (no names: the screens look people up themselves).
#[derive(Serialize, ToSchema)]
#[schema(as = ActiveAssignment)]
struct ActiveEntry {
    resident_id: String,
    shelter_id: i64,
    /// `assigned`, `arrived`, `not_arrived`, `left` or `transferred`.
    status: String,
}

/// Who is placed where.
///
/// With `resident_id`: that person's assignments, oldest first (the reassignment history).
/// Without: every active assignment as ids and status (the coordinator's screens mark people
/// with it). Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/assignments",
    tag = "shelter_assignments",
    params(("id" = i64, Path, description = "The activation."), AssignmentQuery),
    responses((status = 200, description = "With `resident_id`: `ShelterAssignment`s; without: `ActiveAssignment`s.", body = AssignmentListing))
)]
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

/// Records arrival, non-arrival, leaving or transfer for an assignment.
///
/// The shelter operator's record: arrived (到着), not arrived (未到着), left (退所) or
/// transferred (移送). Arrival also records the person's safety status as evacuated, a
/// transfer to hospital as hospital. The centre, or the operator of the assignment's shelter
/// (another shelter's assignment answers 404). A superseded assignment is refused (409
/// `assignment_superseded`).
#[utoipa::path(
    post,
    path = "/api/activations/{id}/assignments/{assignment}/status",
    tag = "shelter_assignments",
    params(("id" = i64, Path, description = "The activation."), ("assignment" = i64, Path, description = "The assignment.")),
    request_body = StatusUpdate,
    responses((status = 201, description = "The record as saved.", body = Update))
)]
async fn record_status(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<Staff>,
    ApiPath((id, assignment)): ApiPath<(i64, i64)>,
    ApiJson(update): ApiJson<StatusUpdate>,
) -> Result<(StatusCode, Json<Update>)> {
    let activation = activations::get_one(&state.store, id).await?;
    let store = state.store.clone();
    let saved = state
        .commit(async move {
            assignments::record_status(&store, &user, &activation, assignment, update).await
        })
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SuggestionQuery {
    /// The person's resident number (宛名番号).
    resident_id: String,
}

/// The open shelters ranked for one person.
///
/// A free place first, then the shelter of their individual evacuation plan (個別避難計画),
/// then how well it fits their needs, then more free places, then the shorter distance; each
/// with its reasons in words. Full shelters come last (`available` false). Coordinators and
/// admins, for a person they may see.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/suggestions",
    tag = "shelter_assignments",
    params(("id" = i64, Path, description = "The activation."), SuggestionQuery),
    responses((status = 200, description = "The open shelters, best first.", body = Vec<Suggestion>))
)]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PlanQuery {
    /// The district (地区) to plan, as the register writes it; empty for people with no
    /// district. Required.
    #[param(required = true)]
    district: Option<String>,
}

/// Plans a whole district's placements (preview).
///
/// Every person without a place gets the top suggestion among the places still free,
/// people who asked for help first. Nothing is written until the plan is confirmed
/// (`POST /api/activations/{id}/assignments/batch`). Coordinators and admins.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/assignments/plan",
    tag = "shelter_assignments",
    params(("id" = i64, Path, description = "The activation."), PlanQuery),
    responses((status = 200, description = "The plan.", body = DistrictPlan))
)]
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

/// Confirms a previewed district plan.
///
/// Every placement or none: a placement that no longer holds (someone took the last place
/// meanwhile) refuses the whole batch, naming it (409, or 400 for a person or shelter not
/// found), so the coordinator previews again. Coordinators and admins.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/assignments/batch",
    tag = "shelter_assignments",
    params(("id" = i64, Path, description = "The activation.")),
    request_body = Confirmation,
    responses((status = 201, description = "The assignments made, in the order given.", body = Vec<Assignment>))
)]
async fn confirm(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(confirmation): ApiJson<Confirmation>,
) -> Result<(StatusCode, Json<Vec<Assignment>>)> {
    let activation = activations::get_one(&state.store, id).await?;
    let store = state.store.clone();
    let made = state
        .commit(async move { suggest::confirm(&store, &user, &activation, confirmation).await })
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// Read and report, change nothing.
    #[serde(default)]
    dry_run: bool,
    /// Import the valid rows even when others are invalid.
    #[serde(default)]
    allow_invalid: bool,
    /// `auto` (the default: detected), `utf-8` or `cp932` (Shift_JIS).
    encoding: Option<String>,
}

/// The facility list as a form (`multipart/form-data`).
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used: `register::read_upload` reads the form.
struct ShelterListUpload {
    /// The CSV file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The municipality's own headers mapped to ours, as TOML:
    /// `[columns] "施設の名前" = "name"`.
    mapping: Option<String>,
}

/// Imports the municipality's facility list (福祉避難所一覧).
///
/// Admins only. The body is the CSV file itself (UTF-8 or CP932, detected), or a form with
/// the file in `file` and optionally the municipality's own headers mapped in `mapping`
/// (TOML), as for the register. Shelters are matched by name (施設名); one missing from the
/// file stays in the registry. A file with invalid rows imports nothing unless
/// `allow_invalid`; a file that cannot be read at all is a 400 saying why.
#[utoipa::path(
    post,
    path = "/api/shelters/imports",
    tag = "shelters",
    params(ImportQuery),
    request_body(
        description = "The facility list (at most 16 MiB).",
        content(
            (String = "text/csv"),
            (ShelterListUpload = "multipart/form-data")
        )
    ),
    responses((status = 200, description = "What the list holds, and whether it was imported.", body = ImportReport))
)]
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
