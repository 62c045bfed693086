//! The register's HTTP routes: imports, persons, safety confirmation, disclosure.

use std::io::{Seek, SeekFrom};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::import::{EncodingChoice, ImportOptions, RegisterFile};
use super::{commit, disclosure, paper, persons, safety};
use crate::app::AppState;
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

/// A municipality's whole register: a million rows is about 150 MB of CSV.
const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/register/imports",
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/api/register/persons", get(list_persons))
        .route("/api/register/persons/{resident_id}", get(show_person))
        .route("/api/register/export", get(export))
        .route("/register/print", get(print))
        .route(
            "/api/activations/{id}/safety",
            post(record_safety).get(safety_counts),
        )
        .route(
            "/api/activations/{id}/disclosure",
            get(show_disclosure).post(declare_disclosure),
        )
        .route("/api/activations/{id}/disclosure/end", post(end_disclosure))
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

/// The file as the body (`text/csv`), or as a form (`multipart/form-data`) with the file in a
/// part named `file` and, optionally, the municipality's header mapping (TOML) in `mapping`.
/// The file is spooled to a temporary file as it arrives, never held in memory.
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

async fn list_persons(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(filter): ApiQuery<persons::Filter>,
) -> Result<Json<Vec<persons::PersonView>>> {
    super::visibility::may_see_register(&user)?;
    Ok(Json(persons::list(&state.store, &user, filter).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonQuery {
    activation: Option<i64>,
}

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

async fn record_safety(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(check): ApiJson<safety::NewCheck>,
) -> Result<(StatusCode, Json<safety::Check>)> {
    user.require(&[Role::Coordinator, Role::Admin])?;
    let store = state.store.clone();
    let saved = state
        .commit(async move {
            let (check, event) = safety::record(&store, &user, id, check).await?;
            Ok((check, vec![event]))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

async fn safety_counts(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<safety::DistrictCounts>>> {
    crate::activations::get_one(&state.store, id).await?;
    Ok(Json(safety::counts(&state.store, id).await?))
}

async fn show_disclosure(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Option<super::visibility::Disclosure>>> {
    crate::activations::get_one(&state.store, id).await?;
    Ok(Json(
        super::visibility::active_disclosure(&state.store, id).await?,
    ))
}

async fn declare_disclosure(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<disclosure::Declaration>,
) -> Result<(StatusCode, Json<super::visibility::Disclosure>)> {
    user.require(&[Role::Admin])?;
    let store = state.store.clone();
    let declared = state
        .commit(async move {
            let (d, event) = disclosure::declare(&store, &user, id, body).await?;
            Ok((d, vec![event]))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(declared)))
}

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
