//! `saigai-vc bench board`: how fast, how completely and how cheaply the live board fans
//! events out to many terminals, next to a minimal Node `ws` broadcast server.
//!
//! Each run starts a fresh server (a child process on a fresh database and a new port),
//! connects the terminals, reads the server's memory before and after they are connected
//! and idle, posts the announcements at a steady pace from one HTTP client, and waits until
//! every terminal has every event or a deadline passes. Fresh servers keep the runs
//! independent (no warm caches, no leftover sessions) and put each run on its own port, so the
//! TIME_WAIT sockets of one run never collide with the next run's connections. The figures
//! printed are the medians of the runs; losses are added up over all runs.
//!
//! Latency is "commit to receipt": the terminal's clock when it read the frame minus the
//! event's `at`, which saigai-vc takes inside the transaction just before it commits (the
//! Node reference takes it just before it broadcasts). Both ends read the same clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, ensure};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::time::Instant;

use super::http;
use super::servers::{BenchDatabase, Kind, Server, machine_cpu_time, own_cpu_time};
use super::terminals::{Plan, Terminals, announcement_text};

/// The targets of issue 2, for saigai-vc.
const TARGET_P99_MS: f64 = 250.0;
const TARGET_KIB_PER_TERMINAL: f64 = 16.0;
const TARGET_P99_RATIO: f64 = 0.5;
/// Issue 8: with stuck terminals, the healthy ones' p99 within this factor of the run
/// without them.
const TARGET_STUCK_RATIO: f64 = 2.0;

/// Receive buffer of a stuck terminal's socket: small, so the server's writes to it block
/// soon, as they would to a frozen tablet on Wi-Fi.
const STUCK_RECEIVE_BUFFER: usize = 4096;

/// CPU time of other processes during a run beyond which the run is reported as disturbed.
const DISTURBED: Duration = Duration::from_secs(1);

/// Time for the server to settle (allocator, lazy initialisation) before its memory is read.
const SETTLE: Duration = Duration::from_secs(2);

#[derive(clap::Args)]
pub struct BoardArgs {
    /// Websocket terminals to connect.
    #[arg(long, default_value_t = 15_000)]
    terminals: usize,
    /// Announcements to post in each run.
    #[arg(long, default_value_t = 200)]
    events: usize,
    /// Milliseconds between two posts.
    #[arg(long, default_value_t = 50)]
    interval_ms: u64,
    /// Runs against each server; the figures printed are the medians of the runs.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The saigai-vc binary to serve with (default: this one).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Measure saigai-vc only, without the Node reference.
    #[arg(long)]
    skip_node: bool,
    /// Folder of the Node reference server (default: bench/node-ref of this checkout).
    #[arg(long)]
    node_ref: Option<PathBuf>,
    /// Terminals connecting at the same time.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Seconds to wait after the last post for the last events to arrive.
    #[arg(long, default_value_t = 30)]
    drain_seconds: u64,
    /// Measure saigai-vc on PostgreSQL instead (a fresh database per run on the server of
    /// this URL): one instance, then `--instances` on one database with the terminals spread
    /// over them and the posts going through each in turn.
    #[arg(long)]
    postgres: Option<String>,
    /// Instances to compare with one, with --postgres.
    #[arg(long, default_value_t = 2)]
    instances: usize,
    /// Also measure saigai-vc with this many more terminals that connect and never read (a
    /// frozen tablet, a laptop shut with the page open): the healthy terminals' latency next
    /// to the run without them, the server's memory at the end, and how many of the stuck
    /// ones the server closed.
    #[arg(long, default_value_t = 0)]
    stuck: usize,
}

