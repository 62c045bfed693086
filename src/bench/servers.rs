//! The servers under test, each run as a child process on a free loopback port: saigai-vc
//! itself (`serve` on a fresh SQLite database in a temporary folder) and the Node reference
//! (`bench/node-ref/server.js`).
//!
//! A child process, not a task in the bench's runtime, so that the server's memory can be read
//! from `/proc` apart from the load generator's, and so the two never share worker threads.
//! Children are killed when their [`Server`] is dropped, also when the bench fails half-way.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use super::http;

/// The bench's own account; any password of eight characters or more will do.
const USER: &str = "bench";
const PASSWORD: &str = "bench-password-not-secret";

/// How long a server may take to answer `/healthz` after it was started.
const START_PATIENCE: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One saigai-vc on SQLite.
    SaigaiVc,
    Node,
    /// This many saigai-vc instances on one PostgreSQL database, terminals spread over them.
    Cluster(usize),
    /// One saigai-vc on SQLite with this many more terminals that connect and never read.
    Stuck(usize),
}

impl Kind {
    pub fn label(self) -> String {
        match self {
            Kind::SaigaiVc => "saigai-vc".into(),
            Kind::Node => "node ws".into(),
            Kind::Cluster(1) => "pg 1 inst".into(),
            Kind::Cluster(n) => format!("pg {n} inst"),
            Kind::Stuck(n) => format!("+{n} stuck"),
        }
    }
}

/// A fresh PostgreSQL database for one run, on the server of an admin URL; dropped with
/// [`BenchDatabase::drop_now`].
pub struct BenchDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl BenchDatabase {
    pub async fn create(admin_url: &str) -> anyhow::Result<BenchDatabase> {
        let name = format!("saigai_bench_{:016x}", rand::random::<u64>());
        let pool = sqlx::PgPool::connect(admin_url)
            .await
            .with_context(|| "cannot connect to --postgres".to_string())?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&pool)
            .await?;
        pool.close().await;
        let mut url = url::Url::parse(admin_url).context("--postgres is not a URL")?;
        url.set_path(&name);
        Ok(BenchDatabase {
            admin_url: admin_url.to_string(),
            name,
            url: url.to_string(),
        })
    }

    pub async fn drop_now(self) -> anyhow::Result<()> {
        let pool = sqlx::PgPool::connect(&self.admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        )))
        .execute(&pool)
        .await?;
        pool.close().await;
        Ok(())
    }
}

/// A running server under test and what a terminal needs to reach its board.
pub struct Server {
    child: Child,
    pid: u32,
    pub address: SocketAddr,
    /// Path and query of the board websocket.
    pub board_path: String,
    /// Where announcements are posted.
    pub post_path: String,
    pub token: Option<String>,
    /// The open drill activation made for the run (saigai-vc only).
    pub activation_id: i64,
    dir: TempDir,
}

impl Server {
    /// Starts `binary serve` on a fresh SQLite database (`postgres: None`) or on the given
    /// fresh PostgreSQL database, `instances` times on one database, with a user of its own and
    /// one open drill activation for the terminals to watch.
    pub async fn start_saigai(
        binary: &Path,
        postgres: Option<&str>,
        instances: usize,
    ) -> anyhow::Result<Vec<Server>> {
        let mut dirs = (0..instances.max(1))
            .map(|_| TempDir::new())
            .collect::<anyhow::Result<Vec<_>>>()?;
        let database = match postgres {
            Some(url) => url.to_string(),
            None => format!("sqlite://{}", dirs[0].path.join("bench.db").display()),
        };
        // The user is made by the CLI, as an operator would: deterministic, and it leaves the
        // first-start admin password out of the picture.
        let mut add = Command::new(binary)
            .args(["user", "add", USER, "--role", "admin", "--password-stdin"])
            .args(["--database", &database])
            .env("SAIGAI_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", binary.display()))?;
        let mut stdin = add.stdin.take().context("no stdin")?;
        stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await?;
        drop(stdin);
        let status = add.wait().await?;
        ensure!(status.success(), "`saigai-vc user add` failed: {status}");

