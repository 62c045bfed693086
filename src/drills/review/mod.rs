//! The after-action review (振り返り): the "check" of the drills' PDCA cycle. After a run, a
//! council sees what happened and how fast: a timeline, the time to confirm 50 %, 90 % and
//! 100 % of the register, how long needs waited at each stage, volunteers checked in per hour,
//! shelter fill over time, needs still open at the end, and the same headline figures for
//! earlier runs of the same scenario, so it sees whether it got better.
//!
//! Everything comes from the activation's event log (`figures`, pure functions), read in one
//! snapshot here with the register's size; `chart` draws the SVG and `page` the printable
//! report. A real activation can be reviewed too (after a real event the same questions
//! matter); the comparison lists drills of the same scenario only.
//!
//! Routes, for coordinators and admins: `GET /api/activations/{id}/review` (JSON, with the
//! charts' SVG, see [`Charts`]) and `GET /api/activations/{id}/review/page` (the printable
//! report). Neither is audited: like the day summary (日報), the review holds counts and times
//! only, no personal data; the audit log is for reads of the register's people.

pub mod chart;
pub mod figures;
pub mod page;

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::activations::Activation;
use crate::app::AppState;
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::extract::ApiPath;
use crate::store::{Store, read_tx};

pub use figures::{Figures, Headline, LogEvent, Run};

/// How many earlier runs the comparison shows: the latest ones.
const EARLIER_RUNS: i64 = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(review_json))
        .routes(routes!(review_page))
}

/// The stable key of a scenario file, by which runs of it are compared: the file's stem
/// (`drills/flood-ward.toml` → `flood-ward`). `None` when the name has no stem.
pub fn scenario_key(file: &str) -> Option<String> {
    let stem = std::path::Path::new(file).file_stem()?.to_str()?.trim();
    (!stem.is_empty()).then(|| stem.chars().take(100).collect())
}

/// The after-action review (振り返り) of one activation: its figures, the comparison with
/// earlier drills of the same scenario, and the charts.
#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    pub activation: Activation,
    /// Which safety statuses count as confirmed (安否確認済): `safe_at_home`, `evacuated`,
    /// `needs_help`, `hospital`, `deceased`.
    #[schema(value_type = Vec<String>)]
    pub confirmed_statuses: &'static [&'static str],
    pub figures: Figures,
    /// Earlier drills of the same scenario, oldest first, then this run.
    pub comparison: Vec<Compared>,
    pub charts: Charts,
}

/// One run in the comparison table.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReviewComparedRun)]
pub struct Compared {
    pub activation_id: i64,
    pub name: String,
    pub opened_at: crate::store::Timestamp,
    /// The run under review (the table's last row).
    pub this_run: bool,
    #[serde(flatten)]
    pub headline: Headline,
}

/// The charts as SVG text. The JSON carries the very SVG the printable page inlines, so the
/// web tab shows the same drawing without a second chart implementation in JavaScript; the
/// tab parses it as XML (no HTML parser, no script), and every text in it is escaped here.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReviewCharts)]
pub struct Charts {
    /// The share of the register confirmed over time, with 50 / 90 / 100 % guides.
    pub safety: String,
    /// Check-ins per hour from the start.
    pub checkins: String,
    /// One chart per shelter: places taken against its capacity.
    pub shelters: Vec<ShelterChart>,
}

/// One shelter's chart.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReviewShelterChart)]
pub struct ShelterChart {
    pub shelter_id: i64,
    pub name: String,
    pub svg: String,
}

/// An activation with everything its review needs, read in one snapshot.
struct Loaded {
    activation: Activation,
    log: Vec<LogEvent>,
}

/// Event kinds whose data the figures read; the others are counted by kind only.
fn payload_needed(kind: &str) -> bool {
    kind.starts_with("need_")
        || kind.starts_with("team_")
        || kind.starts_with("shelter_")
        || kind.starts_with("assignment_")
        || kind == "safety_recorded"
        || kind == "register_imported"
}

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    #[sqlx(rename = "type")]
    kind: String,
    payload: String,
    at: crate::store::Timestamp,
}

fn to_log(rows: Vec<Row>) -> Vec<LogEvent> {
    rows.into_iter()
        .map(|r| LogEvent {
            seq: r.seq,
            payload: if payload_needed(&r.kind) {
                serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null)
            } else {
                serde_json::Value::Null
            },
            kind: r.kind,
            at: r.at.0,
        })
        .collect()
}

