//! Equipment (資機材: shovels, wheelbarrows, sandbags, ...) kept as counted stock per
//! activation. Teams take items out and bring them back (see `teams`); stock never goes below
//! zero: the database refuses it (a CHECK) and every take is a conditional update.

use serde::Deserialize;
use utoipa::ToSchema;

use super::board::{DispatchEvent, EquipmentStock, equipment_in};
use super::text;
use crate::error::{AppError, Result};
use crate::events::{self, Actor, Event};
use crate::store::{Store, on_pool, write_tx};

/// An item added to the stock list.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewEquipment)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// 1 to 100 characters, unique in the activation (スコップ, 一輪車, 土のう袋...).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// How many the centre has, 0 to 100,000.
    #[schema(minimum = 0, maximum = 100_000)]
    pub total: i64,
}

/// A change to an item's count.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = EquipmentAdjustment)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// Items added to the stock (negative: lost, broken, given away): non-zero, from
    /// -100,000 to 100,000.
    #[schema(minimum = -100_000, maximum = 100_000)]
    pub add: i64,
}

/// Adds an item to the stock list.
pub async fn add_item(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    item: NewItem,
) -> Result<(EquipmentStock, Event)> {
    let name = text("name", &item.name, 100, true)?;
    if !(0..=100_000).contains(&item.total) {
        return Err(AppError::invalid("total", "total is from 0 to 100000"));
    }
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO equipment (activation_id, name, total, available) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (activation_id, name) DO NOTHING RETURNING id",
        )
        .bind(activation_id).bind(&name).bind(item.total)
        .fetch_optional(&mut *tx).await?;
        let Some(id) = id else {
            return Err(AppError::conflict("equipment_exists", format!("{name} is on the list already: adjust its count")));
        };
        let equipment = equipment_in!(tx, activation_id, Some(id));
        let data = DispatchEvent { equipment: equipment.clone(), ..Default::default() };
        let event = events::record!(tx, activation_id, seq, "equipment_changed", actor, &data);
        (equipment.into_iter().next().ok_or(AppError::NotFound("equipment"))?, event)
    });
    Ok(out)
}

/// Adds to (or takes from) an item's stock. Refused when it would leave fewer available than
/// zero: items out with teams cannot be written off until they are back.
pub async fn adjust(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    equipment_id: i64,
    adjustment: Adjustment,
) -> Result<(EquipmentStock, Event)> {
    if !(-100_000..=100_000).contains(&adjustment.add) || adjustment.add == 0 {
        return Err(AppError::invalid(
            "add",
            "add is a non-zero number from -100000 to 100000",
        ));
    }
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let updated: Option<i64> = sqlx::query_scalar(
            "UPDATE equipment SET total = total + $1, available = available + $1 \
             WHERE id = $2 AND activation_id = $3 AND available + $1 >= 0 RETURNING id",
        )
        .bind(adjustment.add).bind(equipment_id).bind(activation_id)
        .fetch_optional(&mut *tx).await?;
        if updated.is_none() {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM equipment WHERE id = $1 AND activation_id = $2")
                .bind(equipment_id).bind(activation_id).fetch_optional(&mut *tx).await?;
            return Err(match exists {
                None => AppError::NotFound("equipment"),
                Some(_) => AppError::conflict("equipment_short", "fewer are in stock than that: the rest are out with teams"),
            });
        }
        let equipment = equipment_in!(tx, activation_id, Some(equipment_id));
        let data = DispatchEvent { equipment: equipment.clone(), ..Default::default() };
        let event = events::record!(tx, activation_id, seq, "equipment_changed", actor, &data);
        (equipment.into_iter().next().ok_or(AppError::NotFound("equipment"))?, event)
    });
    Ok(out)
}

pub async fn list(store: &Store, activation_id: i64) -> Result<Vec<EquipmentStock>> {
    let rows = on_pool!(store, pool => {
        sqlx::query_as(super::board::EQUIPMENT_SQL)
            .bind(activation_id)
            .bind(Option::<i64>::None)
            .fetch_all(pool)
            .await?
    });
    Ok(rows)
}
