//! The register's HTTP routes: imports, persons, safety confirmation, disclosure.

use std::io::{Seek, SeekFrom};

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::import::{EncodingChoice, ImportOptions, RegisterFile};
use super::visibility::Disclosure;
use super::{commit, disclosure, paper, persons, safety};
use crate::app::AppState;
use crate::auth::{AdminOnly, Allowed, Centre, CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// A municipality's whole register: a million rows is about 150 MB of CSV.
const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, method) = routes!(import);
    OpenApiRouter::new()
        .routes((
            schemas,
            paths,
            method.layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        ))
        .routes(routes!(list_persons))
        .routes(routes!(show_person))
        .routes(routes!(export))
        .routes(routes!(print))
        .routes(routes!(record_safety, safety_counts))
        .routes(routes!(show_disclosure, declare_disclosure))
        .routes(routes!(end_disclosure))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// Read and compare only: the report says what a commit would do, nothing is written.
    #[serde(default)]
    dry_run: bool,
    /// Commit the valid rows of a file that has invalid ones (the people the invalid rows
    /// name are kept as they were). Without it such a file commits nothing.
    #[serde(default)]
    allow_invalid: bool,
    /// The file's encoding: `auto` (the default: UTF-8 with or without a BOM, else CP932),
    /// `utf-8` or `cp932` (also `shift_jis`, `sjis`).
    encoding: Option<String>,
}

/// The form an import may be sent as, instead of the file as the whole body. Only its
/// schema is used: the parts are read one by one as they arrive.
#[derive(ToSchema)]
#[schema(as = RegisterUploadForm)]
#[allow(dead_code)]
struct UploadForm {
    /// The register's CSV file, as exported by the municipality's system.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The municipality's header mapping (TOML, UTF-8), for exports whose headers the
    /// server does not know.
    mapping: Option<String>,
}

/// An import that was not committed: its report (the file had invalid rows and
/// `allow_invalid` was not given), or an error (the Idempotency-Key was used before with
/// another request). Only its schema is used.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
enum ImportRefused {
    Report(commit::ImportReport),
    Error(crate::openapi::ErrorBody),
}

pub fn encoding_choice(name: Option<&str>) -> Result<EncodingChoice> {
    match name.unwrap_or("auto") {
        "auto" => Ok(EncodingChoice::Auto),
        "utf-8" | "utf8" => Ok(EncodingChoice::Utf8),
        "cp932" | "shift_jis" | "sjis" => Ok(EncodingChoice::Cp932),
        other => Err(AppError::invalid(
            "encoding",
            format!("unknown encoding {other:?}: use auto, utf-8 or cp932"),
        )),
    }
}

/// Imports the support-needed register (避難行動要支援者名簿). Admins only.
///
/// The municipality's CSV export. The file is the whole body (`text/csv`), or a form (`multipart/form-data`) with the file
/// in a part named `file` and, optionally, the municipality's header mapping (TOML) in
/// `mapping`. UTF-8 (with or without a BOM) and CP932 (Shift_JIS) are read. The file
/// replaces the register: people missing from it are marked removed, never deleted. Send it
/// with `dry_run=true` first to see what would change. Up to 256 MB.
#[utoipa::path(
    post,
    path = "/api/register/imports",
    tag = "register",
    params(ImportQuery),
    request_body(
        description = "The register's CSV file, as the body or as a form.",
        content(
            (String = "text/csv"),
            (UploadForm = "multipart/form-data")
        )
    ),
    responses(
        (status = 200, description = "Committed, or a dry run: what was (or would be) done.", body = commit::ImportReport),
        (status = 422, description = "Not committed: the file has invalid rows (listed in the report's `invalid`) and `allow_invalid` was not given; or the Idempotency-Key was used before with another request.", body = ImportRefused)
    )
)]
async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(query): ApiQuery<ImportQuery>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<commit::ImportReport>)> {
    user.require(&[Role::Admin])?;
    let (file, mapping) = read_upload(request, &state).await?;
    let mapping = match mapping {
        Some(text) => Some(
            super::import::parse_mapping(&text)
                .map_err(|e| AppError::invalid("mapping", e.to_string()))?,
        ),
        None => None,
    };
    let options = ImportOptions {
        encoding: encoding_choice(query.encoding.as_deref())?,
        mapping,
        ..ImportOptions::default()
    };
    // Reading a large file through is CPU work: keep it off the async threads.
    let file = tokio::task::spawn_blocking(move || RegisterFile::open(file, &options))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("import parser failed: {e}")))?
        .map_err(|e| AppError::invalid("file", e.to_string()))?;
    let store = state.store.clone();
    let actor = user.actor();
    let report = state
        .commit(async move {
            commit::import(&store, file, query.dry_run, query.allow_invalid, &actor).await
        })
        .await?;
    let status = if report.committed || query.dry_run {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report)))
}

