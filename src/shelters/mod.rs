//! Welfare shelters (福祉避難所): the registry of facilities (master data, shared by every
//! activation), whether each is open in an activation (`openings`), the assignment of
//! register persons to them and the operator's record of arrival (`assignments`), ranked
//! suggestions of where to place someone (`suggest`), the facility-list import (`import`)
//! and the paper fallback (`paper`).
//!
//! Board terminals see shelters as numbers (capacity, assigned, arrived); names of the people
//! assigned reach only the coordinators who may see them and the operator of that shelter,
//! through the HTTP API, never through board events.

pub mod assignments;
pub mod import;

pub mod openings;
pub mod paper;
mod routes;
pub mod suggest;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::activations::Activation;
use crate::error::{AppError, Result};
use crate::events::{self, Actor, Event};
use crate::extract::known_codes;
use crate::store::{Store, Timestamp, on_pool, write_tx};

pub use routes::router;

/// Who a shelter takes in (受入対象), as DOMAIN.md names them.
pub const CATEGORIES: [(&str, &str); 6] = [
    ("elderly", "高齢者"),
    ("physical_disability", "身体障害"),
    ("intellectual_mental_disability", "知的・精神障害"),
    ("dementia", "認知症"),
    ("pregnant_infant", "妊産婦・乳幼児"),
    ("medical_care", "医療的ケア"),
];

/// What a shelter has (設備).
pub const FACILITIES: [(&str, &str); 7] = [
    ("wheelchair_access", "車いす対応"),
    ("accessible_toilet", "多目的トイレ"),
    ("oxygen", "酸素供給"),
    ("generator", "非常用発電機"),
    ("elevator", "エレベーター"),
    ("care_beds", "介護ベッド"),
    ("nursing_staff", "看護職員"),
];

crate::code_schema!(
    ShelterCategory,
    "Who a shelter takes in (受入対象): elderly (高齢者), physical_disability (身体障害), intellectual_mental_disability (知的・精神障害), dementia (認知症), pregnant_infant (妊産婦・乳幼児), medical_care (医療的ケア).",
    CATEGORIES.iter().map(|(code, _)| *code).collect()
);
crate::code_schema!(
    ShelterFacility,
    "What a shelter has (設備): wheelchair_access (車いす対応), accessible_toilet (多目的トイレ), oxygen (酸素供給), generator (非常用発電機), elevator (エレベーター), care_beds (介護ベッド), nursing_staff (看護職員).",
    FACILITIES.iter().map(|(code, _)| *code).collect()
);

pub fn category_label(code: &str) -> &str {
    CATEGORIES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, label)| label)
}

/// A facility as the registry keeps it (master data shared by every activation).
#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
pub struct Shelter {
    pub id: i64,
    /// The facility's name (施設名), unique in the registry: imports match on it.
    pub name: String,
    pub address: String,
    /// WGS 84 degrees; null when the registry has no coordinates (both or neither).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Places in normal times (0 to 100,000); an opening may declare fewer or more.
    pub capacity: i64,
    /// Who it takes in (受入対象).
    #[schema(value_type = Vec<ShelterCategory>)]
    pub categories: Vec<String>,
    /// What it has (設備).
    #[schema(value_type = Vec<ShelterFacility>)]
    pub facilities: Vec<String>,
    /// How to reach the facility (phone, person in charge); may be empty.
    pub contact: String,
    pub notes: String,
    /// The users who run it (shelter_operator accounts).
    pub operators: Vec<String>,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ShelterRow {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: i64,
    pub categories: String,
    pub facilities: String,
    pub contact: String,
    pub notes: String,
    pub updated_at: Timestamp,
}

impl ShelterRow {
    fn into_shelter(self, operators: Vec<String>) -> Shelter {
        Shelter {
            id: self.id,
            name: self.name,
            address: self.address,
            latitude: self.latitude,
            longitude: self.longitude,
            capacity: self.capacity,
            categories: serde_json::from_str(&self.categories).unwrap_or_default(),
            facilities: serde_json::from_str(&self.facilities).unwrap_or_default(),
            contact: self.contact,
            notes: self.notes,
            operators,
            updated_at: self.updated_at,
        }
    }
}

/// The registry's columns, as a literal so queries can `concat!` their conditions on.
macro_rules! select_shelter {
    () => {
        "SELECT id, name, address, latitude, longitude, capacity, categories, facilities, \
         contact, notes, updated_at FROM shelters"
    };
}

/// The fields an admin sets, for a new shelter or in full for an update (a field left out
/// of an update is emptied, not kept).
#[derive(Clone, Debug, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShelterFields {
    /// 1 to 200 characters, trimmed; no other shelter may have it.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 1 to 500 characters, trimmed.
    #[schema(min_length = 1, max_length = 500)]
    pub address: String,
    /// WGS 84 degrees; give both latitude and longitude, or neither.
    #[serde(default)]
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    /// WGS 84 degrees; give both latitude and longitude, or neither.
    #[serde(default)]
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    /// Places in normal times.
    #[schema(minimum = 0, maximum = 100_000)]
    pub capacity: i64,
    /// Who it takes in (受入対象), each at most once.
    #[serde(default)]
    #[schema(value_type = Vec<ShelterCategory>)]
    pub categories: Vec<String>,
    /// What it has (設備), each at most once.
    #[serde(default)]
    #[schema(value_type = Vec<ShelterFacility>)]
    pub facilities: Vec<String>,
    /// How to reach the facility.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub contact: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub notes: String,
}

