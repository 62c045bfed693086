//! Assignments: a register person placed in a welfare shelter for one activation, and what the
//! shelter's operator records when they come (到着), do not come (未到着), leave (退所) or are
//! transferred (移送: to hospital, elsewhere).
//!
//! A person has at most one active assignment per activation (a partial unique index says so
//! to the database too); reassigning supersedes the active one, so the history stays. A
//! closed or full shelter refuses with 409 unless an admin overrides with a reason.
//!
//! Why two coordinators cannot both take the last place: every write here first takes the
//! activation's next `seq` (`events::next_seq!`), an UPDATE that locks the activation's row
//! until commit (PostgreSQL; on SQLite the write lock is the whole database). Writers of one
//! activation therefore run one after another, and each counts the places after the previous
//! one committed (READ COMMITTED reads afresh per statement).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::openings::states_in;
use crate::activations::Activation;
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::events::{self, Event};
use crate::register::safety;
use crate::register::visibility::{self, Scope};
use crate::store::{Store, Timestamp, on_pool, write_tx};

/// What the operator records, and what each means for places and safety.
pub const OPERATOR_STATUSES: [&str; 4] = ["arrived", "not_arrived", "left", "transferred"];

/// Where a transferred person went.
pub const DESTINATIONS: [&str; 4] = ["hospital", "other_shelter", "home", "other"];

crate::code_schema!(
    OperatorStatus,
    "What a shelter operator records of an assigned person: arrived (到着), not_arrived (未到着), left (退所), transferred (移送: to hospital, another shelter, home or elsewhere).",
    OPERATOR_STATUSES.to_vec()
);
crate::code_schema!(
    TransferDestination,
    "Where a transferred person went: hospital (病院), other_shelter (他の避難所), home (自宅), other (その他).",
    DESTINATIONS.to_vec()
);

/// A register person placed in a welfare shelter in one activation.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = ShelterAssignment)]
pub struct Assignment {
    pub id: i64,
    pub activation_id: i64,
    /// The person's resident number (宛名番号) in the register.
    pub resident_id: String,
    pub shelter_id: i64,
    pub shelter_name: String,
    /// Why this shelter, as the coordinator wrote it (may be empty).
    pub reason: String,
    /// Set when an admin placed the person in a closed or full shelter anyway: why.
    pub override_reason: Option<String>,
    /// `assigned` (受入予定) until the operator records `arrived`, `not_arrived`, `left` or
    /// `transferred`.
    pub status: String,
    pub assigned_by: String,
    pub assigned_at: Timestamp,
    /// When the person was assigned elsewhere: this assignment is then history.
    pub superseded_at: Option<Timestamp>,
    pub superseded_by: Option<String>,
}

macro_rules! select_assignment {
    () => {
        "SELECT a.id, a.activation_id, a.resident_id, a.shelter_id, s.name AS shelter_name, \
     a.reason, a.override_reason, a.status, a.assigned_by, a.assigned_at, a.superseded_at, a.superseded_by \
         FROM assignments a JOIN shelters s ON s.id = a.shelter_id"
    };
}

/// A placement: who goes to which shelter, and why.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewShelterAssignment)]
pub struct NewAssignment {
    /// The person's resident number (宛名番号) in the register.
    pub resident_id: String,
    pub shelter_id: i64,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub reason: String,
    /// Set by an admin to place someone in a closed or full shelter anyway: why. From anyone
    /// else, refused with 403 (empty is the same as left out).
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub override_reason: Option<String>,
}

/// The board-safe data of an assignment event: ids and numbers, never the person.
#[derive(Serialize)]
pub(crate) struct AssignmentEvent {
    pub assignment_id: i64,
    pub shelter_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_shelter_id: Option<i64>,
    pub status: String,
    pub overridden: bool,
    pub shelters: Vec<super::openings::ShelterState>,
}

fn check_text(field: &str, text: &str, max: usize) -> Result<String> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{field} has at most {max} characters"),
        ));
    }
    Ok(text.to_string())
}

/// One placement to make: who, where, why.
pub struct Placement<'a> {
    pub resident_id: &'a str,
    pub shelter_id: i64,
    pub reason: &'a str,
    pub override_reason: Option<&'a str>,
}

