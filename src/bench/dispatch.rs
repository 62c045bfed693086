//! `saigai-vc bench dispatch`: how many dispatch status updates the centre commits per second
//! on SQLite with `synchronous=FULL`, with board terminals connected, next to the rate at which
//! the `sqlite3` shell commits single-row inserts on the same disk (the fsync bound: one
//! commit, one flush).
//!
//! Each client is a coordinator on a kept-alive connection driving one team around the cycle
//! of the centre's day, one request at a time: form a team for its need, send it out, record
//! its return, report "continue tomorrow" (which reopens the need for the next team). Each
//! request is a status update committed with its event and fanned out to every terminal.
//! Beating the fsync bound is only possible when several clients' updates share a commit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, ensure};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::time::Instant;

use super::http::KeepAlive;
use super::servers::Server;
use super::terminals::{Plan, Terminals};

const TARGET_P99_MS: f64 = 50.0;

#[derive(clap::Args)]
pub struct DispatchArgs {
    /// Coordinators sending updates at the same time.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Board terminals connected meanwhile.
    #[arg(long, default_value_t = 1000)]
    terminals: usize,
    /// Seconds of updates in each run.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Runs; the figures printed are the medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Single-row inserts the `sqlite3` shell commits to measure the fsync bound.
    #[arg(long, default_value_t = 2000)]
    inserts: usize,
    /// The saigai-vc binary to serve with (default: this one).
    #[arg(long)]
    binary: Option<PathBuf>,
}

struct Figures {
    updates: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    terminals: usize,
    sqlite3_per_s: f64,
}

impl Figures {
    fn per_s(&self) -> f64 {
        self.updates as f64 / self.elapsed.as_secs_f64()
    }
}

pub async fn run(args: DispatchArgs) -> anyhow::Result<()> {
    ensure!(
        args.clients > 0 && args.runs > 0,
        "--clients and --runs must be at least 1"
    );
    let files = rlimit::increase_nofile_limit(u64::MAX).context("cannot raise RLIMIT_NOFILE")?;
    ensure!(
        (args.terminals + args.clients) as u64 + 64 <= files,
        "{} terminals and {} clients need more open files than this process may hold ({files})",
        args.terminals,
        args.clients
    );
    let binary = match &args.binary {
        Some(path) => path.clone(),
        None => std::env::current_exe().context("cannot find this binary")?,
    };
    println!(
        "bench dispatch: {} clients for {} s, {} terminals connected, {} run(s); SQLite synchronous=FULL",
        args.clients, args.seconds, args.terminals, args.runs
    );
    let mut runs = Vec::new();
    for run in 1..=args.runs {
        let f = measure(&args, &binary)
            .await
            .with_context(|| format!("run {run}"))?;
        println!(
            "run {run}/{}: {} updates in {:.1} s = {:.0}/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
             {} errors; {} terminals; sqlite3 single-row commits {:.0}/s",
            args.runs,
            f.updates,
            f.elapsed.as_secs_f64(),
            f.per_s(),
            f.p50_us as f64 / 1000.0,
            f.p99_us as f64 / 1000.0,
            f.max_us as f64 / 1000.0,
            f.errors,
            f.terminals,
            f.sqlite3_per_s,
        );
        if let Some(error) = &f.first_error {
            println!("  first error: {error}");
        }
        runs.push(f);
    }
    let median = |f: &dyn Fn(&Figures) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let rate = median(&|f| f.per_s());
    let bound = median(&|f| f.sqlite3_per_s);
    let p50 = median(&|f| f.p50_us as f64 / 1000.0);
    let p99 = median(&|f| f.p99_us as f64 / 1000.0);
    let errors: u64 = runs.iter().map(|f| f.errors).sum();
    let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
    println!();
    println!(
        "| figure (median of {} runs) | value | target |",
        runs.len()
    );
    println!("|---|---|---|");
    println!("| dispatch updates per second | {rate:.0} | |");
    println!("| sqlite3 single-row commits per second (reference) | {bound:.0} | |");
    println!(
        "| updates / sqlite3 commits | {:.2}× | ≥ 1.0× {} |",
        rate / bound,
        verdict(rate >= bound)
    );
    println!("| p50 latency | {p50:.1} ms | |");
    println!(
        "| p99 latency | {p99:.1} ms | ≤ {TARGET_P99_MS} ms {} |",
        verdict(p99 <= TARGET_P99_MS)
    );
    println!(
        "| errors (all runs) | {errors} | 0 {} |",
        verdict(errors == 0)
    );
    Ok(())
}

/// One client's state: its need and volunteer, and where its team is in the cycle.
struct Client {
    connection: KeepAlive,
    need_id: i64,
    volunteer_id: i64,
}

