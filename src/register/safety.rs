//! Safety confirmation (安否確認) per activation: every recorded status with who, when and a
//! note; the current status per person; and the counts by district and status that the board
//! shows. Events carry counts and districts, never names: board terminals see them too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::visibility;
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::events::{self, Event};
use crate::store::{Store, Timestamp, on_pool, write_tx};

/// The statuses of DOMAIN.md, in the order a sweep list shows them.
pub const STATUSES: [&str; 8] = [
    "unconfirmed",
    "needs_help",
    "unreachable",
    "not_home",
    "hospital",
    "evacuated",
    "safe_at_home",
    "deceased",
];

crate::code_schema!(
    SafetyStatus,
    "A safety status (安否): unconfirmed (未確認: nobody has reached the person yet), needs_help (要救助・要支援: needs help now), unreachable (連絡不能), not_home (不在: not at home when visited), hospital (入院中), evacuated (避難済: at a shelter or elsewhere safe), safe_at_home (在宅・無事), deceased (死亡).",
    STATUSES.to_vec()
);

/// Statuses that count as confirmed (安否確認済): the person's situation is known.
/// `not_home` (不在) and `unreachable` (連絡不能) are attempts that did not reach the person,
/// so they do not count: a sweep is not done while people are only "not at home". The board's
/// 安否確認済 counter (`web/app.js`, `CONFIRMED_STATUSES`) and the after-action review's times
/// to confirm both count these.
pub const CONFIRMED: [&str; 5] = [
    "safe_at_home",
    "evacuated",
    "needs_help",
    "hospital",
    "deceased",
];

/// Counts of one district: how many people, and how many in each status.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct DistrictCounts {
    /// The district (地区); empty for people with no district.
    pub district: String,
    /// People of the district in the register (not removed).
    pub total: i64,
    /// How many people are in each safety status, by status (every status, zeros included).
    pub by_status: BTreeMap<String, i64>,
}

#[derive(sqlx::FromRow)]
pub struct CountRow {
    pub district: String,
    pub status: String,
    pub n: i64,
}

/// Folds (district, status, n) rows into one entry per district.
pub fn fold_counts(rows: Vec<CountRow>) -> Vec<DistrictCounts> {
    let mut districts: BTreeMap<String, DistrictCounts> = BTreeMap::new();
    for row in rows {
        let entry = districts
            .entry(row.district.clone())
            .or_insert_with(|| DistrictCounts {
                district: row.district.clone(),
                total: 0,
                by_status: STATUSES.iter().map(|s| (s.to_string(), 0)).collect(),
            });
        entry.total += row.n;
        *entry.by_status.entry(row.status).or_insert(0) += row.n;
    }
    districts.into_values().collect()
}

/// People not removed from the register, by district (blank for none) and current status.
/// `$district` narrows to one district when `Some`.
pub const COUNT_SQL: &str = "SELECT COALESCE(p.district, '') AS district, COALESCE(s.status, 'unconfirmed') AS status, \
     COUNT(*) AS n FROM register_persons p \
     LEFT JOIN safety_status s ON s.resident_id = p.resident_id AND s.activation_id = $1 \
     WHERE p.removed_at IS NULL AND ($2 IS NULL OR COALESCE(p.district, '') = $2) \
     GROUP BY COALESCE(p.district, ''), COALESCE(s.status, 'unconfirmed')";

/// Safety counts of an activation, read inside the open transaction `$tx`.
#[macro_export]
macro_rules! safety_counts_in {
    ($tx:expr, $activation:expr) => {{
        let rows: Vec<$crate::register::safety::CountRow> =
            sqlx::query_as($crate::register::safety::COUNT_SQL)
                .bind($activation)
                .bind(Option::<String>::None)
                .fetch_all(&mut *$tx)
                .await?;
        $crate::register::safety::fold_counts(rows)
    }};
}
pub use crate::safety_counts_in as counts_in;

