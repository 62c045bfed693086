//! Teams (班): formed for a need from today's checked-in volunteers, given equipment and an
//! orientation, sent out (送り出し), back (帰着, with the return check: injuries and near
//! misses, ヒヤリハット) and reporting (活動報告: done or continue tomorrow, hours, equipment
//! back). The gates are the centre's safety rules, checked in the same transaction that
//! changes the team:
//!
//! - a volunteer is in at most one active team (and must be checked in today);
//! - a team leaves only with a leader, its orientation done, and every member insured today;
//! - a team reports only after its return check;
//! - equipment stock never goes below zero.
//!
//! Two coordinators putting one volunteer in two teams at once: both transactions take the
//! activation's event counter first (`events::next_seq!`), so they run one after the other and
//! the second finds the volunteer taken (a partial unique index backs this up).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::board::{
    DispatchEvent, equipment_in, need_cards_in, team_cards_in, volunteer_counts_in,
};
use super::{TeamStatusCode, text};
use crate::error::{AppError, Result};
use crate::events::{self, Actor, Event};
use crate::store::{Store, Timestamp, on_pool, write_tx};

/// A team's statuses, in the order a team goes through them (`disbanded`: undone before it
/// left).
pub const STATUSES: [&str; 5] = ["formed", "dispatched", "returned", "closed", "disbanded"];

/// How long a team is expected out when nobody says: half a day's work.
const DEFAULT_HOURS_OUT: f64 = 4.0;

/// Equipment handed to a team, or brought back by it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[schema(as = EquipmentIssue)]
#[serde(deny_unknown_fields)]
pub struct Issue {
    /// An item of the activation's equipment.
    pub equipment_id: i64,
    /// How many: 1 to 1,000 taken out; brought back, 0 to what is still out.
    #[schema(minimum = 0, maximum = 1000)]
    pub quantity: i64,
}

/// A team (班) formed for a need.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    /// The need it works on: not done, cancelled or reported.
    pub need_id: i64,
    /// 班名, 1 to 50 characters; "N班" when left out.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50)]
    pub name: Option<String>,
    /// The leader (班長): a volunteer checked in today and in no active team.
    pub leader_id: i64,
    /// The other members (the leader may be listed too), checked in today and in no active
    /// team; at most 50 with the leader.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub member_ids: Vec<i64>,
    /// The vehicle it goes in, at most 100 characters.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub vehicle: String,
    /// The orientation (オリエンテーション) given already.
    #[serde(default)]
    pub orientation_done: bool,
    /// Equipment taken from stock now, each item once.
    #[serde(default)]
    pub equipment: Vec<Issue>,
}

/// A volunteer in a team.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = TeamMember)]
pub struct Member {
    pub volunteer_id: i64,
    pub name: String,
    pub card_code: String,
    pub phone: String,
    #[sqlx(skip)]
    pub insured_today: bool,
    /// The team's leader (班長).
    #[sqlx(skip)]
    pub leader: bool,
    #[serde(skip)]
    pub insurance_joined: bool,
    #[serde(skip)]
    pub insurance_from: Option<String>,
    #[serde(skip)]
    pub insurance_until: Option<String>,
    /// Still in the team: false once it has reported or been disbanded.
    pub active: bool,
}

/// An item of equipment a team took out, and how many came back.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = TeamEquipment)]
pub struct IssuedItem {
    pub equipment_id: i64,
    pub name: String,
    pub issued: i64,
    pub returned: i64,
}

/// A team with its members and equipment.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub need_id: i64,
    /// The need's category and district, to show a team without looking its need up.
    pub need_category: String,
    pub need_district: String,
    /// The leader (班長).
    pub leader_id: Option<i64>,
    pub vehicle: String,
    pub orientation_done: bool,
    #[schema(value_type = TeamStatusCode)]
    pub status: String,
    pub formed_at: Timestamp,
    /// Who formed it (user name).
    pub formed_by: String,
    pub dispatched_at: Option<Timestamp>,
    /// When it said it would be back: later than this and still out, it is overdue.
    pub expected_back_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
    /// When it reported or was disbanded.
    pub closed_at: Option<Timestamp>,
    /// The return check, once it is back.
    #[sqlx(skip)]
    pub return_check: Option<ReturnRecord>,
    #[serde(skip)]
    #[sqlx(rename = "return_check")]
    pub return_check_json: Option<String>,
    /// The activity report, once it has reported.
    #[sqlx(skip)]
    pub report: Option<ReportRecord>,
    #[serde(skip)]
    #[sqlx(rename = "report")]
    pub report_json: Option<String>,
    #[sqlx(skip)]
    pub members: Vec<Member>,
    #[sqlx(skip)]
    pub equipment: Vec<IssuedItem>,
}