pub async fn run(args: BoardArgs) -> anyhow::Result<()> {
    ensure!(args.terminals > 0, "--terminals must be at least 1");
    ensure!(args.events > 0, "--events must be at least 1");
    ensure!(args.runs > 0, "--runs must be at least 1");
    // Every terminal is a socket of this process; the soft limit is often far below the hard.
    let files = rlimit::increase_nofile_limit(u64::MAX).context("cannot raise RLIMIT_NOFILE")?;
    ensure!(
        (args.terminals + args.stuck) as u64 + 64 <= files,
        "{} terminals need more open files than this process may hold ({files}): \
         raise `ulimit -n` or lower --terminals",
        args.terminals
    );
    let binary = match &args.binary {
        Some(path) => path.clone(),
        None => std::env::current_exe().context("cannot find this binary")?,
    };
    let node_ref = args.node_ref.clone().unwrap_or_else(default_node_ref);

    println!(
        "bench board: {} terminals, {} events every {} ms, {} run(s) per server",
        args.terminals, args.events, args.interval_ms, args.runs
    );
    println!("machine: {}", machine());

    let mut kinds = match &args.postgres {
        Some(_) => vec![Kind::Cluster(1), Kind::Cluster(args.instances.max(2))],
        None => vec![Kind::SaigaiVc],
    };
    if !args.skip_node && args.postgres.is_none() {
        kinds.push(Kind::Node);
    }
    if args.stuck > 0 && args.postgres.is_none() {
        kinds.push(Kind::Stuck(args.stuck));
    }
    let mut summaries = Vec::new();
    for kind in kinds {
        let mut runs = Vec::with_capacity(args.runs);
        for run in 1..=args.runs {
            let figures = measure(kind, &args, &binary, &node_ref)
                .await
                .with_context(|| format!("{} run {run}", kind.label()))?;
            println!(
                "{} run {run}/{}: {}",
                kind.label(),
                args.runs,
                figures.line()
            );
            if figures.other_cpu > DISTURBED {
                println!(
                    "  warning: other processes used {:.1} s of CPU during this run: \
                     its figures are disturbed",
                    figures.other_cpu.as_secs_f64()
                );
            }
            runs.push(figures);
        }
        summaries.push(Summary::of(kind, &runs));
    }
    if args.postgres.is_some() {
        print_cluster_table(&args, &summaries);
    } else {
        print_table(&args, &summaries);
        print_stuck_table(&summaries);
    }
    Ok(())
}

/// bench/node-ref in the working directory when run from a checkout, else beside the sources
/// this binary was built from.
fn default_node_ref() -> PathBuf {
    let here = PathBuf::from("bench/node-ref");
    if here.join("server.js").is_file() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/node-ref")
    }
}

/// What one run measured.
struct Figures {
    terminals: usize,
    connected: usize,
    failed: usize,
    connect_time: Duration,
    rss_before: u64,
    rss_idle: u64,
    /// The server's resident memory after the posts were delivered.
    rss_end: u64,
    /// Terminals that never read, and how many of them the server had closed by the end.
    stuck: usize,
    stuck_closed: usize,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    expected: u64,
    received: u64,
    duplicates: u64,
    resyncs: u64,
    dropped: usize,
    negative: u64,
    post_p50: Duration,
    post_max: Duration,
    /// From the first post to the last one sent: the rate actually offered.
    post_span: Duration,
    /// From the first post until every event arrived (or the deadline).
    busy: Duration,
    /// CPU used meanwhile by the server and by the bench's terminals: with both on the same
    /// cores, this shows which side the time went to.
    server_cpu: Duration,
    bench_cpu: Duration,
    /// CPU the kernel spent meanwhile in softirqs, charged to no process: on loopback, mostly
    /// delivering the websocket frames and their acknowledgements.
    kernel_net_cpu: Duration,
    /// CPU used meanwhile by other processes (a compiler, say): a few tenths of a second is
    /// noise; more means the run was disturbed.
    other_cpu: Duration,
    server_log: String,
}

impl Figures {
    fn lost(&self) -> u64 {
        self.expected.saturating_sub(self.received)
    }

    /// Growth of the server's resident memory per connected idle terminal, in bytes.
    fn bytes_per_terminal(&self) -> f64 {
        if self.connected == 0 {
            return 0.0;
        }
        self.rss_idle.saturating_sub(self.rss_before) as f64 / self.connected as f64
    }