const ACTIVATION_COLUMNS: &str = concat!(
    "SELECT ",
    crate::activations::activation_columns!(),
    " FROM activations"
);

fn run_of(activation: &Activation, register_total: i64) -> Run {
    Run {
        opened_at: activation.opened_at.0,
        closed_at: activation.closed_at.map(|t| t.0),
        register_total,
    }
}

/// Reads the activation, its log, the earlier runs of its scenario and their logs, and the
/// register's size, in one read transaction (one snapshot), then computes.
pub async fn review(store: &Store, activation_id: i64) -> Result<Review> {
    let (this, earlier, register_total) = read_tx!(store, tx => {
        let activation: Option<Activation> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{ACTIVATION_COLUMNS} WHERE id = $1")))
                .bind(activation_id)
                .fetch_optional(&mut *tx)
                .await?;
        let activation = activation.ok_or(AppError::NotFound("activation"))?;
        let register_total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM register_persons WHERE removed_at IS NULL")
                .fetch_one(&mut *tx)
                .await?;
        // Earlier drills of the same scenario: opened before this one (the latest few).
        let earlier: Vec<Activation> = match &activation.scenario {
            Some(key) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ACTIVATION_COLUMNS} WHERE kind = 'drill' AND scenario = $1 AND id <> $2 \
                 AND (opened_at < $3 OR (opened_at = $3 AND id < $2)) \
                 ORDER BY opened_at DESC, id DESC LIMIT $4"
            )))
            .bind(key)
            .bind(activation.id)
            .bind(activation.opened_at)
            .bind(EARLIER_RUNS)
            .fetch_all(&mut *tx)
            .await?,
            None => Vec::new(),
        };
        let mut loaded = Vec::with_capacity(earlier.len() + 1);
        for a in std::iter::once(activation).chain(earlier.into_iter().rev()) {
            let rows: Vec<Row> = sqlx::query_as(
                "SELECT seq, type, payload, at FROM events WHERE activation_id = $1 ORDER BY seq",
            )
            .bind(a.id)
            .fetch_all(&mut *tx)
            .await?;
            loaded.push(Loaded { activation: a, log: to_log(rows) });
        }
        let this = loaded.remove(0);
        (this, loaded, register_total)
    });
    let figures = figures::compute(run_of(&this.activation, register_total), &this.log);
    let mut comparison: Vec<Compared> = earlier
        .iter()
        .map(|run| Compared {
            activation_id: run.activation.id,
            name: run.activation.name.clone(),
            opened_at: run.activation.opened_at,
            this_run: false,
            headline: figures::compute(run_of(&run.activation, register_total), &run.log)
                .headline(),
        })
        .collect();
    if this.activation.scenario.is_some() {
        comparison.push(Compared {
            activation_id: this.activation.id,
            name: this.activation.name.clone(),
            opened_at: this.activation.opened_at,
            this_run: true,
            headline: figures.headline(),
        });
    }
    let charts = page::charts(&figures);
    Ok(Review {
        activation: this.activation,
        confirmed_statuses: &figures::CONFIRMED,
        figures,
        comparison,
        charts,
    })
}

const CENTRE: &[Role] = &[Role::Coordinator, Role::Admin];

/// The after-action review (振り返り) of an activation. Coordinators and admins.
///
/// Drill or real: times to confirm 50, 90 and 100 % of the register, how long needs waited at each stage, check-ins per hour,
/// shelter fill, needs still open, a timeline, and the headline figures of earlier drills of
/// the same scenario. Counts and times only, no personal data.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/review",
    tag = "review",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "The review, with its charts as SVG.", body = Review))
)]
async fn review_json(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Review>> {
    user.require(CENTRE)?;
    Ok(Json(review(&state.store, id).await?))
}

/// The after-action review as a printable page. Coordinators and admins.
///
/// Charts inline, stamped with who printed it.
#[utoipa::path(
    get,
    path = "/api/activations/{id}/review/page",
    tag = "review",
    params(("id" = i64, Path, description = "The activation.")),
    responses((status = 200, description = "The printable review.", content_type = "text/html", body = String))
)]
async fn review_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Html<String>> {
    user.require(CENTRE)?;
    let review = review(&state.store, id).await?;
    Ok(Html(page::html(&review, &user.username)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_is_known_by_its_file_stem() {
        assert_eq!(
            scenario_key("drills/flood-ward.toml").as_deref(),
            Some("flood-ward")
        );
        assert_eq!(scenario_key("訓練.toml").as_deref(), Some("訓練"));
        assert_eq!(scenario_key(""), None);
    }
}