const SELECT_TEAM: &str = "SELECT t.id, t.name, t.need_id, n.category AS need_category, n.district AS need_district, \
     t.leader_id, t.vehicle, t.orientation_done, t.status, t.formed_at, t.formed_by, t.dispatched_at, t.expected_back_at, \
     t.returned_at, t.closed_at, t.return_check, t.report FROM teams t JOIN needs n ON n.id = t.need_id \
     WHERE t.id = $1 AND t.activation_id = $2";

/// Reads a whole team (members, equipment) inside `$tx`; `NotFound` when it is not there.
macro_rules! team_in {
    ($tx:expr, $activation:expr, $team:expr) => {{
        let team: Option<Team> = sqlx::query_as(SELECT_TEAM)
            .bind($team)
            .bind($activation)
            .fetch_optional(&mut *$tx)
            .await?;
        let mut team = team.ok_or(AppError::NotFound("team"))?;
        team.members = sqlx::query_as(
            "SELECT m.volunteer_id, v.name, v.card_code, v.phone, v.insurance_joined, v.insurance_from, \
             v.insurance_until, m.active FROM team_members m JOIN volunteers v ON v.id = m.volunteer_id \
             WHERE m.team_id = $1 ORDER BY v.name_kana, v.id",
        )
        .bind(team.id)
        .fetch_all(&mut *$tx)
        .await?;
        team.equipment = sqlx::query_as(
            "SELECT e.id AS equipment_id, e.name, t.issued, t.returned FROM team_equipment t \
             JOIN equipment e ON e.id = t.equipment_id WHERE t.team_id = $1 ORDER BY e.name",
        )
        .bind(team.id)
        .fetch_all(&mut *$tx)
        .await?;
        finish(team)
    }};
}

/// Fills what the rows do not hold: who leads, who is insured today, the JSON records.
fn finish(mut team: Team) -> Team {
    let today = super::today();
    for m in &mut team.members {
        m.leader = team.leader_id == Some(m.volunteer_id);
        m.insured_today = super::volunteers::Insurance {
            joined: m.insurance_joined,
            plan: None,
            valid_from: m.insurance_from.clone(),
            valid_until: m.insurance_until.clone(),
            enrolled_here: false,
        }
        .covers(today);
    }
    team.return_check = team
        .return_check_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    team.report = team
        .report_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    team
}