    fn line(&self) -> String {
        let mut line = format!(
            "connected {}/{} in {:.1} s; idle {:.2} KiB/terminal (RSS {:.1} -> {:.1} MiB); \
             latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; lost {} of {}; \
             {} posts sent over {:.1} s, answered in p50 {:.1} ms, max {:.1} ms; \
             delivery took {:.1} s, using CPU {:.1} s in the server, {:.1} s in the bench, \
             {:.1} s in kernel softirqs, {:.1} s in other processes",
            self.connected,
            self.terminals,
            self.connect_time.as_secs_f64(),
            self.bytes_per_terminal() / 1024.0,
            mib(self.rss_before),
            mib(self.rss_idle),
            ms(self.p50_us),
            ms(self.p99_us),
            ms(self.max_us),
            self.lost(),
            self.expected,
            self.expected / self.terminals.max(1) as u64,
            self.post_span.as_secs_f64(),
            self.post_p50.as_secs_f64() * 1000.0,
            self.post_max.as_secs_f64() * 1000.0,
            self.busy.as_secs_f64(),
            self.server_cpu.as_secs_f64(),
            self.bench_cpu.as_secs_f64(),
            self.kernel_net_cpu.as_secs_f64(),
            self.other_cpu.as_secs_f64(),
        );
        for (count, what) in [
            (self.failed as u64, "failed to connect"),
            (self.dropped as u64, "connections dropped by the server"),
            (self.duplicates, "duplicate events"),
            (self.resyncs, "resync snapshots"),
            (self.negative, "events timed before their commit (clock)"),
        ] {
            if count > 0 {
                line.push_str(&format!("; {count} {what}"));
            }
        }
        if self.stuck > 0 {
            line.push_str(&format!(
                "; {}/{} stuck terminals closed by the server; RSS {:.1} MiB at the end",
                self.stuck_closed,
                self.stuck,
                mib(self.rss_end)
            ));
        }
        line.push_str(&self.server_log);
        line
    }
}

async fn measure(
    kind: Kind,
    args: &BoardArgs,
    binary: &Path,
    node_ref: &Path,
) -> anyhow::Result<Figures> {
    let database = match (kind, &args.postgres) {
        (Kind::Cluster(_), Some(url)) => Some(BenchDatabase::create(url).await?),
        _ => None,
    };
    let servers = match kind {
        Kind::SaigaiVc | Kind::Stuck(_) => Server::start_saigai(binary, None, 1).await?,
        Kind::Cluster(n) => {
            let url = database.as_ref().map(|d| d.url.as_str());
            Server::start_saigai(binary, url, n).await?
        }
        Kind::Node => vec![Server::start_node(node_ref).await?],
    };
    tokio::time::sleep(SETTLE).await;
    let rss = |servers: &[Server]| -> anyhow::Result<u64> {
        servers.iter().map(Server::rss).sum::<anyhow::Result<u64>>()
    };
    let cpu = |servers: &[Server]| -> anyhow::Result<Duration> {
        servers
            .iter()
            .map(Server::cpu_time)
            .sum::<anyhow::Result<Duration>>()
    };
    let rss_before = rss(&servers)?;

    // The terminals spread evenly over the instances.
    let started = Instant::now();
    let groups: Vec<Terminals> = servers
        .iter()
        .enumerate()
        .map(|(i, server)| {
            let plan = Arc::new(Plan {
                address: server.address,
                path: server.board_path.clone(),
                token: server.token.clone(),
                events: args.events,
            });
            let share =
                args.terminals / servers.len() + usize::from(i < args.terminals % servers.len());
            Terminals::spawn(plan, share, args.connect_concurrency)
        })
        .collect();
    let (mut connected, mut failed) = (0, 0);
    for group in &groups {
        let (c, f) = group.wait_connected().await;
        connected += c;
        failed += f;
        if let Some(error) = group.first_error() {
            eprintln!("    {f} terminal(s) failed to connect; the first: {error}");
        }
    }
    let connect_time = started.elapsed();
    tokio::time::sleep(SETTLE).await;
    let rss_idle = rss(&servers)?;
    let stuck = match kind {
        Kind::Stuck(n) => connect_stuck(&servers[0], n).await?,
        _ => Vec::new(),
    };

    let (server_cpu, bench_cpu) = (cpu(&servers)?, own_cpu_time()?);
    let machine_cpu = machine_cpu_time()?;
    let busy_from = Instant::now();
    let posting = post_announcements(&servers, args).await?;
    let deadline = Instant::now() + Duration::from_secs(args.drain_seconds);
    for group in &groups {
        group.wait_complete(deadline).await;
    }
    let busy = busy_from.elapsed();
    let server_cpu = cpu(&servers)?.saturating_sub(server_cpu);
    let bench_cpu = own_cpu_time()?.saturating_sub(bench_cpu);
    let machine_now = machine_cpu_time()?;
    let kernel_net_cpu = machine_now
        .interrupts
        .saturating_sub(machine_cpu.interrupts);
    let other_cpu = machine_now
        .processes
        .saturating_sub(machine_cpu.processes)
        .saturating_sub(server_cpu + bench_cpu);
    let rss_end = rss(&servers)?;
    let stuck_total = stuck.len();
    let stuck_closed = closed_by_server(stuck).await;
    let mut tallies = Vec::new();
    for group in groups {
        tallies.extend(group.close().await);
    }
    let mut server_log = String::new();
    for server in servers {
        server_log.push_str(&server.stop().await);
    }
    if let Some(database) = database {
        database.drop_now().await?;
    }

    let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?;
    let mut figures = Figures {
        terminals: args.terminals,
        connected,
        failed,
        connect_time,
        rss_before,
        rss_idle,
        rss_end,
        stuck: stuck_total,
        stuck_closed,
        p50_us: 0,
        p99_us: 0,
        max_us: 0,
        expected: (args.terminals * args.events) as u64,
        received: 0,
        duplicates: 0,
        resyncs: 0,
        dropped: 0,
        negative: 0,
        post_p50: percentile(&posting.answered, 0.5),
        post_max: posting.answered.iter().copied().max().unwrap_or_default(),
        post_span: posting.span,
        busy,
        server_cpu,
        bench_cpu,
        kernel_net_cpu,
        other_cpu,
        server_log,
    };
    for tally in &tallies {
        for &latency in &tally.latencies {
            histogram.saturating_record(u64::from(latency).max(1));
        }
        figures.received += tally.received;
        figures.duplicates += tally.duplicates;
        figures.resyncs += tally.resyncs;
        figures.negative += tally.negative;
        figures.dropped += usize::from(tally.dropped);
    }
    if !histogram.is_empty() {
        figures.p50_us = histogram.value_at_quantile(0.5);
        figures.p99_us = histogram.value_at_quantile(0.99);
        figures.max_us = histogram.max();
    }
    Ok(figures)
}