impl ShelterFields {
    /// Trims and checks every field, naming the first that is wrong.
    pub fn validated(mut self) -> Result<ShelterFields> {
        self.name = self.name.trim().to_string();
        self.address = self.address.trim().to_string();
        self.contact = self.contact.trim().to_string();
        self.notes = self.notes.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 200 {
            return Err(AppError::invalid(
                "name",
                "a shelter needs a name of 1 to 200 characters",
            ));
        }
        if self.address.is_empty() || self.address.chars().count() > 500 {
            return Err(AppError::invalid(
                "address",
                "a shelter needs an address of 1 to 500 characters",
            ));
        }
        if !(0..=100_000).contains(&self.capacity) {
            return Err(AppError::invalid(
                "capacity",
                "capacity is a whole number from 0 to 100000",
            ));
        }
        match (self.latitude, self.longitude) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                    return Err(AppError::invalid("latitude", "latitude is from -90 to 90"));
                }
                if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                    return Err(AppError::invalid(
                        "longitude",
                        "longitude is from -180 to 180",
                    ));
                }
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(AppError::invalid(
                    "longitude",
                    "give both latitude and longitude, or neither",
                ));
            }
            (None, Some(_)) => {
                return Err(AppError::invalid(
                    "latitude",
                    "give both latitude and longitude, or neither",
                ));
            }
        }
        self.categories = known_codes("categories", &self.categories, &CATEGORIES)?;
        self.facilities = known_codes("facilities", &self.facilities, &FACILITIES)?;
        if self.contact.chars().count() > 500 || self.notes.chars().count() > 2000 {
            return Err(AppError::invalid(
                if self.contact.chars().count() > 500 {
                    "contact"
                } else {
                    "notes"
                },
                "contact has at most 500 characters, notes at most 2000",
            ));
        }
        Ok(self)
    }
}

fn to_json(codes: &[String]) -> String {
    serde_json::to_string(codes).unwrap_or_else(|_| "[]".into())
}

/// Operators of each shelter, by shelter id.
async fn operators(store: &Store) -> Result<Vec<(i64, String)>> {
    let rows = on_pool!(store, pool => {
        sqlx::query_as("SELECT shelter_id, username FROM users WHERE shelter_id IS NOT NULL AND disabled = FALSE ORDER BY username")
            .fetch_all(pool)
            .await?
    });
    Ok(rows)
}

pub async fn list(store: &Store) -> Result<Vec<Shelter>> {
    let rows: Vec<ShelterRow> = on_pool!(store, pool => {
        sqlx::query_as(concat!(select_shelter!(), " ORDER BY name, id")).fetch_all(pool).await?
    });
    let operators = operators(store).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = operators
                .iter()
                .filter(|(s, _)| *s == r.id)
                .map(|(_, u)| u.clone())
                .collect();
            r.into_shelter(mine)
        })
        .collect())
}

