//! Drills (訓練): scenarios of timed injects played against a running centre, so staff
//! practise on the real screens. A scenario file (`drills/*.toml`) is read and checked by
//! `scenario`, and unrolled into timed calls by `timeline` (with fictitious people from
//! `generate`).

pub mod generate;
pub mod scenario;
pub mod timeline;

pub use scenario::{Problem, Problems, Scenario};
pub use timeline::Timeline;