/// Opens `count` terminals that upgrade and then never read a byte, on sockets with a small
/// receive buffer: the server's writes to them block once a few frames are queued.
async fn connect_stuck(
    server: &Server,
    count: usize,
) -> anyhow::Result<Vec<tokio::net::TcpStream>> {
    use tokio::io::AsyncWriteExt;
    let token = server.token.as_deref().unwrap_or_default();
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(STUCK_RECEIVE_BUFFER as u32)?;
        let mut stream = socket.connect(server.address).await?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Authorization: Bearer {token}\r\n\r\n",
            server.board_path, server.address
        );
        stream.write_all(request.as_bytes()).await?;
        streams.push(stream);
    }
    Ok(streams)
}

/// How many of the stuck terminals' connections the server has ended: reading one now gets
/// what was buffered and then its end, at once; one still open has nothing more to give.
async fn closed_by_server(streams: Vec<tokio::net::TcpStream>) -> usize {
    use tokio::io::AsyncReadExt;
    let reads = streams.into_iter().map(|mut stream| async move {
        let mut sink = Vec::new();
        tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut sink))
            .await
            .is_ok()
    });
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .filter(|closed| *closed)
        .count()
}

/// How the posting went.
struct Posting {
    /// From each post's planned start to its answer.
    answered: Vec<Duration>,
    /// From the first post to the last one sent.
    span: Duration,
}

