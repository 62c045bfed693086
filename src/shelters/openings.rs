//! A shelter in one activation: opened (with the time and, if the facility says so, a capacity
//! for this activation) or closed; and the numbers the board shows for it: capacity, people
//! assigned and not yet arrived, people arrived, places free.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::events::{self, Actor, Event};
use crate::store::{Store, Timestamp, read_tx, write_tx};

/// A shelter as the board shows it in one activation: numbers only, never people.
#[derive(Clone, Debug, Serialize, PartialEq, sqlx::FromRow, ToSchema)]
pub struct ShelterState {
    /// The shelter (registry id).
    pub id: i64,
    pub name: String,
    /// `open`, `closed`, or `not_opened` (never opened in this activation).
    pub status: String,
    /// The capacity for this activation: the one declared at opening, else the registry's.
    pub capacity: i64,
    /// Assigned and not yet arrived (受入予定).
    pub assigned: i64,
    /// Arrived (到着済).
    pub arrived: i64,
    /// When it was last opened in this activation; null if never.
    pub opened_at: Option<Timestamp>,
    /// When it was closed; null while open or never opened.
    pub closed_at: Option<Timestamp>,
    /// Who it takes in, as the registry says.
    #[sqlx(skip)]
    #[schema(value_type = Vec<super::ShelterCategory>)]
    pub categories: Vec<String>,
    #[sqlx(rename = "categories")]
    #[serde(skip)]
    pub categories_json: String,
    /// What it has, as the registry says.
    #[sqlx(skip)]
    #[schema(value_type = Vec<super::ShelterFacility>)]
    pub facilities: Vec<String>,
    #[sqlx(rename = "facilities")]
    #[serde(skip)]
    pub facilities_json: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl ShelterState {
    /// Places left: capacity minus everyone assigned or arrived. Negative when an admin
    /// placed someone past capacity.
    pub fn free(&self) -> i64 {
        self.capacity - self.assigned - self.arrived
    }

    pub fn is_open(&self) -> bool {
        self.status == "open"
    }

    pub(crate) fn decode(mut self) -> ShelterState {
        self.categories = serde_json::from_str(&self.categories_json).unwrap_or_default();
        self.facilities = serde_json::from_str(&self.facilities_json).unwrap_or_default();
        self
    }
}

/// Every shelter (or one, when `$2` is not NULL) in activation `$1`. A place is taken while an
/// active assignment's status is `assigned` or `arrived`.
pub const STATES_SQL: &str = "SELECT s.id, s.name, COALESCE(o.status, 'not_opened') AS status, \
     COALESCE(o.capacity, s.capacity) AS capacity, \
     (SELECT COUNT(*) FROM assignments a WHERE a.activation_id = $1 AND a.shelter_id = s.id \
        AND a.superseded_at IS NULL AND a.status = 'assigned') AS assigned, \
     (SELECT COUNT(*) FROM assignments a WHERE a.activation_id = $1 AND a.shelter_id = s.id \
        AND a.superseded_at IS NULL AND a.status = 'arrived') AS arrived, \
     o.opened_at, o.closed_at, s.categories, s.facilities, s.latitude, s.longitude \
     FROM shelters s LEFT JOIN shelter_openings o ON o.shelter_id = s.id AND o.activation_id = $1 \
     WHERE ($2 IS NULL OR s.id = $2) ORDER BY s.name, s.id";

/// The shelters of an activation, read inside the open transaction `$tx`; `$only` narrows to
/// one shelter id.
#[macro_export]
macro_rules! shelter_states_in {
    ($tx:expr, $activation:expr, $only:expr) => {{
        let rows: Vec<$crate::shelters::openings::ShelterState> =
            sqlx::query_as($crate::shelters::openings::STATES_SQL)
                .bind($activation)
                .bind(Option::<i64>::from($only))
                .fetch_all(&mut *$tx)
                .await?;
        rows.into_iter()
            .map($crate::shelters::openings::ShelterState::decode)
            .collect::<Vec<_>>()
    }};
}
pub use crate::shelter_states_in as states_in;

/// The data of every shelter event: the shelters it changed, in full, so a terminal replaces
/// its copies without arithmetic of its own.
#[derive(Serialize)]
pub struct ShelterEvent {
    pub shelter_id: i64,
    pub shelters: Vec<ShelterState>,
}

/// The shelters of an activation, as of now.
pub async fn states(store: &Store, activation_id: i64) -> Result<Vec<ShelterState>> {
    let rows = read_tx!(store, tx => states_in!(tx, activation_id, None::<i64>));
    Ok(rows)
}

/// Options for opening a shelter; the body may be left out.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ShelterOpening)]
pub struct OpenRequest {
    /// Places for this activation (0 to 100,000), when they differ from the registry's
    /// capacity (staff short, a wing closed). Left out: the registry's capacity, or on a
    /// shelter already open, the capacity it has.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100_000)]
    pub capacity: Option<i64>,
}

/// Who may open or close a shelter: the centre, and the shelter's own operator (the facility
/// is the one that knows it can take people).
pub fn may_change(user: &CurrentUser, shelter_id: i64) -> Result<()> {
    match user.role {
        Role::Admin | Role::Coordinator => Ok(()),
        Role::ShelterOperator if user.shelter_id == Some(shelter_id) => Ok(()),
        Role::ShelterOperator => Err(AppError::Forbidden(
            "an operator opens and closes only their own shelter",
        )),
        Role::Board => Err(AppError::Forbidden("your role may not do this")),
    }
}

/// Opens a shelter in an activation, or changes the capacity of one already open.
pub async fn open(
    store: &Store,
    user: &CurrentUser,
    activation_id: i64,
    shelter_id: i64,
    request: OpenRequest,
) -> Result<(ShelterState, Event)> {
    may_change(user, shelter_id)?;
    open_as(
        store,
        &user.actor(),
        activation_id,
        shelter_id,
        request.capacity,
    )
    .await
}

/// Opens a shelter on behalf of `actor`, whose right to do so the caller has checked (or who
/// is the server itself: the demo, drill scenarios).
pub async fn open_as(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    shelter_id: i64,
    capacity: Option<i64>,
) -> Result<(ShelterState, Event)> {
    if let Some(c) = capacity
        && !(0..=100_000).contains(&c)
    {
        return Err(AppError::invalid(
            "capacity",
            "capacity is a whole number from 0 to 100000",
        ));
    }
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM shelters WHERE id = $1")
            .bind(shelter_id).fetch_optional(&mut *tx).await?;
        if exists.is_none() {
            return Err(AppError::NotFound("shelter"));
        }
        let was: Option<String> = sqlx::query_scalar(
            "SELECT status FROM shelter_openings WHERE activation_id = $1 AND shelter_id = $2",
        )
        .bind(activation_id).bind(shelter_id).fetch_optional(&mut *tx).await?;
        let kind = if was.as_deref() == Some("open") {
            sqlx::query("UPDATE shelter_openings SET capacity = COALESCE($3, capacity) WHERE activation_id = $1 AND shelter_id = $2")
                .bind(activation_id).bind(shelter_id).bind(capacity).execute(&mut *tx).await?;
            "shelter_changed"
        } else {
            sqlx::query(
                "INSERT INTO shelter_openings (activation_id, shelter_id, status, capacity, opened_at, opened_by) \
                 VALUES ($1, $2, 'open', $3, $4, $5) \
                 ON CONFLICT (activation_id, shelter_id) DO UPDATE SET status = 'open', capacity = excluded.capacity, \
                 opened_at = excluded.opened_at, opened_by = excluded.opened_by, closed_at = NULL, closed_by = NULL",
            )
            .bind(activation_id).bind(shelter_id).bind(capacity).bind(now).bind(&actor.name)
            .execute(&mut *tx).await?;
            "shelter_opened"
        };
        let mut states = states_in!(tx, activation_id, Some(shelter_id));
        let state = states.pop().ok_or(AppError::NotFound("shelter"))?;
        let data = ShelterEvent { shelter_id, shelters: vec![state.clone()] };
        let event = events::record!(tx, activation_id, seq, kind, actor, &data);
        (state, event)
    });
    Ok(out)
}

