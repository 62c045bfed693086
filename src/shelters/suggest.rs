//! Where to place someone: the open shelters of an activation ranked for one person, and a
//! whole district planned at once ("assign every unassigned person by suggestion"), previewed
//! before anything is written.
//!
//! The order, as the centre decides it: a place must be free; then the shelter named in the
//! person's individual evacuation plan (個別避難計画, the register's designated_shelter);
//! then how well the shelter fits the person's needs (the categories it accepts, the
//! facilities it has); then more free places; then the shorter distance. Every suggestion
//! carries its reasons in words, because a coordinator must be able to say why.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::assignments::{self, Assignment, Placement};
use super::openings::ShelterState;
use crate::activations::Activation;
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::events::{self, Event};
use crate::register::visibility::{self, Scope};
use crate::store::{Store, Timestamp, on_pool, write_tx};

/// What ranking needs to know of a person.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct Candidate {
    pub resident_id: String,
    pub name: String,
    pub district: Option<String>,
    pub designated_shelter: Option<String>,
    pub birth_date: Option<String>,
    pub care_level: Option<String>,
    pub disability: Option<String>,
    pub support_reasons: Option<String>,
    pub notes: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub consent: Option<bool>,
}

/// The shelter categories and facilities a person needs, read from the register's words.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Needs {
    pub categories: Vec<&'static str>,
    pub facilities: Vec<&'static str>,
}

fn mentions(texts: &[&str], words: &[&str]) -> bool {
    texts.iter().any(|t| words.iter().any(|w| t.contains(w)))
}

/// Reads needs from care level, disability, reasons and notes. Deliberately plain keyword
/// matching on the words municipalities use; a coordinator sees the result and decides.
pub fn needs(person: &Candidate, today: NaiveDate) -> Needs {
    let disability = person.disability.as_deref().unwrap_or("");
    let all = [
        disability,
        person.support_reasons.as_deref().unwrap_or(""),
        person.notes.as_deref().unwrap_or(""),
        person.care_level.as_deref().unwrap_or(""),
    ];
    let mut categories = Vec::new();
    let age = person
        .birth_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|born| today.years_since(born));
    let cared_for = person
        .care_level
        .as_deref()
        .is_some_and(|c| c.starts_with("要介護") || c.starts_with("要支援"));
    if age.is_some_and(|a| a >= 65) || cared_for {
        categories.push("elderly");
    }
    if mentions(
        &[disability],
        &[
            "身体",
            "肢体",
            "視覚",
            "聴覚",
            "下肢",
            "上肢",
            "体幹",
            "車いす",
            "車椅子",
        ],
    ) {
        categories.push("physical_disability");
    }
    if mentions(&[disability], &["知的", "精神", "療育", "発達"]) {
        categories.push("intellectual_mental_disability");
    }
    if mentions(&all, &["認知症"]) {
        categories.push("dementia");
    }
    if mentions(
        &all,
        &["妊娠", "妊婦", "妊産婦", "乳児", "乳幼児", "新生児"],
    ) {
        categories.push("pregnant_infant");
    }
    if mentions(
        &all,
        &[
            "医療的ケア",
            "人工呼吸",
            "酸素",
            "透析",
            "吸引",
            "経管",
            "胃ろう",
        ],
    ) {
        categories.push("medical_care");
    }
    let mut facilities = Vec::new();
    if mentions(&all, &["車いす", "車椅子"]) {
        facilities.push("wheelchair_access");
    }
    if mentions(&all, &["酸素", "人工呼吸"]) {
        facilities.push("oxygen");
    }
    if mentions(&all, &["人工呼吸", "吸引"]) {
        facilities.push("generator");
    }
    Needs {
        categories,
        facilities,
    }
}

/// Why a shelter ranks where it does, as a code for programs and words for people.
#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
#[schema(as = SuggestionReason)]
pub struct Reason {
    /// `full`, `designated`, `category_fit`, `missing`, `free` or `distance`.
    pub code: &'static str,
    /// The reason in Japanese, for the coordinator (「空き3人」, 「約1.2km」).
    pub text: String,
}