/// Posts the announcements at the planned pace, each on its own connection, without waiting
/// for earlier answers: the load is what was planned, whether or not the server keeps up
/// (waiting for each answer would slow the posts down to the server's pace and hide any
/// backlog). A post that fails ends the run: its event would count as lost.
async fn post_announcements(servers: &[Server], args: &BoardArgs) -> anyhow::Result<Posting> {
    let mut pace = tokio::time::interval(Duration::from_millis(args.interval_ms.max(1)));
    // If the bench itself is late for a tick, the next post waits its full interval rather
    // than going out in a burst: the rate never exceeds the planned one.
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut posts = Vec::with_capacity(args.events);
    let mut first = None;
    for index in 0..args.events {
        let planned = pace.tick().await;
        first.get_or_insert(planned);
        // Through each instance in turn: writers on every instance, as in a real deployment.
        let server = &servers[index % servers.len()];
        let (address, path, token) = (
            server.address,
            server.post_path.clone(),
            server.token.clone(),
        );
        posts.push(tokio::spawn(async move {
            let body = json!({ "text": announcement_text(index) });
            let response = http::post_json(address, &path, token.as_deref(), &body).await?;
            ensure!(
                response.status == 201,
                "post {index}: {} {}",
                response.status,
                response.body
            );
            anyhow::Ok(planned.elapsed())
        }));
    }
    let span = first.map_or(Duration::ZERO, |first| first.elapsed());
    let mut answered = Vec::with_capacity(posts.len());
    for post in posts {
        answered.push(post.await??);
    }
    Ok(Posting { answered, span })
}

/// The medians of one server's runs.
struct Summary {
    kind: Kind,
    runs: usize,
    terminals: usize,
    connected: usize,
    connect_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    lost: u64,
    expected: u64,
    kib_per_terminal: f64,
    rss_end_mib: f64,
    stuck: usize,
    stuck_closed: usize,
}

impl Summary {
    fn of(kind: Kind, runs: &[Figures]) -> Summary {
        let median_of = |f: &dyn Fn(&Figures) -> f64| median(runs.iter().map(f).collect());
        Summary {
            kind,
            runs: runs.len(),
            terminals: runs.first().map_or(0, |r| r.terminals),
            connected: runs.iter().map(|r| r.connected).min().unwrap_or(0),
            connect_s: median_of(&|r| r.connect_time.as_secs_f64()),
            p50_ms: median_of(&|r| ms(r.p50_us)),
            p99_ms: median_of(&|r| ms(r.p99_us)),
            max_ms: median_of(&|r| ms(r.max_us)),
            lost: runs.iter().map(Figures::lost).sum(),
            expected: runs.iter().map(|r| r.expected).sum(),
            kib_per_terminal: median_of(&|r| r.bytes_per_terminal() / 1024.0),
            rss_end_mib: median_of(&|r| mib(r.rss_end)),
            stuck: runs.first().map_or(0, |r| r.stuck),
            stuck_closed: runs.iter().map(|r| r.stuck_closed).min().unwrap_or(0),
        }
    }
}

fn print_table(args: &BoardArgs, summaries: &[Summary]) {
    let Some(ours) = summaries.iter().find(|s| s.kind == Kind::SaigaiVc) else {
        return;
    };
    let node = summaries.iter().find(|s| s.kind == Kind::Node);
    let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
    let cell = |value: Option<String>| value.unwrap_or_else(|| "-".into());

    println!();
    println!(
        "board fan-out: {} terminals, {} events every {} ms; median of {} run(s), lost summed",
        args.terminals, args.events, args.interval_ms, ours.runs
    );
    let columns = [Kind::SaigaiVc.label(), Kind::Node.label()];
    let columns = [columns[0].as_str(), columns[1].as_str()];
    println!(
        "{:<32}{:>12}{:>12}   {:<12}result",
        "", columns[0], columns[1], "target"
    );
    let row = |label: &str, f: &dyn Fn(&Summary) -> String, target: &str, result: &str| {
        println!(
            "{label:<32}{:>12}{:>12}   {target:<12}{result}",
            f(ours),
            cell(node.map(f)),
        );
    };
    row(
        "terminals connected",
        &|s| format!("{}/{}", s.connected, s.terminals),
        "all",
        verdict(ours.connected == ours.terminals),
    );
    row(
        "connect time (s)",
        &|s| format!("{:.1}", s.connect_s),
        "",
        "",
    );
    row("p50 latency (ms)", &|s| format!("{:.1}", s.p50_ms), "", "");
    row(
        "p99 latency (ms)",
        &|s| format!("{:.1}", s.p99_ms),
        &format!("<= {TARGET_P99_MS}"),
        verdict(ours.p99_ms <= TARGET_P99_MS),
    );
    row("max latency (ms)", &|s| format!("{:.1}", s.max_ms), "", "");
    row(
        "messages lost",
        &|s| format!("{}", s.lost),
        "0",
        verdict(ours.lost == 0),
    );
    row(
        "  of messages expected",
        &|s| format!("{}", s.expected),
        "",
        "",
    );
    row(
        "memory per idle terminal (KiB)",
        &|s| format!("{:.2}", s.kib_per_terminal),
        &format!("<= {TARGET_KIB_PER_TERMINAL}"),
        verdict(ours.kib_per_terminal <= TARGET_KIB_PER_TERMINAL),
    );
    match node {
        Some(node) if node.p99_ms > 0.0 => {
            let ratio = ours.p99_ms / node.p99_ms;
            println!(
                "{:<32}{:>12.2}{:>12}   {:<12}{}",
                "p99 saigai-vc / node ws",
                ratio,
                "",
                format!("<= {TARGET_P99_RATIO}"),
                verdict(ratio <= TARGET_P99_RATIO)
            );
        }
        _ => println!("p99 saigai-vc / node ws: not measured (--skip-node)"),
    }
}

