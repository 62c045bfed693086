//! Needs intake (ニーズ受付): a resident asks for help, usually by phone. Each need moves
//! received (受付) → surveyed (調査済) → matched (マッチング済) → dispatched (活動中) →
//! reported (報告済) → done (完了), or continuing (継続: carried to the next day) or cancelled
//! (取消). Teams move a need through matched, dispatched, reported and continuing; staff move it
//! by hand through the others. An open need with the same phone or address is a warning at
//! intake: the same house calling twice, or two households of one building.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::board::{DispatchEvent, need_cards_in};
use super::{
    NEED_CATEGORIES, NeedCategoryCode, NeedPriorityCode, NeedStatusCode, SKILLS, SkillCode,
    address_key, codes, json_codes, parse_codes, phone_digits, text,
};
use crate::error::{AppError, Result};
use crate::events::{self, Actor, Event};
use crate::store::{Store, Timestamp, on_pool, write_tx};

pub const STATUSES: [&str; 8] = [
    "received",
    "surveyed",
    "matched",
    "dispatched",
    "reported",
    "done",
    "continuing",
    "cancelled",
];

/// A need's priorities, highest first.
pub const PRIORITIES: [&str; 3] = ["high", "normal", "low"];

/// Needs that are still somebody's work.
pub const OPEN: [&str; 6] = [
    "received",
    "surveyed",
    "matched",
    "dispatched",
    "reported",
    "continuing",
];

/// The changes staff make by hand; the others follow from what teams do.
pub fn manual_transition_allowed(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("received", "surveyed")
            | ("reported", "done")
            | ("reported", "continuing")
            | ("continuing", "done")
            | ("received" | "surveyed" | "continuing", "cancelled")
    )
}

/// A need taken in (ニーズ受付票), usually over the phone.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNeed {
    /// 依頼者名, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub requester_name: String,
    /// At most 40 characters; an open need with the same number is reported as a duplicate.
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: String,
    /// Where the work is, 1 to 300 characters; an open need at the same address is reported
    /// as a duplicate.
    #[schema(min_length = 1, max_length = 300)]
    pub address: String,
    /// 地区, at most 100 characters: what the board shows instead of the address.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub district: String,
    #[schema(value_type = NeedCategoryCode)]
    pub category: String,
    /// What is asked, at most 4,000 characters.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: String,
    /// Volunteers wanted, 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub people_needed: i64,
    #[serde(default)]
    #[schema(value_type = Vec<SkillCode>)]
    pub skills_needed: Vec<String>,
    /// Defaults to `normal`.
    #[serde(default = "normal")]
    #[schema(value_type = NeedPriorityCode, default = "normal")]
    pub priority: String,
    /// 危機介入: someone's life or health is at stake; first on the board.
    #[serde(default)]
    pub urgent: bool,
    /// 要配慮: the requester needs care (elderly alone, disability, ...).
    #[serde(default)]
    pub requires_care: bool,
    /// A person of the support-needed register (要支援者名簿) this need is for, by their
    /// resident id; unknown ids are refused (400).
    #[serde(default)]
    pub resident_id: Option<String>,
}

fn normal() -> String {
    "normal".into()
}

/// A need as the centre records it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Need {
    pub id: i64,
    pub requester_name: String,
    pub phone: String,
    pub address: String,
    pub district: String,
    #[schema(value_type = NeedCategoryCode)]
    pub category: String,
    pub description: String,
    pub people_needed: i64,
    #[sqlx(skip)]
    #[schema(value_type = Vec<SkillCode>)]
    pub skills_needed: Vec<String>,
    #[sqlx(rename = "skills_needed")]
    #[serde(skip)]
    pub skills_json: String,
    #[schema(value_type = NeedPriorityCode)]
    pub priority: String,
    /// 危機介入: someone's life or health is at stake.
    pub urgent: bool,
    /// 要配慮: the requester needs care.
    pub requires_care: bool,
    /// The person of the register this need is for, if any.
    pub resident_id: Option<String>,
    #[schema(value_type = NeedStatusCode)]
    pub status: String,
    pub received_at: Timestamp,
    /// Who took the need in (user name).
    pub received_by: String,
    pub updated_at: Timestamp,
}

macro_rules! select_need {
    () => {
        "SELECT id, requester_name, phone, address, district, category, description, people_needed, \
         skills_needed, priority, urgent, requires_care, resident_id, status, received_at, received_by, updated_at \
         FROM needs "
    };
}

fn decode(mut need: Need) -> Need {
    need.skills_needed = parse_codes(&need.skills_json);
    need
}