/// An open shelter ranked for one person.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ShelterSuggestion)]
pub struct Suggestion {
    pub shelter_id: i64,
    pub name: String,
    /// 1 for the best.
    pub rank: usize,
    /// False when the shelter is full: listed last, for an admin who may override.
    pub available: bool,
    /// Places left (negative when an admin placed people past capacity).
    pub free: i64,
    /// Whether it is the shelter named in the person's individual evacuation plan
    /// (個別避難計画).
    pub designated: bool,
    /// The person's needs it does not meet: `ShelterCategory` and `ShelterFacility` codes.
    pub missing: Vec<String>,
    /// Straight-line distance from the person's home; null when either has no coordinates.
    pub distance_km: Option<f64>,
    pub reasons: Vec<Reason>,
}

/// Spaces (U+3000 too) do not make two names differ.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether the register's designated shelter names this facility: the same name, or one
/// contained in the other (「さくら苑」 in the registry's 「特別養護老人ホームさくら苑」).
pub fn is_designated(designated: Option<&str>, shelter_name: &str) -> bool {
    let Some(designated) = designated.map(squeeze).filter(|d| d.chars().count() >= 2) else {
        return false;
    };
    let name = squeeze(shelter_name);
    name == designated || name.contains(&designated) || designated.contains(&name)
}

/// Great-circle distance in kilometres.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Ranks the open shelters for one person. Pure: `shelters` carry the free places to count
/// with (a district plan lowers them as it goes).
pub fn rank(person: &Candidate, shelters: &[ShelterState], today: NaiveDate) -> Vec<Suggestion> {
    let needs = needs(person, today);
    let mut out: Vec<Suggestion> = shelters
        .iter()
        .filter(|s| s.is_open())
        .map(|s| {
            let designated = is_designated(person.designated_shelter.as_deref(), &s.name);
            let mut missing: Vec<String> = needs
                .categories
                .iter()
                .filter(|c| !s.categories.iter().any(|x| x == *c))
                .map(|c| c.to_string())
                .collect();
            missing.extend(
                needs
                    .facilities
                    .iter()
                    .filter(|f| !s.facilities.iter().any(|x| x == *f))
                    .map(|f| f.to_string()),
            );
            let distance = match (person.latitude, person.longitude, s.latitude, s.longitude) {
                (Some(a), Some(b), Some(c), Some(d)) => Some(distance_km((a, b), (c, d))),
                _ => None,
            };
            let free = s.free();
            let mut reasons = Vec::new();
            if free <= 0 {
                reasons.push(Reason {
                    code: "full",
                    text: format!("満員（定員{}人）", s.capacity),
                });
            }
            if designated {
                reasons.push(Reason {
                    code: "designated",
                    text: "個別避難計画の避難先".into(),
                });
            }
            let fitting: Vec<&str> = needs
                .categories
                .iter()
                .filter(|c| s.categories.iter().any(|x| x == *c))
                .map(|c| super::category_label(c))
                .collect();
            if !fitting.is_empty() {
                reasons.push(Reason {
                    code: "category_fit",
                    text: format!("受入対象：{}", fitting.join("・")),
                });
            }
            if !missing.is_empty() {
                let labels: Vec<&str> = missing
                    .iter()
                    .map(|m| {
                        super::CATEGORIES
                            .iter()
                            .chain(super::FACILITIES.iter())
                            .find(|(c, _)| c == m)
                            .map_or(m.as_str(), |(_, l)| l)
                    })
                    .collect();
                reasons.push(Reason {
                    code: "missing",
                    text: format!("対応なし：{}", labels.join("・")),
                });
            }
            if free > 0 {
                reasons.push(Reason {
                    code: "free",
                    text: format!("空き{free}人"),
                });
            }
            if let Some(d) = distance {
                reasons.push(Reason {
                    code: "distance",
                    text: format!("約{d:.1}km"),
                });
            }
            Suggestion {
                shelter_id: s.id,
                name: s.name.clone(),
                rank: 0,
                available: free > 0,
                free,
                designated,
                missing,
                distance_km: distance.map(|d| (d * 100.0).round() / 100.0),
                reasons,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.available
            .cmp(&a.available)
            .then(b.designated.cmp(&a.designated))
            .then(a.missing.len().cmp(&b.missing.len()))
            .then(b.free.cmp(&a.free))
            .then(
                a.distance_km
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.distance_km.unwrap_or(f64::INFINITY)),
            )
            .then(a.name.cmp(&b.name))
    });
    for (i, s) in out.iter_mut().enumerate() {
        s.rank = i + 1;
    }
    out
}

