//! Who may see which people in the register, decided on the server for every request.
//!
//! - admin: everyone.
//! - coordinator: people who consented to sharing (情報提供同意); people who did not, only in
//!   a `real` activation while an admin's disclosure declaration is in force (災害対策基本法
//!   49条の11 第3項: in a disaster, sharing without consent as far as needed). Never in a drill.
//! - shelter operators and board terminals: no register access here (board terminals see
//!   counts only; operators see their shelter's assignments through the shelter screens).

use serde::Serialize;

use crate::activations::Activation;
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::store::{Store, Timestamp, on_pool};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Everyone,
    ConsentedOnly,
}

impl Scope {
    /// Whether a person with this consent value is visible. No answer (NULL) is no consent.
    pub fn sees(self, consent: Option<bool>) -> bool {
        self == Scope::Everyone || consent == Some(true)
    }
}

/// Refuses the roles that never see the register. Routes call it before they look anything
/// up, so a refused role learns nothing, not even whether an activation exists.
pub fn may_see_register(user: &CurrentUser) -> Result<()> {
    match user.role {
        Role::Admin | Role::Coordinator => Ok(()),
        Role::ShelterOperator | Role::Board => {
            Err(AppError::Forbidden("your role does not see the register"))
        }
    }
}

pub async fn scope(
    store: &Store,
    user: &CurrentUser,
    activation: Option<&Activation>,
) -> Result<Scope> {
    may_see_register(user)?;
    if user.role == Role::Admin {
        return Ok(Scope::Everyone);
    }
    match activation {
        Some(a) if a.kind == "real" && active_disclosure(store, a.id).await?.is_some() => {
            Ok(Scope::Everyone)
        }
        _ => Ok(Scope::ConsentedOnly),
    }
}

/// A disclosure declaration (情報提供の宣言): an admin let coordinators see people who did not
/// consent, in a real activation, until `ends_at` or until ended.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Disclosure {
    pub id: i64,
    pub activation_id: i64,
    /// The admin who declared it.
    pub declared_by: String,
    pub declared_at: Timestamp,
    pub ends_at: Timestamp,
    /// Why, as the admin gave it.
    pub reason: String,
    /// When an admin ended it early; null while in force.
    pub ended_at: Option<Timestamp>,
}

/// The disclosure declaration in force for an activation now, if any.
pub async fn active_disclosure(store: &Store, activation_id: i64) -> Result<Option<Disclosure>> {
    let row = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT id, activation_id, declared_by, declared_at, ends_at, reason, ended_at FROM disclosures \
             WHERE activation_id = $1 AND ended_at IS NULL AND ends_at > $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(activation_id)
        .bind(Timestamp::now())
        .fetch_optional(pool)
        .await?
    });
    Ok(row)
}