/// An open need that looks like the same request.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = NeedDuplicate)]
pub struct Duplicate {
    /// The other need.
    pub id: i64,
    #[schema(value_type = NeedStatusCode)]
    pub status: String,
    /// `same_phone` or `same_address`.
    #[schema(value_type = DuplicateReason)]
    pub reason: String,
}

crate::code_schema!(
    DuplicateReason,
    "Why a need looks like another: the same phone number, or the same address.",
    vec!["same_phone", "same_address"]
);

/// A need just taken in, with what intake should tell the caller.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NeedReceived)]
pub struct Received {
    pub need: Need,
    /// Open needs with the same phone or address: told to the person at the phone.
    pub duplicates: Vec<Duplicate>,
}

const DUPLICATES_SQL: &str = "SELECT id, status, CASE WHEN $2 <> '' AND phone_digits = $2 THEN 'same_phone' ELSE 'same_address' END AS reason \
     FROM needs WHERE activation_id = $1 AND status NOT IN ('done', 'cancelled') \
     AND (($2 <> '' AND phone_digits = $2) OR ($3 <> '' AND address_key = $3)) AND id <> $4 ORDER BY id";

/// Open needs with this phone or address: what intake warns about, also before saving.
pub async fn duplicates(
    store: &Store,
    activation_id: i64,
    phone: &str,
    address: &str,
) -> Result<Vec<Duplicate>> {
    let digits = phone_digits(phone);
    let digits = if digits.len() >= 6 {
        digits
    } else {
        String::new()
    };
    let key = address_key(address);
    let rows = on_pool!(store, pool => {
        sqlx::query_as(DUPLICATES_SQL)
            .bind(activation_id)
            .bind(&digits)
            .bind(&key)
            .bind(0_i64)
            .fetch_all(pool)
            .await?
    });
    Ok(rows)
}