/// The columns ranking reads, as a literal so queries can `concat!` joins and conditions.
macro_rules! candidate_columns {
    () => {
        "SELECT p.resident_id, p.name, p.district, p.designated_shelter, p.birth_date, \
     p.care_level, p.disability, p.support_reasons, p.notes, p.latitude, p.longitude, p.consent"
    };
}

/// The ranked shelters for one person the user may see.
pub async fn for_person(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    resident_id: &str,
) -> Result<Vec<Suggestion>> {
    user.require(&[Role::Coordinator, Role::Admin])?;
    let scope = visibility::scope(store, user, Some(activation)).await?;
    let person: Option<Candidate> = on_pool!(store, pool => {
        sqlx::query_as(concat!(candidate_columns!(), " FROM register_persons p WHERE p.resident_id = $1 AND p.removed_at IS NULL"))
            .bind(resident_id)
            .fetch_optional(pool)
            .await?
    });
    let person = person
        .filter(|p| scope.sees(p.consent))
        .ok_or(AppError::NotFound("person"))?;
    let shelters = super::openings::states(store, activation.id).await?;
    Ok(rank(
        &person,
        &shelters,
        crate::register::import::today_in_japan(),
    ))
}

/// Safety statuses whose people need no shelter place now.
const NEEDS_NO_PLACE: [&str; 3] = ["safe_at_home", "hospital", "deceased"];

/// One person the plan would place: who, where, and the reasons of the top suggestion.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlannedPlacement {
    /// The person's resident number (宛名番号) in the register.
    pub resident_id: String,
    pub name: String,
    pub shelter_id: i64,
    pub shelter_name: String,
    pub reasons: Vec<Reason>,
}

/// A person the plan could not place.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnplacedPerson)]
pub struct Unplaced {
    pub resident_id: String,
    pub name: String,
    /// Why, in Japanese: no open shelter, or no open shelter with a free place.
    pub why: String,
}

/// A district's plan: who would go where, who could not be placed, and who was left out
/// because they need no place (by safety status) or cannot be assigned here.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictPlan {
    pub district: String,
    pub placements: Vec<PlannedPlacement>,
    pub unplaced: Vec<Unplaced>,
    /// People already assigned, or by safety status needing no place: counted by reason
    /// (`already_assigned`, `safe_at_home`, `hospital`, `deceased`).
    pub skipped: std::collections::BTreeMap<String, i64>,
    /// People the user may not see (no consent, no disclosure) or who cannot be assigned in
    /// a drill: counted only.
    pub hidden: i64,
}

#[derive(sqlx::FromRow)]
struct DistrictRow {
    #[sqlx(flatten)]
    person: Candidate,
    safety_status: Option<String>,
    assignment_status: Option<String>,
}

