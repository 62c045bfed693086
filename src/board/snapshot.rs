//! The whole board of an activation as of one event: what a terminal starts from.
//!
//! Everything is read in one read-only transaction, so the board and its `seq` describe the
//! same moment. Later capabilities (register safety counts, shelters, dispatch) add their
//! sections to [`Board`].

use serde::Serialize;

use crate::activations::{Activation, Announcement};
use crate::dispatch::board::{DispatchBoard, board_in as dispatch_board_in};
use crate::error::{AppError, Result};
use crate::register::safety::{DistrictCounts, counts_in};
use crate::shelters::openings::{ShelterState, states_in};
use crate::store::{Store, read_tx};

/// How many announcements a snapshot carries; older ones stay in the API.
const ANNOUNCEMENTS_SHOWN: i64 = 50;

#[derive(Serialize)]
pub struct Board {
    pub activation: Activation,
    /// Newest first.
    pub announcements: Vec<Announcement>,
    pub counts: Counts,
    /// Safety confirmation counts by district: numbers only, never names.
    pub safety: Vec<DistrictCounts>,
    /// Every welfare shelter: open or closed, capacity, assigned, arrived. Numbers only.
    pub shelters: Vec<ShelterState>,
    /// The matching board: open needs, active teams, today's volunteers, equipment.
    pub dispatch: DispatchBoard,
}

#[derive(Serialize)]
pub struct Counts {
    pub announcements: i64,
}

#[derive(Serialize)]
struct SnapshotMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: i64,
    data: &'a Board,
}

/// Reads the board and returns its seq with the ready-to-send `snapshot` message.
pub async fn snapshot(store: &Store, activation_id: i64) -> Result<(i64, String)> {
    let board = read_board(store, activation_id).await?;
    let seq = board.activation.last_seq;
    let text = serde_json::to_string(&SnapshotMessage {
        kind: "snapshot",
        seq,
        data: &board,
    })
    .map_err(anyhow::Error::from)?;
    Ok((seq, text))
}

pub async fn read_board(store: &Store, activation_id: i64) -> Result<Board> {
    let board = read_tx!(store, tx => {
        let activation: Option<Activation> = sqlx::query_as(
            "SELECT id, name, kind, status, opened_at, closed_at, last_seq FROM activations WHERE id = $1",
        )
        .bind(activation_id)
        .fetch_optional(&mut *tx)
        .await?;
        let activation = activation.ok_or(AppError::NotFound("activation"))?;
        let announcements: Vec<Announcement> = sqlx::query_as(
            "SELECT id, text, posted_by, posted_at FROM announcements WHERE activation_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(activation_id)
        .bind(ANNOUNCEMENTS_SHOWN)
        .fetch_all(&mut *tx)
        .await?;
        let announcement_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM announcements WHERE activation_id = $1")
            .bind(activation_id)
            .fetch_one(&mut *tx)
            .await?;
        let safety = counts_in!(tx, activation_id);
        let shelters = states_in!(tx, activation_id, None::<i64>);
        let dispatch = dispatch_board_in!(tx, activation_id);
        Board { activation, announcements, counts: Counts { announcements: announcement_count }, safety, shelters, dispatch }
    });
    Ok(board)
}