/// Lists the register's people. Coordinators and admins.
///
/// Unconfirmed people first, then by district and kana: the list a safety sweep (安否確認)
/// works through. Admins see everyone. Coordinators see the people who consented to sharing
/// (情報提供同意), and the others only in a real activation (`activation=ID`) while an
/// admin's disclosure declaration is in force; never in a drill. Every list is recorded in
/// the audit log.
#[utoipa::path(
    get,
    path = "/api/register/persons",
    tag = "register",
    params(persons::Filter),
    responses((status = 200, description = "The people the user may see.", body = Vec<persons::PersonView>))
)]
async fn list_persons(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(filter): ApiQuery<persons::Filter>,
) -> Result<Json<Vec<persons::PersonView>>> {
    super::visibility::may_see_register(&user)?;
    Ok(Json(persons::list(&state.store, &user, filter).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PersonQuery {
    /// The activation whose safety status and history to include (and whose disclosure
    /// applies).
    activation: Option<i64>,
}

/// One person's record. Coordinators and admins.
///
/// With their safety history in an activation when one is given. A person the user may not
/// see answers 404 like an unknown one. Every read is recorded in the audit log.
#[utoipa::path(
    get,
    path = "/api/register/persons/{resident_id}",
    tag = "register",
    params(
        ("resident_id" = String, Path, description = "The person's 宛名番号, as in the register."),
        PersonQuery
    ),
    responses((status = 200, description = "The person.", body = persons::PersonRecord))
)]
async fn show_person(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(resident_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<PersonQuery>,
) -> Result<Json<persons::PersonRecord>> {
    super::visibility::may_see_register(&user)?;
    Ok(Json(
        persons::get(&state.store, &user, &resident_id, query.activation).await?,
    ))
}

/// Records a person's safety status (安否確認). Coordinators and admins.
///
/// For people the user may see (others answer 404); a person removed from the register
/// answers 409 `person_removed`. The board gets the district's new counts, never the name.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/safety",
    tag = "safety",
    params(("id" = i64, Path, description = "The activation.")),
    request_body = safety::NewCheck,
    responses((status = 201, description = "The recorded check.", body = safety::Check))
)]
async fn record_safety(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<Centre>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(check): ApiJson<safety::NewCheck>,
) -> Result<(StatusCode, Json<safety::Check>)> {
    let store = state.store.clone();
    let saved = state
        .commit(async move {
            let (check, event) = safety::record(&store, &user, id, check).await?;
            Ok((check, vec![event]))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// Safety counts by district and status. Every role.
///
/// Numbers only, no names: the board shows them.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/safety",
    tag = "safety",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "One entry per district, by district.", body = Vec<safety::DistrictCounts>))
)]
async fn safety_counts(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<safety::DistrictCounts>>> {
    crate::activations::get_one(&state.store, id).await?;
    Ok(Json(safety::counts(&state.store, id).await?))
}

/// The disclosure declaration in force, if any. Every role.
///
/// Who declared it, why, and until when; `null` when none is in force. The board shows it.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/disclosure",
    tag = "disclosure",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "The declaration in force, or null.", body = Option<Disclosure>))
)]
async fn show_disclosure(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Option<Disclosure>>> {
    crate::activations::get_one(&state.store, id).await?;
    Ok(Json(
        super::visibility::active_disclosure(&state.store, id).await?,
    ))
}

/// Declares a disclosure of the register. Admins only.
///
/// In a disaster (災害対策基本法 49条の11 第3項): for the stated hours, coordinators see the
/// people who did not consent to sharing too. Real activations only (a drill answers 409
/// `drill_never_discloses`). A new declaration replaces the one in force. Audited and
/// announced on the board, without names.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/disclosure",
    tag = "disclosure",
    params(("id" = i64, Path, description = "The activation.")),
    request_body = disclosure::Declaration,
    responses((status = 201, description = "The declaration, now in force.", body = Disclosure))
)]
async fn declare_disclosure(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<AdminOnly>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<disclosure::Declaration>,
) -> Result<(StatusCode, Json<Disclosure>)> {
    let store = state.store.clone();
    let declared = state
        .commit(async move {
            let (d, event) = disclosure::declare(&store, &user, id, body).await?;
            Ok((d, vec![event]))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(declared)))
}