/// Plans a district: every person without a place gets the top suggestion among the places
/// still free after the people planned before them. People who asked for help (needs_help)
/// come first, then by kana. Nothing is written.
pub async fn plan_district(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    district: &str,
) -> Result<DistrictPlan> {
    user.require(&[Role::Coordinator, Role::Admin])?;
    let scope = visibility::scope(store, user, Some(activation)).await?;
    let real = activation.kind == "real";
    let activation_id = activation.id;
    let rows: Vec<DistrictRow> = on_pool!(store, pool => {
        sqlx::query_as(concat!(
            candidate_columns!(),
            ", s.status AS safety_status, a.status AS assignment_status FROM register_persons p \
             LEFT JOIN safety_status s ON s.resident_id = p.resident_id AND s.activation_id = $1 \
             LEFT JOIN assignments a ON a.resident_id = p.resident_id AND a.activation_id = $1 AND a.superseded_at IS NULL \
             WHERE p.removed_at IS NULL AND COALESCE(p.district, '') = $2 \
             ORDER BY CASE WHEN s.status = 'needs_help' THEN 0 ELSE 1 END, p.name_kana, p.resident_id"
        ))
        .bind(activation_id)
        .bind(district)
        .fetch_all(pool)
        .await?
    });
    let mut shelters = super::openings::states(store, activation_id).await?;
    let today = crate::register::import::today_in_japan();
    let mut plan = DistrictPlan {
        district: district.to_string(),
        placements: Vec::new(),
        unplaced: Vec::new(),
        skipped: Default::default(),
        hidden: 0,
    };
    for row in rows {
        let person = row.person;
        if !scope.sees(person.consent) || (!real && person.consent != Some(true)) {
            plan.hidden += 1;
            continue;
        }
        if let Some(status) = row.assignment_status.as_deref()
            && (status == "assigned" || status == "arrived")
        {
            *plan.skipped.entry("already_assigned".into()).or_default() += 1;
            continue;
        }
        if let Some(status) = row.safety_status.as_deref()
            && NEEDS_NO_PLACE.contains(&status)
        {
            *plan.skipped.entry(status.to_string()).or_default() += 1;
            continue;
        }
        let ranked = rank(&person, &shelters, today);
        match ranked.into_iter().find(|s| s.available) {
            Some(best) => {
                if let Some(s) = shelters.iter_mut().find(|s| s.id == best.shelter_id) {
                    s.assigned += 1;
                }
                plan.placements.push(PlannedPlacement {
                    resident_id: person.resident_id,
                    name: person.name,
                    shelter_id: best.shelter_id,
                    shelter_name: best.name,
                    reasons: best.reasons,
                });
            }
            None => plan.unplaced.push(Unplaced {
                resident_id: person.resident_id,
                name: person.name,
                why: if shelters.iter().any(ShelterState::is_open) {
                    "空きのある福祉避難所がありません".into()
                } else {
                    "開設中の福祉避難所がありません".into()
                },
            }),
        }
    }
    Ok(plan)
}

/// One placement of a previewed plan, as confirmed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlanItem)]
pub struct PlannedItem {
    /// The person's resident number (宛名番号) in the register.
    pub resident_id: String,
    pub shelter_id: i64,
    /// Why this shelter (at most 1,000 characters); left empty, 「地区一括割当（提案どおり）」
    /// (assigned by district, as suggested).
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub reason: String,
}

/// The placements of a previewed plan to write, all or none.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlanConfirmation)]
pub struct Confirmation {
    /// 1 to 2,000 placements, each person at most once.
    #[schema(min_items = 1, max_items = 2000)]
    pub placements: Vec<PlannedItem>,
}

/// The most placements one confirmation writes: a large district, in one transaction.
const MAX_BATCH: usize = 2000;

/// Writes a previewed plan in one transaction: every placement or none. A placement that no
/// longer holds (someone took the last place meanwhile) refuses the whole batch, naming it,
/// so the coordinator previews again.
pub async fn confirm(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    confirmation: Confirmation,
) -> Result<(Vec<Assignment>, Vec<Event>)> {
    user.require(&[Role::Coordinator, Role::Admin])?;
    super::require_open(activation)?;
    if confirmation.placements.is_empty() || confirmation.placements.len() > MAX_BATCH {
        return Err(AppError::invalid(
            "placements",
            format!("a confirmation has 1 to {MAX_BATCH} placements"),
        ));
    }
    for (i, item) in confirmation.placements.iter().enumerate() {
        if item.reason.chars().count() > 1000 {
            return Err(AppError::invalid(
                format!("placements[{i}].reason"),
                "reason has at most 1000 characters",
            ));
        }
        if confirmation.placements[..i]
            .iter()
            .any(|p| p.resident_id == item.resident_id)
        {
            return Err(AppError::invalid(
                format!("placements[{i}].resident_id"),
                "this person is listed twice",
            ));
        }
    }
    let scope: Scope = visibility::scope(store, user, Some(activation)).await?;
    let real = activation.kind == "real";
    let activation_id = activation.id;
    let actor = user.actor();
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let mut made = Vec::new();
        let mut written = Vec::new();
        for (i, item) in confirmation.placements.iter().enumerate() {
            let seq = events::next_seq!(tx, activation_id);
            let reason = if item.reason.trim().is_empty() { "地区一括割当（提案どおり）" } else { item.reason.trim() };
            let placement = Placement { resident_id: &item.resident_id, shelter_id: item.shelter_id, reason, override_reason: None };
            let (assignment, event) = assignments::assign_in!(tx, activation_id, seq, &placement, scope, real, &actor, now)
                .map_err(|e| name_item(e, i))?;
            made.push(assignment);
            written.push(event);
        }
        (made, written)
    });
    Ok(out)
}

