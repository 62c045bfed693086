//! Disclosure declarations: in a real activation, an admin may let coordinators see people who
//! did not consent, for a stated time and reason. Drills never unlock them. Declaring and
//! ending are audited and announced on the board (without names).

use serde::Deserialize;

use super::visibility::Disclosure;
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::events::{self, Event};
use crate::store::{Store, Timestamp, write_tx};

/// A disclosure to declare: for how long, and why.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DisclosureDeclaration)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// How long it lasts, in hours (1 to 168).
    #[schema(minimum = 1, maximum = 168)]
    pub hours: i64,
    /// Why the register is disclosed (required; recorded in the audit log).
    pub reason: String,
}

pub async fn declare(
    store: &Store,
    user: &CurrentUser,
    activation_id: i64,
    body: Declaration,
) -> Result<(Disclosure, Event)> {
    if !(1..=168).contains(&body.hours) {
        return Err(AppError::invalid(
            "hours",
            "a disclosure lasts 1 to 168 hours",
        ));
    }
    let reason = body.reason.trim().to_string();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "say why the register is disclosed",
        ));
    }
    let activation = crate::activations::get_one(store, activation_id).await?;
    if activation.kind != "real" {
        return Err(AppError::conflict(
            "drill_never_discloses",
            "a drill never discloses people who did not consent",
        ));
    }
    let actor = user.actor();
    let now = Timestamp::now();
    let ends_at = now.plus_seconds(body.hours * 3600);
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        sqlx::query("UPDATE disclosures SET ended_at = $1 WHERE activation_id = $2 AND ended_at IS NULL")
            .bind(now)
            .bind(activation_id)
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO disclosures (activation_id, declared_by, declared_at, ends_at, reason) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(activation_id)
        .bind(&actor.name)
        .bind(now)
        .bind(ends_at)
        .bind(&reason)
        .fetch_one(&mut *tx)
        .await?;
        let disclosure = Disclosure {
            id,
            activation_id,
            declared_by: actor.name.clone(),
            declared_at: now,
            ends_at,
            reason: reason.clone(),
            ended_at: None,
        };
        crate::audit::append!(tx, &actor.name, "register.disclosure.declare", &format!("activation:{activation_id}"),
            serde_json::json!({ "ends_at": ends_at, "reason": reason }));
        let event = events::record!(tx, activation_id, seq, "disclosure_declared", &actor, &disclosure);
        (disclosure, event)
    });
    Ok(out)
}

pub async fn end(store: &Store, user: &CurrentUser, activation_id: i64) -> Result<Event> {
    let actor = user.actor();
    let now = Timestamp::now();
    let event = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let ended = sqlx::query("UPDATE disclosures SET ended_at = $1 WHERE activation_id = $2 AND ended_at IS NULL AND ends_at > $1")
            .bind(now)
            .bind(activation_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if ended == 0 {
            return Err(AppError::conflict("no_disclosure", "no disclosure is in force for this activation"));
        }
        crate::audit::append!(tx, &actor.name, "register.disclosure.end", &format!("activation:{activation_id}"), serde_json::json!({}));
        events::record!(tx, activation_id, seq, "disclosure_ended", &actor, &serde_json::json!({ "ended_at": now }))
    });
    Ok(event)
}