/// Moves a need inside `$tx`, writing its history.
macro_rules! move_need {
    ($tx:expr, $need:expr, $status:expr, $note:expr, $actor:expr, $now:expr) => {{
        sqlx::query("UPDATE needs SET status = $1, updated_at = $2 WHERE id = $3")
            .bind($status)
            .bind($now)
            .bind($need)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(
            "INSERT INTO need_history (need_id, status, note, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($need)
        .bind($status)
        .bind($note)
        .bind(&$actor.name)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// The board data after a team changed: the team, its need, today's volunteers, and the
/// equipment when asked.
macro_rules! team_event_data {
    ($tx:expr, $activation:expr, $team:expr, $need:expr, $with_equipment:expr) => {{
        DispatchEvent {
            volunteers: Some(volunteer_counts_in!($tx, $activation)),
            needs: need_cards_in!($tx, $activation, Some($need)),
            teams: team_cards_in!($tx, $activation, Some($team)),
            equipment: if $with_equipment {
                equipment_in!($tx, $activation, None::<i64>)
            } else {
                Vec::new()
            },
        }
    }};
}

/// Takes `$item.quantity` of an item from stock for a team, or refuses naming the item.
macro_rules! take_equipment {
    ($tx:expr, $activation:expr, $team:expr, $item:expr, $index:expr) => {{
        let item: &Issue = $item;
        let taken: Option<String> = sqlx::query_scalar(
            "UPDATE equipment SET available = available - $1 \
             WHERE id = $2 AND activation_id = $3 AND available >= $1 RETURNING name",
        )
        .bind(item.quantity)
        .bind(item.equipment_id)
        .bind($activation)
        .fetch_optional(&mut *$tx)
        .await?;
        if taken.is_none() {
            let stock: Option<(String, i64)> =
                sqlx::query_as("SELECT name, available FROM equipment WHERE id = $1 AND activation_id = $2")
                    .bind(item.equipment_id)
                    .bind($activation)
                    .fetch_optional(&mut *$tx)
                    .await?;
            return Err(match stock {
                None => AppError::invalid(
                    format!("equipment[{}].equipment_id", $index),
                    "no equipment of this activation has this id",
                ),
                Some((name, available)) => AppError::conflict(
                    "equipment_short",
                    format!("{name}: {available} in stock, {} asked", item.quantity),
                ),
            });
        }
        sqlx::query(
            "INSERT INTO team_equipment (team_id, equipment_id, issued, returned) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (team_id, equipment_id) DO UPDATE SET issued = team_equipment.issued + excluded.issued",
        )
        .bind($team)
        .bind(item.equipment_id)
        .bind(item.quantity)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// The team's status and need, or `NotFound`; refuses unless the status is one of `allowed`.
macro_rules! team_state {
    ($tx:expr, $activation:expr, $team:expr, $allowed:expr, $code:expr, $message:expr) => {{
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT status, need_id FROM teams WHERE id = $1 AND activation_id = $2",
        )
        .bind($team)
        .bind($activation)
        .fetch_optional(&mut *$tx)
        .await?;
        let Some((status, need_id)) = row else {
            return Err(AppError::NotFound("team"));
        };
        let allowed: &[&str] = $allowed;
        if !allowed.contains(&status.as_str()) {
            return Err(AppError::conflict(
                $code,
                format!("{} (the team is {status})", $message),
            ));
        }
        (status, need_id)
    }};
}

/// A would-be member: name, card code, today's check-in and leaving, active team.
type Candidate = (
    String,
    String,
    Option<Timestamp>,
    Option<Timestamp>,
    Option<i64>,
);

/// Forms a team for a need. One transaction: the checks on every member, the team, its
/// members, the equipment taken from stock, the need matched, the event. Answers the new
/// team's id: the caller reads the team after the commit (`get_one`), so the writer's turn,
/// which every other write waits for, is not held for three more statements.
pub async fn form(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    new: NewTeam,
) -> Result<(i64, Event)> {
    let vehicle = text("vehicle", &new.vehicle, 100, false)?;
    let name = match new.name.as_deref() {
        Some(n) => Some(text("name", n, 50, true)?),
        None => None,
    };
    let mut members = vec![new.leader_id];
    for id in &new.member_ids {
        if !members.contains(id) {
            members.push(*id);
        }
    }
    if members.len() > 50 {
        return Err(AppError::invalid(
            "member_ids",
            "a team has at most 50 members",
        ));
    }
    for (i, item) in new.equipment.iter().enumerate() {
        if !(1..=1000).contains(&item.quantity) {
            return Err(AppError::invalid(
                format!("equipment[{i}].quantity"),
                "quantity is from 1 to 1000",
            ));
        }
        if new.equipment[..i]
            .iter()
            .any(|e| e.equipment_id == item.equipment_id)
        {
            return Err(AppError::invalid(
                format!("equipment[{i}].equipment_id"),
                "this item is listed twice",
            ));
        }
    }
    let day = super::today().to_string();
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let need: Option<String> = sqlx::query_scalar("SELECT status FROM needs WHERE id = $1 AND activation_id = $2")
            .bind(new.need_id).bind(activation_id).fetch_optional(&mut *tx).await?;
        let Some(need_status) = need else {
            return Err(AppError::invalid("need_id", "no need of this activation has this id"));
        };
        if ["done", "cancelled", "reported"].contains(&need_status.as_str()) {
            return Err(AppError::conflict("need_closed", format!("this need is {need_status}: no team is formed for it")));
        }
        for (i, volunteer) in members.iter().enumerate() {
            let field = if i == 0 { "leader_id".to_string() } else { "member_ids".to_string() };
            let row: Option<Candidate> = sqlx::query_as(
                "SELECT v.name, v.card_code, c.checked_in_at, c.left_at, m.team_id FROM volunteers v \
                 LEFT JOIN checkins c ON c.volunteer_id = v.id AND c.day = $3 \
                 LEFT JOIN team_members m ON m.volunteer_id = v.id AND m.active = TRUE \
                 WHERE v.id = $1 AND v.activation_id = $2",
            )
            .bind(volunteer).bind(activation_id).bind(&day)
            .fetch_optional(&mut *tx).await?;
            let Some((name, code, checked_in, left, team)) = row else {
                return Err(AppError::invalid(field, format!("no volunteer of this activation has id {volunteer}")));
            };
            if checked_in.is_none() || left.is_some() {
                return Err(AppError::conflict("not_checked_in", format!("{name} ({code}) is not checked in at the centre today")));
            }
            if let Some(team) = team {
                return Err(AppError::conflict("volunteer_busy", format!("{name} ({code}) is in another active team (id {team})")));
            }
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM teams WHERE activation_id = $1")
            .bind(activation_id).fetch_one(&mut *tx).await?;
        let name = name.clone().unwrap_or_else(|| format!("{}班", count + 1));
        let team_id: i64 = sqlx::query_scalar(
            "INSERT INTO teams (activation_id, need_id, name, leader_id, vehicle, orientation_done, status, formed_at, formed_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 'formed', $7, $8) RETURNING id",
        )
        .bind(activation_id).bind(new.need_id).bind(&name).bind(new.leader_id).bind(&vehicle)
        .bind(new.orientation_done).bind(now).bind(&actor.name)
        .fetch_one(&mut *tx).await?;
        for volunteer in &members {
            sqlx::query("INSERT INTO team_members (team_id, volunteer_id, active) VALUES ($1, $2, TRUE)")
                .bind(team_id).bind(volunteer).execute(&mut *tx).await?;
        }
        for (i, item) in new.equipment.iter().enumerate() {
            take_equipment!(tx, activation_id, team_id, item, i);
        }
        if ["received", "surveyed", "continuing"].contains(&need_status.as_str()) {
            move_need!(tx, new.need_id, "matched", format!("{name} formed"), actor, now);
        }
        let data = team_event_data!(tx, activation_id, team_id, new.need_id, !new.equipment.is_empty());
        let event = events::record!(tx, activation_id, seq, "team_formed", actor, &data);
        (team_id, event)
    });
    Ok(out)
}

/// What changes before a team leaves; anything left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TeamPreparation)]
#[serde(deny_unknown_fields)]
pub struct Preparation {
    /// オリエンテーション given.
    #[serde(default)]
    pub orientation_done: Option<bool>,
    /// More equipment taken out.
    #[serde(default)]
    pub equipment: Vec<Issue>,
    /// The vehicle, at most 100 characters.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub vehicle: Option<String>,
}

/// Before leaving: orientation given, more equipment, the vehicle.
pub async fn prepare(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    team_id: i64,
    preparation: Preparation,
) -> Result<(Team, Event)> {
    let vehicle = match &preparation.vehicle {
        Some(v) => Some(text("vehicle", v, 100, false)?),
        None => None,
    };
    for (i, item) in preparation.equipment.iter().enumerate() {
        if !(1..=1000).contains(&item.quantity) {
            return Err(AppError::invalid(
                format!("equipment[{i}].quantity"),
                "quantity is from 1 to 1000",
            ));
        }
    }
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let (_, need_id) = team_state!(tx, activation_id, team_id, &["formed"], "team_not_formed",
            "a team is prepared before it leaves");
        if let Some(done) = preparation.orientation_done {
            sqlx::query("UPDATE teams SET orientation_done = $1 WHERE id = $2").bind(done).bind(team_id).execute(&mut *tx).await?;
        }
        if let Some(vehicle) = &vehicle {
            sqlx::query("UPDATE teams SET vehicle = $1 WHERE id = $2").bind(vehicle).bind(team_id).execute(&mut *tx).await?;
        }
        for (i, item) in preparation.equipment.iter().enumerate() {
            take_equipment!(tx, activation_id, team_id, item, i);
        }
        let data = team_event_data!(tx, activation_id, team_id, need_id, !preparation.equipment.is_empty());
        let event = events::record!(tx, activation_id, seq, "team_prepared", actor, &data);
        (team_in!(tx, activation_id, team_id), event)
    });
    Ok(out)
}

/// Sending a team out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = TeamDispatch)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    /// Hours the team expects to be out, 0.25 to 24 (default 4); later than that it shows as
    /// overdue.
    #[serde(default)]
    #[schema(minimum = 0.25, maximum = 24)]
    pub hours_out: Option<f64>,
}

/// Sends a team out (送り出し), if it has a leader, its orientation, and every member insured
/// today.
pub async fn dispatch(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    team_id: i64,
    dispatch: Dispatch,
) -> Result<(Team, Event)> {
    let hours = dispatch.hours_out.unwrap_or(DEFAULT_HOURS_OUT);
    if !(0.25..=24.0).contains(&hours) {
        return Err(AppError::invalid(
            "hours_out",
            "hours_out is from 0.25 to 24",
        ));
    }
    let now = Timestamp::now();
    let back = now.plus_seconds((hours * 3600.0) as i64);
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let mut team = team_in!(tx, activation_id, team_id);
        if team.status != "formed" {
            return Err(AppError::conflict("team_not_formed",
                format!("only a team that has not left yet can be sent out (the team is {})", team.status)));
        }
        let need_id = team.need_id;
        if team.leader_id.is_none() || !team.members.iter().any(|m| m.leader) {
            return Err(AppError::conflict("no_leader", "a team leaves only with a leader (班長)"));
        }
        if !team.orientation_done {
            return Err(AppError::conflict("orientation_required", "give the team its orientation (オリエンテーション) before it leaves"));
        }
        let uninsured: Vec<String> = team.members.iter().filter(|m| !m.insured_today)
            .map(|m| format!("{} ({})", m.name, m.card_code)).collect();
        if !uninsured.is_empty() {
            return Err(AppError::conflict(
                "uninsured_members",
                format!("not insured today (ボランティア活動保険), cannot be sent out: {}", uninsured.join(", ")),
            ));
        }
        let need_status: String = sqlx::query_scalar("SELECT status FROM needs WHERE id = $1").bind(need_id).fetch_one(&mut *tx).await?;
        if ["done", "cancelled"].contains(&need_status.as_str()) {
            return Err(AppError::conflict("need_closed", format!("this need is {need_status}")));
        }
        sqlx::query("UPDATE teams SET status = 'dispatched', dispatched_at = $1, expected_back_at = $2 WHERE id = $3")
            .bind(now).bind(back).bind(team_id).execute(&mut *tx).await?;
        if need_status != "dispatched" {
            move_need!(tx, need_id, "dispatched", format!("{} sent out", team.name), actor, now);
        }
        let data = team_event_data!(tx, activation_id, team_id, need_id, false);
        let event = events::record!(tx, activation_id, seq, "team_dispatched", actor, &data);
        // What changed is known: no need to read the team again.
        team.status = "dispatched".into();
        team.dispatched_at = Some(now);
        team.expected_back_at = Some(back);
        (team, event)
    });
    Ok(out)
}

