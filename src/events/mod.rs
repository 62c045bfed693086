//! The event log and its live fan-out.
//!
//! Every change to an activation's records is written with an event row in the same
//! transaction ([`append!`]); within an activation `seq` increases by exactly one per event.
//! After the transaction commits, the writer hands its events to the [`Hub`], which
//! broadcasts them to the board terminals in `seq` order.
//!
//! Commit order equals `seq` order (the counter row is locked until commit), but writers reach
//! the hub in any order once they have committed, so the hub holds an early event back until
//! its predecessor arrives. If a predecessor never arrives (it was written by another server
//! instance, or its writer died after committing), the hub releases what it holds after a
//! short wait and each terminal fills the gap from the event table, which is the source of
//! truth: see `board`.

mod hub;
pub mod relay;

pub use hub::{Frame, Hub};
pub use relay::Notify;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::store::Timestamp;

/// One committed change, as stored and as sent to terminals.
#[derive(Clone, Debug)]
pub struct Event {
    pub activation_id: i64,
    pub seq: i64,
    pub kind: String,
    pub at: Timestamp,
    pub by: String,
    /// The event's data as JSON text, exactly as stored.
    pub payload: String,
}

/// The websocket message of an event: `{"type","seq","at","by","data"}`.
#[derive(Serialize)]
struct WireEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    seq: i64,
    at: Timestamp,
    by: &'a str,
    data: &'a RawValue,
}

/// An event as the API and the board's websocket carry it (the description of [`WireEvent`]).
#[derive(utoipa::ToSchema)]
#[schema(as = Event)]
#[allow(dead_code)] // Only its schema is used.
pub struct WireEventSchema {
    /// What happened: `announcement_posted`, `safety_recorded`, `team_dispatched`, ...
    #[schema(rename = "type")]
    kind: String,
    /// The event's place in its activation's log: 1, 2, 3, ... with no gap.
    seq: i64,
    at: Timestamp,
    /// Who made the change (a user name).
    by: String,
    /// What changed; its shape depends on `type`.
    data: serde_json::Value,
}

impl Event {
    /// The text frame terminals receive, serialised once and shared by every terminal.
    pub fn to_wire(&self) -> String {
        let data = RawValue::from_string(self.payload.clone())
            .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"));
        serde_json::to_string(&WireEvent {
            kind: &self.kind,
            seq: self.seq,
            at: self.at,
            by: &self.by,
            data: &data,
        })
        .expect("an event always serialises")
    }
}

/// Who made a change: kept with every event.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

/// A row of the event table, as read back for replay.
#[derive(sqlx::FromRow)]
pub struct EventRow {
    pub activation_id: i64,
    pub seq: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub payload: String,
    pub actor: String,
    pub at: Timestamp,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Event {
        Event {
            activation_id: r.activation_id,
            seq: r.seq,
            kind: r.kind,
            at: r.at,
            by: r.actor,
            payload: r.payload,
        }
    }
}

/// Takes the next `seq` of `$activation` inside the open transaction `$tx`. Returns early
/// with `AppError::Conflict` when the activation is closed and `NotFound` when it does not
/// exist; the caller's transaction then rolls back whole.
///
/// The `UPDATE ... RETURNING` both numbers the event and locks the activation's counter row
/// until commit, which is what keeps `seq` consecutive under concurrent writers (PostgreSQL
/// row lock; on SQLite the whole database is the lock). Take it first in a transaction, so
/// a write to a closed activation stops before it changes anything.
#[macro_export]
macro_rules! next_seq {
    ($tx:expr, $activation:expr) => {{
        let activation_id: i64 = $activation;
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE activations SET last_seq = last_seq + 1 \
             WHERE id = $1 AND status = 'open' RETURNING last_seq",
        )
        .bind(activation_id)
        .fetch_optional(&mut *$tx)
        .await?;
        match seq {
            Some(seq) => seq,
            None => {
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM activations WHERE id = $1")
                        .bind(activation_id)
                        .fetch_optional(&mut *$tx)
                        .await?;
                return Err(match exists {
                    Some(_) => $crate::error::AppError::conflict(
                        "activation_closed",
                        "this activation is closed",
                    ),
                    None => $crate::error::AppError::NotFound("activation"),
                });
            }
        }
    }};
}

/// Takes the next `seq` and writes the event in one step, for changes whose data is known
/// before anything is inserted.
#[macro_export]
macro_rules! append_event {
    ($tx:expr, $activation:expr, $kind:expr, $actor:expr, $data:expr) => {{
        let activation_id: i64 = $activation;
        let seq = $crate::next_seq!($tx, activation_id);
        $crate::record_event!($tx, activation_id, seq, $kind, $actor, $data)
    }};
}

/// Writes the event row for a `seq` the caller took in this transaction with [`next_seq!`]
/// (or, when closing an activation, from the closing UPDATE itself).
#[macro_export]
macro_rules! record_event {
    ($tx:expr, $activation:expr, $seq:expr, $kind:expr, $actor:expr, $data:expr) => {{
        let actor: &$crate::events::Actor = $actor;
        let payload = serde_json::to_string(&$data).map_err(anyhow::Error::from)?;
        let at = $crate::store::Timestamp::now();
        sqlx::query(
            "INSERT INTO events (activation_id, seq, type, payload, actor_id, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($activation)
        .bind($seq)
        .bind($kind)
        .bind(&payload)
        .bind(actor.user_id)
        .bind(&actor.name)
        .bind(at)
        .execute(&mut *$tx)
        .await?;
        $crate::events::Notify::notify_event(&mut *$tx, $activation, $seq).await?;
        $crate::events::Event {
            activation_id: $activation,
            seq: $seq,
            kind: String::from($kind),
            at,
            by: actor.name.clone(),
            payload,
        }
    }};
}

pub use crate::{append_event as append, next_seq, record_event as record};
