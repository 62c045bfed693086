//! The matching board (マッチングボード): the volunteer centre's section of the live board.
//! Needs by status and priority, teams out with their times, volunteers checked in, waiting
//! and out, equipment in stock. Districts, categories, numbers and times only: a requester's
//! name, address and phone, and a volunteer's name, stay in the API.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::Timestamp;

/// Today's volunteers by where they are.
#[derive(Clone, Debug, Default, Serialize, sqlx::FromRow, PartialEq)]
pub struct VolunteerCounts {
    /// The day counted (in Japan), YYYY-MM-DD.
    #[sqlx(skip)]
    pub day: String,
    pub checked_in: i64,
    /// Checked in, in no team yet, not gone home.
    pub waiting: i64,
    /// In a team that has not left yet (orientation, equipment).
    pub in_team: i64,
    /// In a team out at a site.
    pub out: i64,
    /// Back at the centre, their team's report not yet made.
    pub returned: i64,
    /// Gone home.
    pub left: i64,
}

/// `$1` activation, `$2` day.
pub const VOLUNTEER_COUNTS_SQL: &str = "SELECT COUNT(*) AS checked_in, \
     COALESCE(SUM(CASE WHEN c.left_at IS NULL AND t.status IS NULL THEN 1 ELSE 0 END), 0) AS waiting, \
     COALESCE(SUM(CASE WHEN t.status = 'formed' THEN 1 ELSE 0 END), 0) AS in_team, \
     COALESCE(SUM(CASE WHEN t.status = 'dispatched' THEN 1 ELSE 0 END), 0) AS out, \
     COALESCE(SUM(CASE WHEN t.status = 'returned' THEN 1 ELSE 0 END), 0) AS returned, \
     COALESCE(SUM(CASE WHEN c.left_at IS NOT NULL AND t.status IS NULL THEN 1 ELSE 0 END), 0) AS \"left\" \
     FROM checkins c \
     LEFT JOIN team_members m ON m.volunteer_id = c.volunteer_id AND m.active = TRUE \
     LEFT JOIN teams t ON t.id = m.team_id \
     WHERE c.activation_id = $1 AND c.day = $2";

/// A need as the board shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, PartialEq)]
pub struct NeedCard {
    pub id: i64,
    pub district: String,
    pub category: String,
    pub people_needed: i64,
    #[sqlx(skip)]
    pub skills_needed: Vec<String>,
    #[sqlx(rename = "skills_needed")]
    #[serde(skip)]
    pub skills_json: String,
    pub priority: String,
    pub urgent: bool,
    pub requires_care: bool,
    pub status: String,
    pub received_at: Timestamp,
}

/// The start of both need-card queries (a macro so that `concat!` can join it at compile time).
macro_rules! need_card_select {
    () => {
        "SELECT id, district, category, people_needed, skills_needed, priority, urgent, \
     requires_care, status, received_at FROM needs WHERE activation_id = $1 AND "
    };
}

/// The open needs (everything but done and cancelled) of activation `$1`, for a snapshot.
pub const NEED_CARDS_SQL: &str = concat!(
    need_card_select!(),
    "status NOT IN ('done', 'cancelled') \
     ORDER BY urgent DESC, CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END, id"
);

/// The need `$2` whatever its status, for an event. A query of its own rather than an `OR`
/// in the one above: with the `OR`, SQLite walked every need of the activation on each write.
pub const NEED_CARD_SQL: &str = concat!(need_card_select!(), "id = $2");

/// A team as the board shows it: its name, its need's district and category, how many.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, PartialEq)]
pub struct TeamCard {
    pub id: i64,
    pub name: String,
    pub need_id: i64,
    pub district: String,
    pub category: String,
    pub members: i64,
    pub status: String,
    pub orientation_done: bool,
    pub formed_at: Timestamp,
    pub dispatched_at: Option<Timestamp>,
    /// When the team said it would be back: later than this and still out is overdue.
    pub expected_back_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
}

/// The start of both team-card queries.
macro_rules! team_card_select {
    () => {
        "SELECT t.id, t.name, t.need_id, n.district, n.category, \
     (SELECT COUNT(*) FROM team_members m WHERE m.team_id = t.id) AS members, \
     t.status, t.orientation_done, t.formed_at, t.dispatched_at, t.expected_back_at, t.returned_at \
     FROM teams t JOIN needs n ON n.id = t.need_id WHERE t.activation_id = $1 AND "
    };
}

/// The teams of activation `$1` not yet closed, for a snapshot.
pub const TEAM_CARDS_SQL: &str = concat!(
    team_card_select!(),
    "t.status IN ('formed', 'dispatched', 'returned') ORDER BY t.id"
);

/// The team `$2` whatever its status, for an event (by id, not walking every team ever formed).
pub const TEAM_CARD_SQL: &str = concat!(team_card_select!(), "t.id = $2");

/// An item of equipment (資機材) and its count.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, PartialEq, ToSchema)]
pub struct EquipmentStock {
    pub id: i64,
    pub name: String,
    /// How many the centre has.
    pub total: i64,
    /// How many are at the centre now: the rest are out with teams.
    pub available: i64,
}