/// The return check (帰着時の確認).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(as = TeamReturnCheck)]
#[serde(deny_unknown_fields)]
pub struct ReturnCheck {
    /// Anyone hurt or unwell.
    pub injuries: bool,
    /// What happened, at most 2,000 characters: required when `injuries`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub injury_notes: String,
    /// ヒヤリハット: what nearly went wrong, for tomorrow's orientation (at most 2,000
    /// characters).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub near_misses: String,
    /// Everyone came back.
    pub all_back: bool,
}

/// The return check as recorded on the team.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(as = TeamReturnRecord)]
pub struct ReturnRecord {
    pub injuries: bool,
    pub injury_notes: String,
    pub near_misses: String,
    pub all_back: bool,
    /// Who recorded it (user name).
    pub checked_by: String,
}

/// The activity report as recorded on the team.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[schema(as = TeamReportRecord)]
pub struct ReportRecord {
    #[schema(value_type = ReportOutcome)]
    pub outcome: String,
    pub hours: f64,
    pub notes: String,
    /// Who recorded it (user name).
    pub reported_by: String,
}

crate::code_schema!(
    ReportOutcome,
    "How a team's work ended: `done` (the need is finished: it becomes reported), or `continue` (carried to the next day: the need becomes continuing).",
    vec!["done", "continue"]
);