/// Says which placement of a batch failed.
fn name_item(error: AppError, index: usize) -> AppError {
    match error {
        AppError::Conflict { code, message } => AppError::Conflict {
            code,
            message: format!("placements[{index}]: {message}; nothing was assigned, preview again"),
        },
        AppError::NotFound(what) => AppError::invalid(
            format!("placements[{index}]"),
            format!("{what} not found; nothing was assigned"),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    /// A birth date `years_ago` years before `today`'s year.
    fn born(years_ago: i32, today: NaiveDate) -> String {
        format!("{}-01-01", today.year() - years_ago)
    }

    fn shelter(
        id: i64,
        name: &str,
        open: bool,
        capacity: i64,
        categories: &[&str],
    ) -> ShelterState {
        ShelterState {
            id,
            name: name.into(),
            status: if open { "open" } else { "closed" }.into(),
            capacity,
            assigned: 0,
            arrived: 0,
            opened_at: None,
            closed_at: None,
            categories: categories.iter().map(|c| c.to_string()).collect(),
            categories_json: String::new(),
            facilities: vec![],
            facilities_json: String::new(),
            latitude: None,
            longitude: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn needs_are_read_from_the_registers_words() {
        let person = Candidate {
            birth_date: Some(born(80, today())),
            disability: Some("肢体不自由（車いす使用）".into()),
            support_reasons: Some("在宅酸素療法".into()),
            ..Default::default()
        };
        let read = needs(&person, today());
        assert_eq!(
            read.categories,
            vec!["elderly", "physical_disability", "medical_care"]
        );
        assert_eq!(read.facilities, vec!["wheelchair_access", "oxygen"]);
        let young = Candidate {
            birth_date: Some(born(30, today())),
            ..Default::default()
        };
        assert!(needs(&young, today()).categories.is_empty());
    }

    #[test]
    fn the_designated_shelter_comes_first_then_fit_then_free_places_then_distance() {
        let person = Candidate {
            designated_shelter: Some("さくら 苑".into()),
            birth_date: Some(born(85, today())),
            disability: Some("認知症".into()),
            latitude: Some(35.0),
            longitude: Some(139.0),
            ..Default::default()
        };
        let mut near = shelter(1, "近いケアプラザ", true, 10, &["elderly", "dementia"]);
        near.latitude = Some(35.001);
        near.longitude = Some(139.0);
        let mut far = shelter(2, "遠いケアプラザ", true, 10, &["elderly", "dementia"]);
        far.latitude = Some(35.1);
        far.longitude = Some(139.0);
        let roomy_far = {
            let mut s = shelter(3, "広い施設", true, 50, &["elderly", "dementia"]);
            s.latitude = Some(35.2);
            s.longitude = Some(139.0);
            s
        };
        let unfit = shelter(4, "母子避難所", true, 100, &["pregnant_infant"]);
        let designated = shelter(5, "特別養護老人ホームさくら苑", true, 2, &["elderly"]);
        let mut full = shelter(6, "満員の施設", true, 1, &["elderly", "dementia"]);
        full.assigned = 1;
        let closed = shelter(7, "閉鎖中", false, 10, &["elderly", "dementia"]);
        let ranked = rank(
            &person,
            &[near, far, roomy_far, unfit, designated, full, closed],
            today(),
        );
        let order: Vec<i64> = ranked.iter().map(|s| s.shelter_id).collect();
        // Designated (even though it lacks dementia care), then the full fits by free places
        // (50 before 10 and 10), the two tens by distance, then the unfit, the full one last;
        // the closed one is not suggested at all.
        assert_eq!(order, vec![5, 3, 1, 2, 4, 6]);
        assert_eq!(ranked[0].reasons[0].code, "designated");
        assert!(!ranked[5].available);
        assert_eq!(ranked[5].reasons[0].code, "full");
        assert!(ranked[1].distance_km.unwrap() > ranked[2].distance_km.unwrap());
    }

    #[test]
    fn designation_ignores_spaces_and_needs_a_real_name() {
        assert!(is_designated(Some("さくら　苑"), "さくら苑"));
        assert!(is_designated(Some("特養さくら苑"), "さくら苑"));
        assert!(!is_designated(Some("苑"), "さくら苑"));
        assert!(!is_designated(None, "さくら苑"));
    }
}
