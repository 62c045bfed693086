//! Drills (訓練): scenarios of timed injects played against a running centre, so staff
//! practise on the real screens. A scenario file (`drills/*.toml`, format in
//! `drills/README.md`) is read and checked by `scenario`, unrolled into timed calls by
//! `timeline` (with fictitious people from `generate`), and played by `runner` through the
//! HTTP API (`http`) into a drill activation of its own. `cli` is the `saigai-vc drill`
//! command: `check` and `run`; `control` plays the same runner inside the server, started
//! from the web page by an admin. `review` is the after-action review (振り返り) of a run.
//!
//! The runner is an API client like any terminal: it goes through the same routes, roles and
//! checks as staff do, and everything it makes belongs to the drill activation, except the
//! master data a scenario needs (its shelters, its register), which the runner adds only
//! when missing and never changes under a real register (see `runner::RegisterMode`).

pub mod cli;
pub mod control;
pub mod generate;
pub mod http;
pub mod review;
pub mod runner;
pub mod scenario;
pub mod timeline;

pub use cli::DrillCommand;
pub use runner::{Api, ApiError, Control, Options, RegisterMode, Summary};
pub use scenario::{Problem, Problems, Scenario};
pub use timeline::Timeline;

/// The drills' HTTP routes: the after-action review.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::app::AppState> {
    review::router()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scenarios shipped in `drills/` are all good, and each makes calls of every kind
    /// its story needs.
    #[test]
    fn the_shipped_scenarios_pass_the_check() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("drills");
        let mut files: Vec<_> = std::fs::read_dir(&folder)
            .expect("drills/ exists")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        assert!(files.len() >= 3, "three scenarios at least: {files:?}");
        for file in files {
            let scenario = Scenario::load(&file).unwrap_or_else(|p| panic!("{p}"));
            let timeline = timeline::build(&scenario);
            assert!(
                !timeline.steps.is_empty(),
                "{} makes no calls",
                file.display()
            );
        }
    }
}