/// The healthy terminals with and without stuck ones beside them, on one SQLite server.
fn print_stuck_table(summaries: &[Summary]) {
    let (Some(alone), Some(stuck)) = (
        summaries.iter().find(|s| s.kind == Kind::SaigaiVc),
        summaries.iter().find(|s| matches!(s.kind, Kind::Stuck(_))),
    ) else {
        return;
    };
    let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
    println!();
    println!(
        "terminals that never read: {} healthy terminals alone, then with {} stuck ones",
        alone.terminals, stuck.stuck
    );
    println!(
        "{:<32}{:>12}{:>12}",
        "",
        alone.kind.label(),
        stuck.kind.label()
    );
    let row = |label: &str, f: &dyn Fn(&Summary) -> String| {
        println!("{label:<32}{:>12}{:>12}", f(alone), f(stuck));
    };
    row("healthy p50 latency (ms)", &|s| format!("{:.1}", s.p50_ms));
    row("healthy p99 latency (ms)", &|s| format!("{:.1}", s.p99_ms));
    row("healthy messages lost", &|s| format!("{}", s.lost));
    row("server memory at the end (MiB)", &|s| {
        format!("{:.1}", s.rss_end_mib)
    });
    row("stuck closed by the server", &|s| {
        format!("{}/{}", s.stuck_closed, s.stuck)
    });
    if alone.p99_ms > 0.0 {
        let ratio = stuck.p99_ms / alone.p99_ms;
        println!(
            "{:<32}{:>12.2}{:>12}   {:<12}{}",
            "p99 with stuck / alone",
            ratio,
            "",
            format!("<= {TARGET_STUCK_RATIO}"),
            verdict(ratio <= TARGET_STUCK_RATIO)
        );
    }
}

/// One instance on PostgreSQL next to several on the same database: what spreading the
/// terminals costs in latency from commit to receipt.
fn print_cluster_table(args: &BoardArgs, summaries: &[Summary]) {
    let [one, many] = summaries else {
        return;
    };
    println!();
    println!(
        "board fan-out on PostgreSQL: {} terminals, {} events every {} ms; median of {} run(s), lost summed",
        args.terminals, args.events, args.interval_ms, one.runs
    );
    println!(
        "{:<32}{:>12}{:>12}",
        "",
        one.kind.label(),
        many.kind.label()
    );
    let row = |label: &str, f: &dyn Fn(&Summary) -> String| {
        println!("{label:<32}{:>12}{:>12}", f(one), f(many));
    };
    row("terminals connected", &|s| {
        format!("{}/{}", s.connected, s.terminals)
    });
    row("p50 latency (ms)", &|s| format!("{:.1}", s.p50_ms));
    row("p99 latency (ms)", &|s| format!("{:.1}", s.p99_ms));
    row("max latency (ms)", &|s| format!("{:.1}", s.max_ms));
    row("messages lost", &|s| format!("{}", s.lost));
    row("  of messages expected", &|s| format!("{}", s.expected));
    row("memory per idle terminal (KiB)", &|s| {
        format!("{:.2}", s.kib_per_terminal)
    });
    if one.p99_ms > 0.0 {
        println!(
            "{:<32}{:>24.2}",
            "p99 several / one instance",
            many.p99_ms / one.p99_ms
        );
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn percentile(values: &[Duration], q: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1);
    sorted.get(rank).copied().unwrap_or_default()
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Cores and CPU model, for the record.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}")
}
