//! saigai-vc: the server of a disaster volunteer centre (災害ボランティアセンター) and the
//! welfare shelters (福祉避難所) beside it.
//!
//! Each capability has its own module with its own `router()`, merged in [`app::app`]:
//! `auth` (users, roles, sessions), `activations` (drills and real events, announcements),
//! `events` (the event log and its fan-out), `board` (the live board over websockets),
//! `register` (the support-needed register and safety confirmation), `shelters` (welfare
//! shelters, assignments and the operator's screen), `dispatch` (the volunteer centre: check-in,
//! needs, teams, equipment, the matching board), `drills` (scenarios played against a running
//! centre), `audit` (who read what).
//! `store` is the storage boundary over SQLite and PostgreSQL; `web` embeds the page.

pub mod activations;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bench;
pub mod board;
pub mod demo;
pub mod dispatch;
pub mod drills;
pub mod error;
pub mod events;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod register;
pub mod shelters;
pub mod store;
pub mod web;

pub use app::{AppState, Settings, app, run};
pub use store::Store;