        let mut servers = Vec::new();
        for dir in dirs.drain(..) {
            let address = free_port()?;
            let log = std::fs::File::create(dir.path.join("server.log"))?;
            let child = Command::new(binary)
                .args([
                    "serve",
                    "--listen",
                    &address.to_string(),
                    "--database",
                    &database,
                ])
                .env("SAIGAI_LOG", server_log_filter())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("cannot run {} serve", binary.display()))?;
            let mut server = Server::new(child, address, dir)?;
            server.wait_ready().await?;
            servers.push(server);
        }

        let address = servers[0].address;
        let login = http::post_json(
            address,
            "/api/login",
            None,
            &json!({ "username": USER, "password": PASSWORD }),
        )
        .await?;
        ensure!(
            login.status == 200,
            "login: {} {}",
            login.status,
            login.body
        );
        let token = json_field(&login.body, "token")?
            .as_str()
            .context("token is not a string")?
            .to_string();
        let opened = http::post_json(
            address,
            "/api/activations",
            Some(&token),
            &json!({ "name": "bench", "kind": "drill" }),
        )
        .await?;
        ensure!(
            opened.status == 201,
            "open activation: {} {}",
            opened.status,
            opened.body
        );
        let id = json_field(&opened.body, "id")?
            .as_i64()
            .context("id is not a number")?;
        for server in &mut servers {
            server.board_path = format!("/ws/board?activation={id}");
            server.post_path = format!("/api/activations/{id}/announcements");
            server.token = Some(token.clone());
            server.activation_id = id;
        }
        Ok(servers)
    }

    /// Starts the Node reference from `dir` (installing its one package first if needed).
    pub async fn start_node(dir: &Path) -> anyhow::Result<Server> {
        let script = dir.join("server.js");
        ensure!(
            script.is_file(),
            "no Node reference at {}",
            script.display()
        );
        if !dir.join("node_modules/ws").is_dir() {
            eprintln!(
                "installing the Node reference's packages (npm ci) in {}",
                dir.display()
            );
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(dir)
                .stdout(Stdio::null())
                .status()
                .await
                .context("cannot run npm: is Node.js installed? (or pass --skip-node)")?;
            ensure!(
                status.success(),
                "npm ci failed in {}: {status}",
                dir.display()
            );
        }
        let temp = TempDir::new()?;
        let address = free_port()?;
        let log = std::fs::File::create(temp.path.join("server.log"))?;
        let child = Command::new("node")
            .arg(&script)
            .arg(address.port().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("cannot run node: is Node.js installed? (or pass --skip-node)")?;
        let mut server = Server::new(child, address, temp)?;
        server.board_path = "/ws/board?activation=1".into();
        server.post_path = "/api/activations/1/announcements".into();
        server.wait_ready().await?;
        Ok(server)
    }

    fn new(child: Child, address: SocketAddr, dir: TempDir) -> anyhow::Result<Server> {
        let pid = child.id().context("the server exited at once")?;
        Ok(Server {
            child,
            pid,
            address,
            board_path: String::new(),
            post_path: String::new(),
            token: None,
            activation_id: 0,
            dir,
        })
    }

    /// Polls `/healthz` until it answers 200, the child exits, or START_PATIENCE runs out.
    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited before answering: {status}{}",
                    self.log_tail()
                );
            }
            if let Ok(response) = http::get(self.address, "/healthz").await
                && response.status == 200
            {
                return Ok(());
            }
            if started.elapsed() > START_PATIENCE {
                bail!(
                    "the server did not answer /healthz within {START_PATIENCE:?}{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Where the server keeps its files (its SQLite database, its log): the disk measured.
    pub fn dir(&self) -> &Path {
        &self.dir.path
    }

    /// The server's resident memory (VmRSS), in bytes.
    pub fn rss(&self) -> anyhow::Result<u64> {
        let path = format!("/proc/{}/status", self.pid);
        let status =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no VmRSS in {path}"))?;
        Ok(kib * 1024)
    }

    /// CPU time the server has used so far, all threads, user and system.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.pid))
    }

    /// Kills the server and returns what it wrote to stderr, if anything.
    pub async fn stop(mut self) -> String {
        let _ = self.child.kill().await;
        self.log_tail()
    }

    /// The last lines of the server's stderr, introduced by a newline, or nothing.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        if lines.is_empty() {
            return String::new();
        }
        let tail = &lines[lines.len().saturating_sub(10)..];
        format!(
            "\n  server stderr ({} lines, last {}):\n    {}",
            lines.len(),
            tail.len(),
            tail.join("\n    ")
        )
    }
}

/// CPU time this process (the bench, with its terminals) has used so far.
pub fn own_cpu_time() -> anyhow::Result<Duration> {
    cpu_time("/proc/self/stat")
}

/// CPU time the whole machine has used so far (every core, from `/proc/stat`), split in two:
/// time in processes, and time in interrupts and softirqs. The second is mostly loopback TCP:
/// the kernel delivers each segment in softirq context and charges it to no process. What the
/// first has beyond the server and the bench belongs to someone else (a compiler, say).
pub fn machine_cpu_time() -> anyhow::Result<MachineCpu> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .context("no cpu line in /proc/stat")?
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    ensure!(ticks.len() >= 8, "short cpu line in /proc/stat");
    // user nice system idle iowait irq softirq steal
    let processes = ticks[0] + ticks[1] + ticks[2];
    let interrupts = ticks[5] + ticks[6];
    Ok(MachineCpu {
        processes: Duration::from_millis(processes * 10),
        interrupts: Duration::from_millis(interrupts * 10),
    })
}

#[derive(Clone, Copy)]
pub struct MachineCpu {
    pub processes: Duration,
    pub interrupts: Duration,
}

/// utime + stime of a `/proc/PID/stat`, in clock ticks of 1/100 s: USER_HZ is 100 on every
/// Linux the bench runs on, and reading it properly would need libc for one sysconf.
fn cpu_time(path: &str) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    // The command name may hold spaces and parentheses: count fields after its last ')'.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (tick(11), tick(12)) {
        (Some(user), Some(system)) => Ok(Duration::from_millis((user + system) * 10)),
        _ => bail!("no utime/stime in {path}"),
    }
}

fn json_field(body: &str, field: &str) -> anyhow::Result<serde_json::Value> {
    let value: serde_json::Value =
        serde_json::from_str(body).with_context(|| format!("not JSON: {body}"))?;
    value
        .get(field)
        .cloned()
        .with_context(|| format!("no {field:?} in {body}"))
}

/// A port nobody listens on right now. The listener is dropped before the child binds it,
/// so another process could take it in between; on a bench machine that does not happen.
fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// A folder of the bench's own under the system temp dir, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        // Unique within this process by the counter, across processes by the pid.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("saigai-bench-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The log filter of the servers a bench starts: `warn`, or `SAIGAI_BENCH_SERVER_LOG` to look
/// inside a run (`warn,sqlx::query=debug` logs every statement with its time; the log is the
/// `server.log` beside the bench's database, kept only while the run lasts).
fn server_log_filter() -> String {
    std::env::var("SAIGAI_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".to_string())
}