/// The team is back: the return check is recorded. Answers the team's id, read after the
/// commit as for `form`.
pub async fn return_team(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    team_id: i64,
    check: ReturnCheck,
) -> Result<(i64, Event)> {
    let injury_notes = text("injury_notes", &check.injury_notes, 2000, check.injuries)?;
    let near_misses = text("near_misses", &check.near_misses, 2000, false)?;
    let record = ReturnRecord {
        injuries: check.injuries,
        injury_notes,
        near_misses,
        all_back: check.all_back,
        checked_by: actor.name.clone(),
    };
    let record = serde_json::to_string(&record).map_err(anyhow::Error::from)?;
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        team_state!(tx, activation_id, team_id, &["dispatched"], "team_not_out",
            "only a team that is out can come back");
        sqlx::query("UPDATE teams SET status = 'returned', returned_at = $1, return_check = $2 WHERE id = $3")
            .bind(now).bind(&record).bind(team_id).execute(&mut *tx).await?;
        // The need has not moved: its card stays as it is on the board.
        let data = DispatchEvent {
            volunteers: Some(volunteer_counts_in!(tx, activation_id)),
            teams: team_cards_in!(tx, activation_id, Some(team_id)),
            ..DispatchEvent::default()
        };
        let event = events::record!(tx, activation_id, seq, "team_returned", actor, &data);
        (team_id, event)
    });
    Ok(out)
}

