//! Reading the register: the list a coordinator sweeps by district, and one person's record.
//! Every read is audited in the same transaction that serves it.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::commit::PersonRow;
use super::import::Person;
use super::safety::{self, Check};
use super::visibility::{self, Scope};
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::store::{Store, write_tx};

/// A person as the API shows them: the canonical fields, whether a later import removed them,
/// and their current safety status in the activation asked about. Which people a user is
/// shown depends on role and consent (see the list); a person shown is shown whole.
#[derive(Serialize, ToSchema)]
#[schema(as = RegisterPerson)]
pub struct PersonView {
    #[serde(flatten)]
    pub person: Person,
    /// Removed from the register by a later import (listed only when asked for).
    pub removed: bool,
    /// The current safety status (安否) in the activation asked about; absent when no
    /// activation was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<safety::SafetyStatus>, required = false)]
    pub safety_status: Option<String>,
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Only people of this district (地区); an empty value means people with no district.
    pub district: Option<String>,
    /// Part of a name, kana or address.
    pub q: Option<String>,
    /// Only people with this current safety status; needs `activation`.
    #[param(value_type = Option<safety::SafetyStatus>)]
    pub status: Option<String>,
    /// The activation whose safety statuses to show (and, for a coordinator in a real
    /// activation under a disclosure declaration, whose disclosure applies).
    pub activation: Option<i64>,
    /// Include people removed by a later import.
    #[serde(default)]
    pub include_removed: bool,
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    person: PersonRow,
    safety_status: Option<String>,
}

/// Escapes LIKE's wildcards so a search for "50%" finds "50%".
pub(crate) fn like_pattern(q: &str) -> String {
    let escaped: String = q
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

pub async fn list(store: &Store, user: &CurrentUser, filter: Filter) -> Result<Vec<PersonView>> {
    let activation = match filter.activation {
        Some(id) => Some(crate::activations::get_one(store, id).await?),
        None => None,
    };
    if filter.status.is_some() && activation.is_none() {
        return Err(AppError::invalid(
            "status",
            "filtering by safety status needs activation=ID",
        ));
    }
    if let Some(status) = &filter.status
        && !safety::STATUSES.contains(&status.as_str())
    {
        return Err(AppError::invalid(
            "status",
            format!("status must be one of {}", safety::STATUSES.join(", ")),
        ));
    }
    let scope = visibility::scope(store, user, activation.as_ref()).await?;
    let everyone = scope == Scope::Everyone;
    let pattern = filter
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(like_pattern);
    let activation_id = activation.as_ref().map_or(0, |a| a.id);
    let subject = format!(
        "list district={} q={} status={} activation={}",
        filter.district.as_deref().unwrap_or("*"),
        if pattern.is_some() { "given" } else { "*" },
        filter.status.as_deref().unwrap_or("*"),
        filter.activation.map_or("*".to_string(), |a| a.to_string())
    );
    let actor = user.username.clone();
    let rows: Vec<ListedRow> = write_tx!(store, tx => {
        let rows: Vec<ListedRow> = sqlx::query_as(LIST_SQL)
            .bind(activation_id)
            .bind(&filter.district)
            .bind(&pattern)
            .bind(&filter.status)
            .bind(everyone)
            .bind(filter.include_removed)
            .fetch_all(&mut *tx)
            .await?;
        crate::audit::append!(tx, &actor, "register.list", &subject, serde_json::json!({ "count": rows.len() }));
        rows
    });
    Ok(rows
        .into_iter()
        .map(|r| PersonView {
            person: r.person.to_person(),
            removed: r.person.removed_at.is_some(),
            safety_status: activation
                .as_ref()
                .map(|_| r.safety_status.unwrap_or_else(|| "unconfirmed".into())),
        })
        .collect())
}

/// Unconfirmed people first (the sweep's work), then by district and kana.
const LIST_SQL: &str = "SELECT p.resident_id, p.name, p.name_kana, p.birth_date, p.sex, p.postal_code, p.address, \
     p.phone, p.district, p.care_level, p.disability, p.support_reasons, p.consent, p.supporters, \
     p.designated_shelter, p.latitude, p.longitude, p.notes, p.removed_at, s.status AS safety_status \
     FROM register_persons p \
     LEFT JOIN safety_status s ON s.resident_id = p.resident_id AND s.activation_id = $1 \
     WHERE ($2 IS NULL OR COALESCE(p.district, '') = $2) \
       AND ($3 IS NULL OR p.name LIKE $3 ESCAPE '\\' OR p.name_kana LIKE $3 ESCAPE '\\' OR p.address LIKE $3 ESCAPE '\\') \
       AND ($4 IS NULL OR COALESCE(s.status, 'unconfirmed') = $4) \
       AND ($5 OR p.consent = TRUE) \
       AND ($6 OR p.removed_at IS NULL) \
     ORDER BY CASE WHEN s.status IS NULL THEN 0 ELSE 1 END, p.district, p.name_kana, p.resident_id";

/// One person with, when an activation is given, their safety history in it.
#[derive(Serialize, ToSchema)]
#[schema(as = RegisterPersonRecord)]
pub struct PersonRecord {
    #[serde(flatten)]
    pub view: PersonView,
    /// Every status recorded for the person in the activation, oldest first; absent when no
    /// activation was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub safety_history: Option<Vec<Check>>,
}

pub async fn get(
    store: &Store,
    user: &CurrentUser,
    resident_id: &str,
    activation_id: Option<i64>,
) -> Result<PersonRecord> {
    let activation = match activation_id {
        Some(id) => Some(crate::activations::get_one(store, id).await?),
        None => None,
    };
    let scope = visibility::scope(store, user, activation.as_ref()).await?;
    let actor = user.username.clone();
    let row: Option<PersonRow> = write_tx!(store, tx => {
        let row: Option<PersonRow> = sqlx::query_as(super::commit::SELECT_PERSON_BY_ID)
            .bind(resident_id)
            .fetch_optional(&mut *tx)
            .await?;
        // Not found and not visible answer alike, so the answer reveals nothing.
        let row = row.filter(|r| scope.sees(r.consent));
        if row.is_some() {
            crate::audit::append!(tx, &actor, "register.read", resident_id,
                serde_json::json!({ "activation": activation_id }));
        }
        row
    });
    let row = row.ok_or(AppError::NotFound("person"))?;
    let (status, history) = match &activation {
        Some(a) => {
            let history = safety::history(store, a.id, resident_id).await?;
            let status = history
                .last()
                .map_or_else(|| "unconfirmed".to_string(), |c| c.status.clone());
            (Some(status), Some(history))
        }
        None => (None, None),
    };
    Ok(PersonRecord {
        view: PersonView {
            person: row.to_person(),
            removed: row.removed_at.is_some(),
            safety_status: status,
        },
        safety_history: history,
    })
}