/// Takes a need in. Saved even when it looks like a duplicate: the warning goes back with it.
pub async fn receive(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    new: NewNeed,
) -> Result<(Received, Event)> {
    let requester_name = text("requester_name", &new.requester_name, 100, true)?;
    let phone = text("phone", &new.phone, 40, false)?;
    let address = text("address", &new.address, 300, true)?;
    let district = text("district", &new.district, 100, false)?;
    let description = text("description", &new.description, 4000, false)?;
    if !NEED_CATEGORIES.iter().any(|(c, _)| *c == new.category) {
        return Err(AppError::invalid(
            "category",
            format!(
                "category is one of {}",
                NEED_CATEGORIES
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if !(1..=100).contains(&new.people_needed) {
        return Err(AppError::invalid(
            "people_needed",
            "people_needed is from 1 to 100",
        ));
    }
    if !PRIORITIES.contains(&new.priority.as_str()) {
        return Err(AppError::invalid(
            "priority",
            "priority is high, normal or low",
        ));
    }
    let skills = codes("skills_needed", &new.skills_needed, &SKILLS)?;
    let resident_id = new
        .resident_id
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let digits = phone_digits(&phone);
    let key = address_key(&address);
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        if let Some(resident) = &resident_id {
            let known: Option<String> = sqlx::query_scalar("SELECT resident_id FROM register_persons WHERE resident_id = $1")
                .bind(resident).fetch_optional(&mut *tx).await?;
            if known.is_none() {
                return Err(AppError::invalid("resident_id", "no person of the register has this resident_id"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO needs (activation_id, requester_name, phone, phone_digits, address, address_key, district, category, \
             description, people_needed, skills_needed, priority, urgent, requires_care, resident_id, status, received_at, \
             received_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'received', $16, $17, $16) RETURNING id",
        )
        .bind(activation_id).bind(&requester_name).bind(&phone).bind(&digits).bind(&address).bind(&key)
        .bind(&district).bind(&new.category).bind(&description).bind(new.people_needed).bind(json_codes(&skills))
        .bind(&new.priority).bind(new.urgent).bind(new.requires_care).bind(&resident_id).bind(now).bind(&actor.name)
        .fetch_one(&mut *tx).await?;
        sqlx::query("INSERT INTO need_history (need_id, status, note, changed_by, changed_at) VALUES ($1, 'received', '', $2, $3)")
            .bind(id).bind(&actor.name).bind(now).execute(&mut *tx).await?;
        let phone_key = if digits.len() >= 6 { digits.clone() } else { String::new() };
        let duplicates: Vec<Duplicate> = sqlx::query_as(DUPLICATES_SQL)
            .bind(activation_id).bind(&phone_key).bind(&key).bind(id)
            .fetch_all(&mut *tx).await?;
        let needs = need_cards_in!(tx, activation_id, Some(id));
        let data = DispatchEvent { needs, ..Default::default() };
        let event = events::record!(tx, activation_id, seq, "need_received", actor, &data);
        let need: Need = sqlx::query_as(concat!(select_need!(), "WHERE id = $1")).bind(id).fetch_one(&mut *tx).await?;
        (Received { need: decode(need), duplicates }, event)
    });
    Ok(out)
}

/// Moves a need by hand (surveyed, done, cancelled, ...), with a note.
pub async fn set_status(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    need_id: i64,
    status: &str,
    note: &str,
) -> Result<(Need, Event)> {
    if !STATUSES.contains(&status) {
        return Err(AppError::invalid(
            "status",
            format!("status is one of {}", STATUSES.join(", ")),
        ));
    }
    let note = text("note", note, 1000, false)?;
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let from: Option<String> = sqlx::query_scalar("SELECT status FROM needs WHERE id = $1 AND activation_id = $2")
            .bind(need_id).bind(activation_id).fetch_optional(&mut *tx).await?;
        let Some(from) = from else {
            return Err(AppError::NotFound("need"));
        };
        if !manual_transition_allowed(&from, status) {
            return Err(AppError::conflict(
                "status_change_refused",
                format!("a need that is {from} cannot be set to {status} by hand"),
            ));
        }
        sqlx::query("UPDATE needs SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status).bind(now).bind(need_id).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO need_history (need_id, status, note, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(need_id).bind(status).bind(&note).bind(&actor.name).bind(now).execute(&mut *tx).await?;
        let needs = need_cards_in!(tx, activation_id, Some(need_id));
        let data = DispatchEvent { needs, ..Default::default() };
        let event = events::record!(tx, activation_id, seq, "need_changed", actor, &data);
        let need: Need = sqlx::query_as(concat!(select_need!(), "WHERE id = $1")).bind(need_id).fetch_one(&mut *tx).await?;
        (decode(need), event)
    });
    Ok(out)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Only needs with this status (see `NeedStatusCode`).
    pub status: Option<String>,
    /// Only needs of this district (exactly as recorded).
    pub district: Option<String>,
    /// Only open needs (the default view of intake).
    #[serde(default)]
    pub open: bool,
}

pub async fn list(store: &Store, activation_id: i64, filter: Filter) -> Result<Vec<Need>> {
    let rows: Vec<Need> = on_pool!(store, pool => {
        sqlx::query_as(concat!(
            select_need!(),
            "WHERE activation_id = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR district = $3) \
             AND (NOT $4 OR status NOT IN ('done', 'cancelled')) \
             ORDER BY urgent DESC, CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END, id"
        ))
        .bind(activation_id)
        .bind(&filter.status)
        .bind(&filter.district)
        .bind(filter.open)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(decode).collect())
}

/// One step of a need's history: the status it moved to, by whom, when, and why.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = NeedHistoryEntry)]
pub struct HistoryEntry {
    #[schema(value_type = NeedStatusCode)]
    pub status: String,
    pub note: String,
    /// The user who moved it (a team's step is recorded under who recorded the step).
    pub changed_by: String,
    pub changed_at: Timestamp,
}

/// A need with its whole history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedRecord {
    #[serde(flatten)]
    pub need: Need,
    pub history: Vec<HistoryEntry>,
}

pub async fn get_one(store: &Store, activation_id: i64, need_id: i64) -> Result<NeedRecord> {
    let need: Option<Need> = on_pool!(store, pool => {
        sqlx::query_as(concat!(select_need!(), "WHERE id = $1 AND activation_id = $2"))
            .bind(need_id)
            .bind(activation_id)
            .fetch_optional(pool)
            .await?
    });
    let need = need.ok_or(AppError::NotFound("need"))?;
    let history = on_pool!(store, pool => {
        sqlx::query_as("SELECT status, note, changed_by, changed_at FROM need_history WHERE need_id = $1 ORDER BY id")
            .bind(need_id)
            .fetch_all(pool)
            .await?
    });
    Ok(NeedRecord {
        need: decode(need),
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_move_needs_only_where_teams_do_not() {
        assert!(manual_transition_allowed("received", "surveyed"));
        assert!(manual_transition_allowed("reported", "done"));
        assert!(manual_transition_allowed("continuing", "cancelled"));
        // A team's dispatch, not a click, makes a need dispatched.
        assert!(!manual_transition_allowed("matched", "dispatched"));
        assert!(!manual_transition_allowed("dispatched", "cancelled"));
        assert!(!manual_transition_allowed("done", "received"));
    }
}