pub async fn get_one(store: &Store, id: i64) -> Result<Shelter> {
    let row: Option<ShelterRow> = on_pool!(store, pool => {
        sqlx::query_as(concat!(select_shelter!(), " WHERE id = $1")).bind(id).fetch_optional(pool).await?
    });
    let row = row.ok_or(AppError::NotFound("shelter"))?;
    let operators = operators(store)
        .await?
        .into_iter()
        .filter(|(s, _)| *s == id)
        .map(|(_, u)| u)
        .collect();
    Ok(row.into_shelter(operators))
}

/// Adds a shelter to the registry. A name already in use is a 409: the facility list is
/// keyed by name, so two entries of one name would make its next import ambiguous.
pub async fn create(store: &Store, fields: ShelterFields) -> Result<Shelter> {
    let f = fields.validated()?;
    let now = Timestamp::now();
    let id: Option<i64> = on_pool!(store, pool => {
        sqlx::query_scalar(
            "INSERT INTO shelters (name, address, latitude, longitude, capacity, categories, facilities, contact, notes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(&f.name).bind(&f.address).bind(f.latitude).bind(f.longitude).bind(f.capacity)
        .bind(to_json(&f.categories)).bind(to_json(&f.facilities)).bind(&f.contact).bind(&f.notes).bind(now)
        .fetch_optional(pool)
        .await?
    });
    let id = id.ok_or_else(|| {
        AppError::conflict(
            "shelter_exists",
            format!("a shelter named {} already exists", f.name),
        )
    })?;
    get_one(store, id).await
}

/// Replaces a shelter's fields. Every open activation gets a `shelter_changed` event so the
/// boards show the new name or capacity at once.
pub async fn update(
    store: &Store,
    id: i64,
    fields: ShelterFields,
    actor: &Actor,
) -> Result<(Shelter, Vec<Event>)> {
    let f = fields.validated()?;
    let now = Timestamp::now();
    let events = write_tx!(store, tx => {
        let clash: Option<i64> = sqlx::query_scalar("SELECT id FROM shelters WHERE name = $1 AND id <> $2")
            .bind(&f.name).bind(id).fetch_optional(&mut *tx).await?;
        if clash.is_some() {
            return Err(AppError::conflict("shelter_exists", format!("another shelter is named {}", f.name)));
        }
        let updated: Option<i64> = sqlx::query_scalar(
            "UPDATE shelters SET name = $1, address = $2, latitude = $3, longitude = $4, capacity = $5, \
             categories = $6, facilities = $7, contact = $8, notes = $9, updated_at = $10 WHERE id = $11 RETURNING id",
        )
        .bind(&f.name).bind(&f.address).bind(f.latitude).bind(f.longitude).bind(f.capacity)
        .bind(to_json(&f.categories)).bind(to_json(&f.facilities)).bind(&f.contact).bind(&f.notes).bind(now).bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if updated.is_none() {
            return Err(AppError::NotFound("shelter"));
        }
        let open: Vec<i64> = sqlx::query_scalar("SELECT id FROM activations WHERE status = 'open' ORDER BY id")
            .fetch_all(&mut *tx).await?;
        let mut events = Vec::new();
        for activation_id in open {
            let seq = events::next_seq!(tx, activation_id);
            let states = openings::states_in!(tx, activation_id, Some(id));
            let data = openings::ShelterEvent { shelter_id: id, shelters: states };
            events.push(events::record!(tx, activation_id, seq, "shelter_changed", actor, &data));
        }
        events
    });
    Ok((get_one(store, id).await?, events))
}

/// Refuses writes to a closed activation before anything is read for them.
pub(crate) fn require_open(activation: &Activation) -> Result<()> {
    if activation.status == "open" {
        Ok(())
    } else {
        Err(AppError::conflict(
            "activation_closed",
            "this activation is closed",
        ))
    }
}