/// Records `$status` for a person inside the open transaction `$tx`, under the `seq` the caller
/// took: the check, the current status, and the `safety_recorded` event with the district's
/// new counts. The caller has checked that the person exists and may be seen. Used by the
/// safety route and by a shelter operator's arrival record. Evaluates to `(Check, Event)`.
#[macro_export]
macro_rules! safety_record_in {
    ($tx:expr, $activation:expr, $seq:expr, $resident_id:expr, $district:expr, $status:expr, $note:expr, $actor:expr, $now:expr) => {{
        use $crate::register::safety::{Check, CountRow, DistrictCounts, COUNT_SQL, fold_counts};
        let activation_id: i64 = $activation;
        let resident_id: &str = $resident_id;
        let district: &str = $district;
        let status: &str = $status;
        let note: &str = $note;
        let actor: &$crate::events::Actor = $actor;
        let now: $crate::store::Timestamp = $now;
        let from: Option<String> = sqlx::query_scalar(
            "SELECT status FROM safety_status WHERE activation_id = $1 AND resident_id = $2",
        )
        .bind(activation_id)
        .bind(resident_id)
        .fetch_optional(&mut *$tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO safety_checks (activation_id, resident_id, status, note, checked_by, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(activation_id)
        .bind(resident_id)
        .bind(status)
        .bind(note)
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO safety_status (activation_id, resident_id, status, check_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (activation_id, resident_id) DO UPDATE SET status = excluded.status, check_id = excluded.check_id",
        )
        .bind(activation_id)
        .bind(resident_id)
        .bind(status)
        .bind(id)
        .execute(&mut *$tx)
        .await?;
        let rows: Vec<CountRow> = sqlx::query_as(COUNT_SQL)
            .bind(activation_id)
            .bind(Some(district.to_string()))
            .fetch_all(&mut *$tx)
            .await?;
        let counts = fold_counts(rows).pop().unwrap_or(DistrictCounts {
            district: district.to_string(),
            total: 0,
            by_status: std::collections::BTreeMap::new(),
        });
        let from = from.unwrap_or_else(|| "unconfirmed".into());
        let data = $crate::register::safety::Recorded { district, from: &from, to: status, counts };
        let event = $crate::events::record!($tx, activation_id, $seq, "safety_recorded", actor, &data);
        let saved = Check {
            id,
            resident_id: resident_id.to_string(),
            status: status.to_string(),
            note: note.to_string(),
            checked_by: actor.name.clone(),
            checked_at: now,
        };
        (saved, event)
    }};
}
pub use crate::safety_record_in as record_in;

/// A safety status to record for one person.
#[derive(Deserialize, ToSchema)]
#[schema(as = NewSafetyCheck)]
#[serde(deny_unknown_fields)]
pub struct NewCheck {
    /// The person's 宛名番号, as in the register.
    pub resident_id: String,
    #[schema(value_type = SafetyStatus)]
    pub status: String,
    /// What was found, for the next person who reads the record (at most 1,000 characters).
    #[serde(default)]
    pub note: String,
}

/// One recorded safety status (安否確認): who recorded it, when, and their note.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = SafetyCheck)]
pub struct Check {
    pub id: i64,
    pub resident_id: String,
    #[schema(value_type = SafetyStatus)]
    pub status: String,
    pub note: String,
    /// The staff account that recorded it.
    pub checked_by: String,
    pub checked_at: Timestamp,
}

#[derive(Serialize)]
pub struct Recorded<'a> {
    pub district: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    /// The district's counts after the change: terminals replace theirs.
    pub counts: DistrictCounts,
}

/// Records a status for a person the user may see. One transaction: the check, the current
/// status, the event.
pub async fn record(
    store: &Store,
    user: &CurrentUser,
    activation_id: i64,
    check: NewCheck,
) -> Result<(Check, Event)> {
    if !STATUSES.contains(&check.status.as_str()) {
        return Err(AppError::invalid(
            "status",
            format!("status must be one of {}", STATUSES.join(", ")),
        ));
    }
    let note = check.note.trim().to_string();
    if note.chars().count() > 1000 {
        return Err(AppError::invalid(
            "note",
            "a note has at most 1000 characters",
        ));
    }
    let activation = crate::activations::get_one(store, activation_id).await?;
    let scope = visibility::scope(store, user, Some(&activation)).await?;
    let actor = user.actor();
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let person: Option<(Option<String>, Option<bool>, Option<Timestamp>)> = sqlx::query_as(
            "SELECT district, consent, removed_at FROM register_persons WHERE resident_id = $1",
        )
        .bind(&check.resident_id)
        .fetch_optional(&mut *tx)
        .await?;
        // A person the user may not see is answered as if absent: the answer reveals nothing.
        let Some((district, _, removed_at)) = person.filter(|(_, consent, _)| scope.sees(*consent)) else {
            return Err(AppError::NotFound("person"));
        };
        if removed_at.is_some() {
            return Err(AppError::conflict("person_removed", "this person was removed from the register by a later import"));
        }
        let district = district.unwrap_or_default();
        let (saved, event) = record_in!(tx, activation_id, seq, &check.resident_id, &district, &check.status, &note, &actor, now);
        (saved, event)
    });
    Ok(out)
}

/// A person's recorded statuses in an activation, oldest first.
pub async fn history(store: &Store, activation_id: i64, resident_id: &str) -> Result<Vec<Check>> {
    let rows = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT id, resident_id, status, note, checked_by, checked_at FROM safety_checks \
             WHERE activation_id = $1 AND resident_id = $2 ORDER BY id",
        )
        .bind(activation_id)
        .bind(resident_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// The board's safety section: counts for every district.
pub async fn counts(store: &Store, activation_id: i64) -> Result<Vec<DistrictCounts>> {
    let rows: Vec<CountRow> = on_pool!(store, pool => {
        sqlx::query_as(COUNT_SQL).bind(activation_id).bind(Option::<String>::None).fetch_all(pool).await?
    });
    Ok(fold_counts(rows))
}