/// The activity report (活動報告).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TeamReport)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// `done`: the need is finished; `continue`: carried to the next day.
    #[schema(value_type = ReportOutcome)]
    pub outcome: String,
    /// Hours worked, 0 to 24.
    #[schema(minimum = 0, maximum = 24)]
    pub hours: f64,
    /// At most 4,000 characters; also noted in the need's history.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: String,
    /// What came back; anything issued and not listed is recorded as not returned.
    #[serde(default)]
    pub equipment_returned: Vec<Issue>,
}

/// The activity report (活動報告): closes the team, releases its members, restocks what came
/// back, and moves the need to reported or continuing. Only after the return check. Answers
/// the team's id, read after the commit as for `form`.
pub async fn report(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    team_id: i64,
    report: Report,
) -> Result<(i64, Event)> {
    if !["done", "continue"].contains(&report.outcome.as_str()) {
        return Err(AppError::invalid("outcome", "outcome is done or continue"));
    }
    if !(0.0..=24.0).contains(&report.hours) || !report.hours.is_finite() {
        return Err(AppError::invalid("hours", "hours is from 0 to 24"));
    }
    let notes = text("notes", &report.notes, 4000, false)?;
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let (_, need_id) = team_state!(tx, activation_id, team_id, &["returned"], "return_check_required",
            "a team reports after it is back and its return check is recorded");
        let issued: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT equipment_id, issued, returned FROM team_equipment WHERE team_id = $1",
        )
        .bind(team_id).fetch_all(&mut *tx).await?;
        for (i, back) in report.equipment_returned.iter().enumerate() {
            let Some((_, out, returned)) = issued.iter().find(|(e, _, _)| *e == back.equipment_id) else {
                return Err(AppError::invalid(format!("equipment_returned[{i}].equipment_id"), "this item was not issued to the team"));
            };
            if back.quantity < 0 || back.quantity > out - returned {
                return Err(AppError::invalid(
                    format!("equipment_returned[{i}].quantity"),
                    format!("{} were issued and not yet returned", out - returned),
                ));
            }
            sqlx::query("UPDATE team_equipment SET returned = returned + $1 WHERE team_id = $2 AND equipment_id = $3")
                .bind(back.quantity).bind(team_id).bind(back.equipment_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE equipment SET available = available + $1 WHERE id = $2")
                .bind(back.quantity).bind(back.equipment_id).execute(&mut *tx).await?;
        }
        let record = ReportRecord {
            outcome: report.outcome.clone(),
            hours: report.hours,
            notes: notes.clone(),
            reported_by: actor.name.clone(),
        };
        let record = serde_json::to_string(&record).map_err(anyhow::Error::from)?;
        sqlx::query("UPDATE teams SET status = 'closed', closed_at = $1, report = $2 WHERE id = $3")
            .bind(now).bind(&record).bind(team_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE team_members SET active = FALSE WHERE team_id = $1").bind(team_id).execute(&mut *tx).await?;
        // The need follows its last team out: another team may still be at the site.
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM teams WHERE need_id = $1 AND id <> $2 AND status IN ('formed', 'dispatched', 'returned')",
        )
        .bind(need_id).bind(team_id).fetch_one(&mut *tx).await?;
        if others == 0 {
            let status = if report.outcome == "done" { "reported" } else { "continuing" };
            move_need!(tx, need_id, status, notes.clone(), actor, now);
        }
        let data = team_event_data!(tx, activation_id, team_id, need_id, !issued.is_empty());
        let event = events::record!(tx, activation_id, seq, "team_reported", actor, &data);
        (team_id, event)
    });
    Ok(out)
}