/// Makes one placement inside the open transaction `$tx`, under the `seq` the caller took:
/// the checks (visible, not removed, consent in a drill, open, a free place), the superseded
/// assignment, the new one and its `assignment_made` event. Evaluates to
/// `Result<(Assignment, Event)>`, so a batch can say which of its placements failed.
macro_rules! assign_in {
    ($tx:expr, $activation:expr, $seq:expr, $placement:expr, $scope:expr, $real:expr, $actor:expr, $now:expr) => {
        async {
            let activation_id: i64 = $activation;
            let new: &crate::shelters::assignments::Placement<'_> = $placement;
            let scope: crate::register::visibility::Scope = $scope;
            let real: bool = $real;
            let actor: &crate::events::Actor = $actor;
            let now: crate::store::Timestamp = $now;
            let reason = new.reason.to_string();
            let override_reason = new.override_reason.map(str::to_string);
            let person: Option<(Option<bool>, Option<crate::store::Timestamp>)> =
                sqlx::query_as("SELECT consent, removed_at FROM register_persons WHERE resident_id = $1")
                    .bind(new.resident_id)
                    .fetch_optional(&mut *$tx)
                    .await?;
            // A person the user may not see is answered as if absent.
            let Some((consent, removed_at)) = person.filter(|(consent, _)| scope.sees(*consent)) else {
                return Err(crate::error::AppError::NotFound("person"));
            };
            if removed_at.is_some() {
                return Err(crate::error::AppError::conflict("person_removed", "this person was removed from the register by a later import"));
            }
            // The operator will see this person's record: in a drill only people who consented
            // may be shared, whoever assigns them (DOMAIN.md: drills never unlock records).
            if consent != Some(true) && !real {
                return Err(crate::error::AppError::conflict(
                    "consent_required",
                    "in a drill only people who consented to sharing (情報提供同意) can be assigned",
                ));
            }
            let mut states = crate::shelters::openings::states_in!($tx, activation_id, Some(new.shelter_id));
            let Some(shelter) = states.pop() else {
                return Err(crate::error::AppError::NotFound("shelter"));
            };
            let current: Option<(i64, i64, String)> = sqlx::query_as(
                "SELECT id, shelter_id, status FROM assignments \
                 WHERE activation_id = $1 AND resident_id = $2 AND superseded_at IS NULL",
            )
            .bind(activation_id)
            .bind(new.resident_id)
            .fetch_optional(&mut *$tx)
            .await?;
            if let Some((_, shelter_id, status)) = &current
                && *shelter_id == new.shelter_id
                && (status == "assigned" || status == "arrived")
            {
                return Err(crate::error::AppError::conflict(
                    "already_assigned",
                    format!("this person is already assigned to {}", shelter.name),
                ));
            }
            if !shelter.is_open() && override_reason.is_none() {
                return Err(crate::error::AppError::conflict(
                    "shelter_closed",
                    format!("{} is not open in this activation; open it first, or an admin may override with a reason", shelter.name),
                ));
            }
            if shelter.free() <= 0 && override_reason.is_none() {
                return Err(crate::error::AppError::conflict(
                    "shelter_full",
                    format!(
                        "{} is full: {} places, {} assigned, {} arrived; an admin may override with a reason",
                        shelter.name, shelter.capacity, shelter.assigned, shelter.arrived
                    ),
                ));
            }
            let previous_shelter_id = match &current {
                Some((id, shelter_id, _)) => {
                    sqlx::query("UPDATE assignments SET superseded_at = $1, superseded_by = $2 WHERE id = $3")
                        .bind(now)
                        .bind(&actor.name)
                        .bind(id)
                        .execute(&mut *$tx)
                        .await?;
                    Some(*shelter_id)
                }
                None => None,
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO assignments (activation_id, resident_id, shelter_id, reason, override_reason, status, assigned_by, assigned_at) \
                 VALUES ($1, $2, $3, $4, $5, 'assigned', $6, $7) RETURNING id",
            )
            .bind(activation_id)
            .bind(new.resident_id)
            .bind(new.shelter_id)
            .bind(&reason)
            .bind(&override_reason)
            .bind(&actor.name)
            .bind(now)
            .fetch_one(&mut *$tx)
            .await?;
            let mut shelters = crate::shelters::openings::states_in!($tx, activation_id, Some(new.shelter_id));
            if let Some(previous) = previous_shelter_id.filter(|p| *p != new.shelter_id) {
                shelters.extend(crate::shelters::openings::states_in!($tx, activation_id, Some(previous)));
            }
            let data = crate::shelters::assignments::AssignmentEvent {
                assignment_id: id,
                shelter_id: new.shelter_id,
                previous_shelter_id,
                status: "assigned".into(),
                overridden: override_reason.is_some(),
                shelters,
            };
            let event = crate::events::record!($tx, activation_id, $seq, "assignment_made", &actor, &data);
            let assignment = crate::shelters::assignments::Assignment {
                id,
                activation_id,
                resident_id: new.resident_id.to_string(),
                shelter_id: new.shelter_id,
                shelter_name: shelter.name.clone(),
                reason: reason.clone(),
                override_reason: override_reason.clone(),
                status: "assigned".into(),
                assigned_by: actor.name.clone(),
                assigned_at: now,
                superseded_at: None,
                superseded_by: None,
            };
            Ok::<_, crate::error::AppError>((assignment, event))
        }
        .await
    };
}
pub(crate) use assign_in;