async fn measure(args: &DispatchArgs, binary: &Path) -> anyhow::Result<Figures> {
    let server = Server::start_saigai(binary, None, 1)
        .await?
        .pop()
        .context("no server")?;
    let token = server.token.clone().context("no token")?;
    let activation = server.activation_id;
    let base = format!("/api/activations/{activation}");

    // Each client gets a need and an insured volunteer of its own.
    let mut clients = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let mut connection = KeepAlive::connect(server.address).await?;
        let volunteer = connection
            .post_json(
                &format!("{base}/volunteers"),
                Some(&token),
                &json!({ "name": format!("ベンチ {i}"), "phone": format!("090-{:04}-{:04}", i / 10000, i % 10000),
                         "insurance": { "joined": true, "plan": "disaster" } }),
            )
            .await?;
        ensure!(
            volunteer.status == 201,
            "volunteer: {} {}",
            volunteer.status,
            volunteer.body
        );
        let need = connection
            .post_json(
                &format!("{base}/needs"),
                Some(&token),
                &json!({ "requester_name": "ベンチ", "address": format!("ベンチ市{i}-1"), "district": "ベンチ",
                         "category": "mud_removal", "people_needed": 1 }),
            )
            .await?;
        ensure!(need.status == 201, "need: {} {}", need.status, need.body);
        clients.push(Client {
            connection,
            volunteer_id: id_in(&volunteer.body, "/volunteer/id")?,
            need_id: id_in(&need.body, "/need/id")?,
        });
    }

    let plan = Arc::new(Plan {
        address: server.address,
        path: server.board_path.clone(),
        token: Some(token.clone()),
        events: 0,
    });
    let terminals = Terminals::spawn(plan, args.terminals, 256);
    let (connected, _) = terminals.wait_connected().await;

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| tokio::spawn(drive(client, base.clone(), token.clone(), deadline)))
        .collect();
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let (mut updates, mut errors, mut first_error) = (0, 0, None);
    for task in tasks {
        let outcome = task.await?;
        updates += outcome.latencies.len() as u64;
        for latency in outcome.latencies {
            histogram.saturating_record(latency.max(1));
        }
        errors += outcome.errors;
        if first_error.is_none() {
            first_error = outcome.first_error;
        }
    }
    let elapsed = started.elapsed();
    terminals.close().await;
    let sqlite3_per_s = sqlite3_commit_rate(server.dir(), args.inserts).await?;
    server.stop().await;
    Ok(Figures {
        updates,
        errors,
        first_error,
        elapsed,
        p50_us: histogram.value_at_quantile(0.5),
        p99_us: histogram.value_at_quantile(0.99),
        max_us: histogram.max(),
        terminals: connected,
        sqlite3_per_s,
    })
}

fn id_in(body: &str, pointer: &str) -> anyhow::Result<i64> {
    let value: serde_json::Value = serde_json::from_str(body)?;
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_i64)
        .with_context(|| format!("no {pointer} in {body}"))
}

struct Outcome {
    latencies: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// One coordinator: form → dispatch → return → report (continue), again and again.
async fn drive(mut client: Client, base: String, token: String, deadline: Instant) -> Outcome {
    let mut outcome = Outcome {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
    };
    let mut team: Option<i64> = None;
    let mut step = 0usize;
    while Instant::now() < deadline {
        let (path, body) = match (step % 4, team) {
            (0, _) => (
                format!("{base}/teams"),
                json!({ "need_id": client.need_id, "leader_id": client.volunteer_id, "orientation_done": true }),
            ),
            (1, Some(t)) => (
                format!("{base}/teams/{t}/dispatch"),
                json!({ "hours_out": 1 }),
            ),
            (2, Some(t)) => (
                format!("{base}/teams/{t}/return"),
                json!({ "injuries": false, "all_back": true }),
            ),
            (3, Some(t)) => (
                format!("{base}/teams/{t}/report"),
                json!({ "outcome": "continue", "hours": 1 }),
            ),
            _ => break,
        };
        let sent = Instant::now();
        let answer = client
            .connection
            .post_json(&path, Some(&token), &body)
            .await;
        let took = sent.elapsed();
        match answer {
            Ok(response) if (200..300).contains(&response.status) => {
                outcome.latencies.push(took.as_micros() as u64);
                if step.is_multiple_of(4) {
                    team = id_in(&response.body, "/id").ok();
                }
                step += 1;
            }
            Ok(response) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert(format!("{path}: {} {}", response.status, response.body));
                break;
            }
            Err(error) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert(format!("{path}: {error:#}"));
                break;
            }
        }
    }
    outcome
}

/// Single-row inserts per second that the `sqlite3` shell commits, each its own transaction,
/// with WAL and synchronous=FULL like the server, in a database beside the server's.
async fn sqlite3_commit_rate(dir: &Path, inserts: usize) -> anyhow::Result<f64> {
    let database = dir.join("fsync-bound.db");
    let mut script = String::from(
        "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\nCREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n",
    );
    for i in 0..inserts {
        script.push_str(&format!("INSERT INTO t (v) VALUES ('update {i}');\n"));
    }
    let script_path = dir.join("fsync-bound.sql");
    std::fs::write(&script_path, script)?;
    let started = Instant::now();
    let output = tokio::process::Command::new("sqlite3")
        .arg(&database)
        .arg(format!(".read {}", script_path.display()))
        .output()
        .await
        .context("cannot run sqlite3: install the sqlite3 package")?;
    let elapsed = started.elapsed();
    ensure!(
        output.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(inserts as f64 / elapsed.as_secs_f64())
}
