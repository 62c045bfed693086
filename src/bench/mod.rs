//! Benchmarks that print figures: `saigai-vc bench board`, `saigai-vc bench register`.
//!
//! A benchmark here is a command, not a test: it starts the server it measures as a child
//! process (so the load generator never shares a runtime or an allocator with it), drives it
//! over loopback like real terminals would, and prints what it saw. Nothing here asserts;
//! targets are printed as PASS or FAIL beside the figures, and BENCHMARKS.md records them.
//!
//! - `board`: the live board's fan-out, against a minimal Node `ws` server as the reference.
//! - `register`: importing a generated register, against the `sqlite3` shell's `.import`.
//! - `dispatch`: dispatch status updates per second on SQLite, against the `sqlite3` shell's
//!   single-row commits (the disk's fsync bound).
//! - `servers`: starting and stopping the servers under test, and reading their memory.
//! - `terminals`: the websocket terminals that receive and time the events.
//! - `http`: the few plain HTTP requests the bench makes (login, posting).

mod board;
mod dispatch;
mod http;
mod register;
mod servers;
mod terminals;

pub use board::BoardArgs;
pub use dispatch::DispatchArgs;
pub use register::RegisterArgs;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Websocket fan-out: N terminals, M events, latency from commit to receipt.
    Board(BoardArgs),
    /// Register import: a generated register of N people, against `sqlite3 .import`.
    Register(RegisterArgs),
    /// Dispatch status updates from many coordinators, against sqlite3's single-row commits.
    Dispatch(DispatchArgs),
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Board(args) => board::run(args).await,
        BenchCommand::Register(args) => register::run(args).await,
        BenchCommand::Dispatch(args) => dispatch::run(args).await,
    }
}