/// Places a person in a shelter (or moves them to another). One transaction: the checks, the
/// superseded assignment, the new one, the event.
pub async fn assign(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    new: NewAssignment,
) -> Result<(Assignment, Event)> {
    user.require(&[Role::Coordinator, Role::Admin])?;
    super::require_open(activation)?;
    let reason = check_text("reason", &new.reason, 1000)?;
    let override_reason = match new.override_reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            if user.role != Role::Admin {
                return Err(AppError::Forbidden(
                    "only an admin may place someone in a closed or full shelter",
                ));
            }
            Some(check_text("override_reason", text, 1000)?)
        }
    };
    let scope = visibility::scope(store, user, Some(activation)).await?;
    let activation_id = activation.id;
    let real = activation.kind == "real";
    let actor = user.actor();
    let now = Timestamp::now();
    let placement = Placement {
        resident_id: &new.resident_id,
        shelter_id: new.shelter_id,
        reason: &reason,
        override_reason: override_reason.as_deref(),
    };
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        assign_in!(tx, activation_id, seq, &placement, scope, real, &actor, now)?
    });
    Ok(out)
}

/// An assignment as the operator's record needs it: shelter, person, whether it is history,
/// the shelter's name and the person's district.
type AssignmentSubject = (i64, String, Option<Timestamp>, String, Option<String>);

/// What the shelter's operator records for an assignment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AssignmentStatusUpdate)]
pub struct StatusUpdate {
    /// `arrived` (到着: also records the person as evacuated), `not_arrived` (未到着), `left`
    /// (退所) or `transferred` (移送).
    #[schema(value_type = OperatorStatus)]
    pub status: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub note: String,
    /// Only for `transferred`, and required there: `hospital` also records the person as in
    /// hospital.
    #[serde(default)]
    #[schema(value_type = Option<TransferDestination>)]
    pub destination: Option<String>,
}

/// One record the operator made for an assignment.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = AssignmentUpdate)]
pub struct Update {
    pub id: i64,
    pub assignment_id: i64,
    /// `arrived`, `not_arrived`, `left` or `transferred`.
    pub status: String,
    /// For a transfer: `hospital`, `other_shelter`, `home` or `other`; otherwise empty.
    pub destination: String,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
}

/// Whether `user` may act on or read assignments of `shelter_id`: the centre, and that
/// shelter's own operator. Anyone else is told the thing does not exist: an operator probing
/// another shelter learns nothing.
fn may_handle(user: &CurrentUser, shelter_id: i64) -> Result<()> {
    match user.role {
        Role::Admin | Role::Coordinator => Ok(()),
        Role::ShelterOperator if user.shelter_id == Some(shelter_id) => Ok(()),
        Role::ShelterOperator => Err(AppError::NotFound("assignment")),
        Role::Board => Err(AppError::Forbidden("your role may not do this")),
    }
}

