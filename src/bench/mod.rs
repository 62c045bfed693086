//! Benchmarks that print figures: `saigai-vc bench board`.

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Websocket fan-out: N terminals, M events, latency from commit to receipt.
    Board,
}

pub async fn run(_command: BenchCommand) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