/// Ends the disclosure in force. Admins only.
///
/// Before its time: coordinators see consented people only again. None in force answers 409
/// `no_disclosure`.
#[utoipa::path(
    post,
    path = "/api/activations/{id}/disclosure/end",
    tag = "disclosure",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 204, description = "Ended."))
)]
async fn end_disclosure(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode> {
    user.require(&[Role::Admin])?;
    let store = state.store.clone();
    state
        .commit(async move {
            let event = disclosure::end(&store, &user, id).await?;
            Ok(((), vec![event]))
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The register as a CSV file. Coordinators and admins.
///
/// The paper fallback for when power or the network fails: UTF-8 with a BOM (opens in Excel) or CP932, in the columns the import reads back, with
/// each person's safety status in the activation given. The same people as the list
/// (coordinators: consented people only unless a disclosure applies); people removed from
/// the register are left out. Audited.
#[utoipa::path(
    get,
    path = "/api/register/export",
    tag = "register",
    params(paper::PaperQuery),
    responses((status = 200, description = "The CSV file, as a download (`Content-Disposition: attachment`).", content_type = "text/csv", body = String))
)]
async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(query): ApiQuery<paper::PaperQuery>,
) -> Result<axum::response::Response> {
    super::visibility::may_see_register(&user)?;
    let cp932 = matches!(
        query.encoding.as_deref(),
        Some("cp932" | "shift_jis" | "sjis")
    );
    let (file_name, bytes) = paper::export(&state.store, &user, &query).await?;
    let content_type = if cp932 {
        "text/csv; charset=Shift_JIS"
    } else {
        "text/csv; charset=utf-8"
    };
    Ok(paper::csv_download(&file_name, content_type, bytes))
}

/// Printable district lists (地区別名簿). Coordinators and admins.
///
/// For a safety sweep on paper, stamped with who printed them and when. The same people as
/// the export. Audited.
#[utoipa::path(
    get,
    path = "/register/print",
    tag = "register",
    params(paper::PaperQuery),
    responses((status = 200, description = "The printable page.", content_type = "text/html", body = String))
)]
async fn print(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(query): ApiQuery<paper::PaperQuery>,
) -> Result<axum::response::Html<String>> {
    super::visibility::may_see_register(&user)?;
    Ok(axum::response::Html(
        paper::print(&state.store, &user, &query).await?,
    ))
}

/// The uploaded file, spooled to a temporary file (deleted when closed) and rewound, and the
/// optional mapping text, from a plain body or a form. The route's body limit holds for both.
pub(crate) async fn read_upload(
    request: axum::extract::Request,
    state: &AppState,
) -> Result<(std::fs::File, Option<String>)> {
    use axum::RequestExt;
    use axum::extract::{FromRequest, Multipart};
    use futures_util::TryStreamExt;
    let limit = crate::error::refuse_declared_oversize(&request)?;
    let too_large = |status: axum::http::StatusCode| {
        limit
            .filter(|_| status == axum::http::StatusCode::PAYLOAD_TOO_LARGE)
            .map(|limit| AppError::TooLarge { limit })
    };
    let is_form = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_form {
        let mut body = request.into_limited_body().into_data_stream();
        let mut spool = Spool::new().await?;
        // Worded as axum words it when a body cannot be buffered whole.
        let unreadable = |e: axum::Error| match limit {
            Some(limit) if crate::error::is_length_limit(&e) => AppError::TooLarge { limit },
            _ => AppError::invalid("file", format!("Failed to buffer the request body: {e}")),
        };
        while let Some(bytes) = body.try_next().await.map_err(unreadable)? {
            spool.write(&bytes).await?;
        }
        return Ok((spool.finish().await?, None));
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| AppError::invalid("file", e.body_text()))?;
    let (mut file, mut mapping) = (None, None);
    while let Some(mut part) = form.next_field().await.map_err(|e| {
        too_large(e.status()).unwrap_or_else(|| AppError::invalid("file", e.body_text()))
    })? {
        match part.name() {
            Some("file") => {
                let mut spool = Spool::new().await?;
                while let Some(bytes) = part.chunk().await.map_err(|e| {
                    too_large(e.status())
                        .unwrap_or_else(|| AppError::invalid("file", e.body_text()))
                })? {
                    spool.write(&bytes).await?;
                }
                file = Some(spool.finish().await?);
            }
            Some("mapping") => {
                let bytes = part.bytes().await.map_err(|e| {
                    too_large(e.status())
                        .unwrap_or_else(|| AppError::invalid("mapping", e.body_text()))
                })?;
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                    AppError::invalid("mapping", "the mapping file must be UTF-8 text (TOML)")
                })?;
                mapping = Some(text).filter(|t| !t.trim().is_empty());
            }
            _ => {}
        }
    }
    let file = file.ok_or_else(|| AppError::invalid("file", "the form has no part named file"))?;
    Ok((file, mapping))
}

/// An upload on its way to a temporary file, written a block at a time.
struct Spool(tokio::io::BufWriter<tokio::fs::File>);

impl Spool {
    async fn new() -> Result<Spool> {
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("spooling failed: {e}")))?
            .map_err(|e| {
                AppError::Internal(
                    anyhow::Error::from(e).context("cannot create a temporary file for the upload"),
                )
            })?;
        Ok(Spool(tokio::io::BufWriter::with_capacity(
            1 << 20,
            tokio::fs::File::from_std(file),
        )))
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        self.0.write_all(bytes).await.map_err(|e| {
            AppError::Internal(anyhow::Error::from(e).context("cannot spool the upload"))
        })
    }

    /// The spooled file, rewound for reading.
    async fn finish(mut self) -> Result<std::fs::File> {
        use tokio::io::AsyncWriteExt;
        let spooled = async {
            self.0.flush().await?;
            let mut file = self.0.into_inner().into_std().await;
            file.seek(SeekFrom::Start(0))?;
            Ok::<_, std::io::Error>(file)
        };
        spooled.await.map_err(|e| {
            AppError::Internal(anyhow::Error::from(e).context("cannot spool the upload"))
        })
    }
}