/// The operator's record for an assignment. Arrival also records the person's safety status
/// as `evacuated`, and a transfer to hospital as `hospital`, in the same transaction.
pub async fn record_status(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    assignment_id: i64,
    update: StatusUpdate,
) -> Result<(Update, Vec<Event>)> {
    if user.role == Role::Board {
        return Err(AppError::Forbidden("your role may not do this"));
    }
    super::require_open(activation)?;
    if !OPERATOR_STATUSES.contains(&update.status.as_str()) {
        return Err(AppError::invalid(
            "status",
            format!("status must be one of {}", OPERATOR_STATUSES.join(", ")),
        ));
    }
    let destination = match (update.status.as_str(), update.destination.as_deref()) {
        ("transferred", None) => {
            return Err(AppError::invalid(
                "destination",
                format!(
                    "a transfer needs a destination: one of {}",
                    DESTINATIONS.join(", ")
                ),
            ));
        }
        (_, Some(d)) if !DESTINATIONS.contains(&d) => {
            return Err(AppError::invalid(
                "destination",
                format!("destination must be one of {}", DESTINATIONS.join(", ")),
            ));
        }
        ("transferred", Some(d)) => d.to_string(),
        (_, Some(_)) => {
            return Err(AppError::invalid(
                "destination",
                "only a transfer has a destination",
            ));
        }
        (_, None) => String::new(),
    };
    let note = check_text("note", &update.note, 1000)?;
    let activation_id = activation.id;
    let actor = user.actor();
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let row: Option<AssignmentSubject> = sqlx::query_as(
            "SELECT a.shelter_id, a.resident_id, a.superseded_at, s.name, p.district FROM assignments a \
             JOIN shelters s ON s.id = a.shelter_id JOIN register_persons p ON p.resident_id = a.resident_id \
             WHERE a.id = $1 AND a.activation_id = $2",
        )
        .bind(assignment_id)
        .bind(activation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((shelter_id, resident_id, superseded_at, shelter_name, district)) = row else {
            return Err(AppError::NotFound("assignment"));
        };
        may_handle(user, shelter_id)?;
        if superseded_at.is_some() {
            return Err(AppError::conflict(
                "assignment_superseded",
                "this person has since been assigned elsewhere; this assignment is history",
            ));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO assignment_updates (assignment_id, status, destination, note, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(assignment_id)
        .bind(&update.status)
        .bind(&destination)
        .bind(&note)
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE assignments SET status = $1 WHERE id = $2")
            .bind(&update.status)
            .bind(assignment_id)
            .execute(&mut *tx)
            .await?;
        let shelters = states_in!(tx, activation_id, Some(shelter_id));
        let data = AssignmentEvent {
            assignment_id,
            shelter_id,
            previous_shelter_id: None,
            status: update.status.clone(),
            overridden: false,
            shelters,
        };
        let mut events = vec![events::record!(tx, activation_id, seq, "assignment_updated", &actor, &data)];
        let safety_status = match (update.status.as_str(), destination.as_str()) {
            ("arrived", _) => Some("evacuated"),
            ("transferred", "hospital") => Some("hospital"),
            _ => None,
        };
        if let Some(status) = safety_status {
            let seq = events::next_seq!(tx, activation_id);
            let safety_note = if note.is_empty() { shelter_name.clone() } else { format!("{shelter_name}: {note}") };
            let district = district.unwrap_or_default();
            let (_, event) = safety::record_in!(tx, activation_id, seq, &resident_id, &district, status, &safety_note, &actor, now);
            events.push(event);
        }
        let saved = Update {
            id,
            assignment_id,
            status: update.status.clone(),
            destination: destination.clone(),
            note: note.clone(),
            recorded_by: actor.name.clone(),
            recorded_at: now,
        };
        (saved, events)
    });
    Ok(out)
}

/// A person as their shelter receives them: what is needed to take them in, care needs
/// included, with the assignment and everything recorded for it.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct AssignedPerson {
    pub assignment_id: i64,
    /// The person's resident number (宛名番号) in the register.
    pub resident_id: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub district: Option<String>,
    pub care_level: Option<String>,
    pub disability: Option<String>,
    pub support_reasons: Option<String>,
    pub supporters: Option<String>,
    pub notes: Option<String>,
    #[serde(skip)]
    pub consent: Option<bool>,
    /// The assignment's status: `assigned`, `arrived`, `not_arrived`, `left` or
    /// `transferred`.
    pub status: String,
    pub reason: String,
    pub assigned_by: String,
    pub assigned_at: Timestamp,
    /// What the operator recorded, oldest first.
    #[sqlx(skip)]
    pub updates: Vec<Update>,
}

/// Whether `user` may read the list of `shelter_id`'s people: the centre and that shelter's
/// operator. Checked before anything is looked up.
pub(crate) fn may_read_list(user: &CurrentUser, shelter_id: i64) -> Result<()> {
    if user.role == Role::ShelterOperator && user.shelter_id != Some(shelter_id) {
        return Err(AppError::Forbidden(
            "an operator sees only their own shelter's people",
        ));
    }
    may_handle(user, shelter_id)
}

/// The people assigned to one shelter in an activation, with what the user may see of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShelterList {
    pub shelter: super::openings::ShelterState,
    pub people: Vec<AssignedPerson>,
    /// People a coordinator may not see here (no consent, no disclosure): counted, not shown.
    pub hidden: usize,
    /// Who read the list (printed on the paper copy).
    pub printed_by: String,
    pub read_at: Timestamp,
}