pub const EQUIPMENT_SQL: &str = "SELECT id, name, total, available FROM equipment \
     WHERE activation_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY name, id";

/// The whole section, for a snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct DispatchBoard {
    pub volunteers: VolunteerCounts,
    pub needs: Vec<NeedCard>,
    pub teams: Vec<TeamCard>,
    pub equipment: Vec<EquipmentStock>,
}

/// The data of every matching-board event: what changed, in full, so a terminal replaces its
/// copies by id (a need done or cancelled, a team closed or disbanded, leaves the board).
#[derive(Clone, Debug, Default, Serialize)]
pub struct DispatchEvent {
    pub volunteers: Option<VolunteerCounts>,
    pub needs: Vec<NeedCard>,
    pub teams: Vec<TeamCard>,
    pub equipment: Vec<EquipmentStock>,
}

/// Today's volunteer counts of an activation, inside the open transaction `$tx`.
#[macro_export]
macro_rules! volunteer_counts_in {
    ($tx:expr, $activation:expr) => {{
        let day = $crate::dispatch::today().to_string();
        let mut counts: $crate::dispatch::board::VolunteerCounts =
            sqlx::query_as($crate::dispatch::board::VOLUNTEER_COUNTS_SQL)
                .bind($activation)
                .bind(&day)
                .fetch_one(&mut *$tx)
                .await?;
        counts.day = day;
        counts
    }};
}

/// Need cards (open ones, or the one id given) inside `$tx`.
#[macro_export]
macro_rules! need_cards_in {
    ($tx:expr, $activation:expr, $only:expr) => {{
        let rows: Vec<$crate::dispatch::board::NeedCard> = match Option::<i64>::from($only) {
            None => sqlx::query_as($crate::dispatch::board::NEED_CARDS_SQL).bind($activation),
            Some(id) => sqlx::query_as($crate::dispatch::board::NEED_CARD_SQL)
                .bind($activation)
                .bind(id),
        }
        .fetch_all(&mut *$tx)
        .await?;
        rows.into_iter()
            .map(|mut n| {
                n.skills_needed = $crate::dispatch::parse_codes(&n.skills_json);
                n
            })
            .collect::<Vec<_>>()
    }};
}

/// Team cards (active ones, or the one id given) inside `$tx`.
#[macro_export]
macro_rules! team_cards_in {
    ($tx:expr, $activation:expr, $only:expr) => {{
        let rows: Vec<$crate::dispatch::board::TeamCard> = match Option::<i64>::from($only) {
            None => sqlx::query_as($crate::dispatch::board::TEAM_CARDS_SQL).bind($activation),
            Some(id) => sqlx::query_as($crate::dispatch::board::TEAM_CARD_SQL)
                .bind($activation)
                .bind(id),
        }
        .fetch_all(&mut *$tx)
        .await?;
        rows
    }};
}

/// Equipment stock (all, or the one id given) inside `$tx`.
#[macro_export]
macro_rules! equipment_in {
    ($tx:expr, $activation:expr, $only:expr) => {{
        let rows: Vec<$crate::dispatch::board::EquipmentStock> =
            sqlx::query_as($crate::dispatch::board::EQUIPMENT_SQL)
                .bind($activation)
                .bind(Option::<i64>::from($only))
                .fetch_all(&mut *$tx)
                .await?;
        rows
    }};
}

/// The whole section inside `$tx`, for the board's snapshot.
#[macro_export]
macro_rules! dispatch_board_in {
    ($tx:expr, $activation:expr) => {{
        $crate::dispatch::board::DispatchBoard {
            volunteers: $crate::volunteer_counts_in!($tx, $activation),
            needs: $crate::need_cards_in!($tx, $activation, None::<i64>),
            teams: $crate::team_cards_in!($tx, $activation, None::<i64>),
            equipment: $crate::equipment_in!($tx, $activation, None::<i64>),
        }
    }};
}

pub use crate::{
    dispatch_board_in as board_in, equipment_in, need_cards_in, team_cards_in, volunteer_counts_in,
};

#[cfg(test)]
mod tests {
    use super::VOLUNTEER_COUNTS_SQL;
    use crate::store::Store;

    /// Every dispatch write recomputes the volunteer counts. On SQLite the join must find each
    /// volunteer's one active membership through the partial index; walking all of their
    /// memberships made every write slower the more teams volunteers had been in (migration
    /// 0009, BENCHMARKS.md).
    #[tokio::test]
    async fn the_volunteer_counts_find_each_active_membership_by_the_partial_index() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let Store::Sqlite(sqlite) = Store::open(&url).await.expect("open") else {
            unreachable!("a sqlite URL opens SQLite");
        };
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {VOLUNTEER_COUNTS_SQL}"
        )))
        .bind(1_i64)
        .bind("2026-11-23")
        .fetch_all(&sqlite.pool)
        .await
        .expect("plan");
        let steps: Vec<&str> = plan.iter().map(|(.., detail)| detail.as_str()).collect();
        assert!(
            steps.iter().any(
                |s| s.starts_with("SEARCH m ") && s.contains(" INDEX team_members_one_active ")
            ),
            "{steps:#?}"
        );
    }
}