/// Undoes a team that has not left: members free again, equipment back in stock, the need back
/// where it was.
pub async fn disband(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    team_id: i64,
) -> Result<(Team, Event)> {
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let (_, need_id) = team_state!(tx, activation_id, team_id, &["formed"], "team_not_formed",
            "only a team that has not left can be disbanded");
        let issued: Vec<(i64, i64)> = sqlx::query_as("SELECT equipment_id, issued FROM team_equipment WHERE team_id = $1")
            .bind(team_id).fetch_all(&mut *tx).await?;
        for (equipment, quantity) in &issued {
            sqlx::query("UPDATE equipment SET available = available + $1 WHERE id = $2")
                .bind(quantity).bind(equipment).execute(&mut *tx).await?;
            sqlx::query("UPDATE team_equipment SET returned = issued WHERE team_id = $1 AND equipment_id = $2")
                .bind(team_id).bind(equipment).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE teams SET status = 'disbanded', closed_at = $1 WHERE id = $2").bind(now).bind(team_id).execute(&mut *tx).await?;
        sqlx::query("UPDATE team_members SET active = FALSE WHERE team_id = $1").bind(team_id).execute(&mut *tx).await?;
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM teams WHERE need_id = $1 AND id <> $2 AND status IN ('formed', 'dispatched', 'returned')",
        )
        .bind(need_id).bind(team_id).fetch_one(&mut *tx).await?;
        let status: String = sqlx::query_scalar("SELECT status FROM needs WHERE id = $1").bind(need_id).fetch_one(&mut *tx).await?;
        if others == 0 && status == "matched" {
            // Back to what it was before it was matched.
            let before: Option<String> = sqlx::query_scalar(
                "SELECT status FROM need_history WHERE need_id = $1 AND status NOT IN ('matched') ORDER BY id DESC LIMIT 1",
            )
            .bind(need_id).fetch_optional(&mut *tx).await?;
            let before = before.unwrap_or_else(|| "received".into());
            move_need!(tx, need_id, before.as_str(), "team disbanded", actor, now);
        }
        let data = team_event_data!(tx, activation_id, team_id, need_id, !issued.is_empty());
        let event = events::record!(tx, activation_id, seq, "team_disbanded", actor, &data);
        (team_in!(tx, activation_id, team_id), event)
    });
    Ok(out)
}

pub async fn get_one(store: &Store, activation_id: i64, team_id: i64) -> Result<Team> {
    let team = crate::store::read_tx!(store, tx => team_in!(tx, activation_id, team_id));
    Ok(team)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Only teams with this status (see `TeamStatusCode`).
    pub status: Option<String>,
    /// Only the teams of this need.
    pub need_id: Option<i64>,
}

pub async fn list(store: &Store, activation_id: i64, filter: Filter) -> Result<Vec<Team>> {
    let ids: Vec<i64> = on_pool!(store, pool => {
        sqlx::query_scalar(
            "SELECT id FROM teams WHERE activation_id = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR need_id = $3) \
             ORDER BY id DESC LIMIT 500",
        )
        .bind(activation_id)
        .bind(&filter.status)
        .bind(filter.need_id)
        .fetch_all(pool)
        .await?
    });
    let mut teams = Vec::with_capacity(ids.len());
    for id in ids {
        teams.push(get_one(store, activation_id, id).await?);
    }
    Ok(teams)
}