/// The shelter's people, newest assignment first within each status, awaiting arrival first.
/// Audited: who read which shelter's list, and how many people it showed.
pub async fn list_for_shelter(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    shelter_id: i64,
    action: &str,
) -> Result<ShelterList> {
    may_read_list(user, shelter_id)?;
    // The operator sees their shelter's people: the assignment is the sharing (a drill only
    // ever assigns people who consented). Coordinators see as the register lets them.
    let scope = match user.role {
        Role::ShelterOperator => Scope::Everyone,
        _ => visibility::scope(store, user, Some(activation)).await?,
    };
    let activation_id = activation.id;
    let actor = user.username.clone();
    let now = Timestamp::now();
    let (state, mut people) = write_tx!(store, tx => {
        let mut states = states_in!(tx, activation_id, Some(shelter_id));
        let Some(state) = states.pop() else {
            return Err(AppError::NotFound("shelter"));
        };
        let people: Vec<AssignedPerson> = sqlx::query_as(
            "SELECT a.id AS assignment_id, p.resident_id, p.name, p.name_kana, p.birth_date, p.sex, p.address, p.phone, \
             p.district, p.care_level, p.disability, p.support_reasons, p.supporters, p.notes, p.consent, \
             a.status, a.reason, a.assigned_by, a.assigned_at \
             FROM assignments a JOIN register_persons p ON p.resident_id = a.resident_id \
             WHERE a.activation_id = $1 AND a.shelter_id = $2 AND a.superseded_at IS NULL \
             ORDER BY CASE a.status WHEN 'assigned' THEN 0 WHEN 'not_arrived' THEN 1 WHEN 'arrived' THEN 2 ELSE 3 END, \
             p.name_kana, p.resident_id",
        )
        .bind(activation_id)
        .bind(shelter_id)
        .fetch_all(&mut *tx)
        .await?;
        let shown = people.iter().filter(|p| scope.sees(p.consent)).count();
        crate::audit::append!(tx, &actor, action, &format!("shelter={shelter_id} activation={activation_id}"),
            serde_json::json!({ "count": shown }));
        (state, people)
    });
    let before = people.len();
    people.retain(|p| scope.sees(p.consent));
    let hidden = before - people.len();
    let ids: Vec<i64> = people.iter().map(|p| p.assignment_id).collect();
    let mut updates = updates_of(store, &ids).await?;
    for person in &mut people {
        person.updates = updates
            .iter()
            .filter(|u| u.assignment_id == person.assignment_id)
            .cloned()
            .collect();
    }
    updates.clear();
    Ok(ShelterList {
        shelter: state,
        people,
        hidden,
        printed_by: user.username.clone(),
        read_at: now,
    })
}

async fn updates_of(store: &Store, assignment_ids: &[i64]) -> Result<Vec<Update>> {
    if assignment_ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids are integers from our own query: joining them into the SQL is safe, and keeps
    // one statement for both engines (no array binding on SQLite).
    let list = assignment_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let rows = on_pool!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, assignment_id, status, destination, note, recorded_by, recorded_at FROM assignment_updates \
             WHERE assignment_id IN ({list}) ORDER BY id"
        )))
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// A person's assignments in an activation, oldest first: the reassignment history.
pub async fn history(
    store: &Store,
    user: &CurrentUser,
    activation: &Activation,
    resident_id: &str,
) -> Result<Vec<Assignment>> {
    user.require(&[Role::Coordinator, Role::Admin])?;
    let scope = visibility::scope(store, user, Some(activation)).await?;
    let consent: Option<Option<bool>> = on_pool!(store, pool => {
        sqlx::query_scalar("SELECT consent FROM register_persons WHERE resident_id = $1")
            .bind(resident_id)
            .fetch_optional(pool)
            .await?
    });
    if !consent.is_some_and(|c| scope.sees(c)) {
        return Err(AppError::NotFound("person"));
    }
    let rows = on_pool!(store, pool => {
        sqlx::query_as(concat!(
            select_assignment!(),
            " WHERE a.activation_id = $1 AND a.resident_id = $2 ORDER BY a.id"
        ))
        .bind(activation.id)
        .bind(resident_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// The active assignments of an activation as `(resident_id, shelter_id, status)`: what the
/// coordinator's screens mark people with. Numbers and ids only.
pub async fn active(store: &Store, activation_id: i64) -> Result<Vec<(String, i64, String)>> {
    let rows = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT resident_id, shelter_id, status FROM assignments WHERE activation_id = $1 AND superseded_at IS NULL",
        )
        .bind(activation_id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}