/// Closes a shelter in an activation: no one new is assigned to it; people already there stay
/// assigned until the operator records that they left.
pub async fn close(
    store: &Store,
    user: &CurrentUser,
    activation_id: i64,
    shelter_id: i64,
) -> Result<(ShelterState, Event)> {
    may_change(user, shelter_id)?;
    let actor = user.actor();
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let closed: Option<i64> = sqlx::query_scalar(
            "UPDATE shelter_openings SET status = 'closed', closed_at = $3, closed_by = $4 \
             WHERE activation_id = $1 AND shelter_id = $2 AND status = 'open' RETURNING shelter_id",
        )
        .bind(activation_id).bind(shelter_id).bind(now).bind(&actor.name)
        .fetch_optional(&mut *tx).await?;
        if closed.is_none() {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM shelters WHERE id = $1")
                .bind(shelter_id).fetch_optional(&mut *tx).await?;
            return Err(match exists {
                None => AppError::NotFound("shelter"),
                Some(_) => AppError::conflict("shelter_not_open", "this shelter is not open in this activation"),
            });
        }
        let mut states = states_in!(tx, activation_id, Some(shelter_id));
        let state = states.pop().ok_or(AppError::NotFound("shelter"))?;
        let data = ShelterEvent { shelter_id, shelters: vec![state.clone()] };
        let event = events::record!(tx, activation_id, seq, "shelter_closed", &actor, &data);
        (state, event)
    });
    Ok(out)
}
