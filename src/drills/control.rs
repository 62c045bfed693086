//! Drills started from the web page (訓練の開始・進行・中止): the scenarios this server knows,
//! and runs of them played inside the server process.
//!
//! The scenarios are the three shipped in `drills/`, compiled into the binary, and those a
//! council keeps in a folder of its own (`serve --drills DIR`), read afresh on every request
//! and checked by the same loader as `drill check`: a file with problems is listed with them
//! (`FILE:LINE: reason`) and cannot be started. A folder file named like a shipped one
//! (`flood-ward.toml`) takes its place: the council's own version of that drill.
//!
//! A run is the `drill run` command's runner, spawned as a task. It plays through this
//! server's own HTTP API over loopback with a session minted for the admin who started it,
//! so every inject goes through the same routes, roles and checks as staff's requests do and
//! lands in the run's own drill activation. The session lasts like any login and is ended
//! when the run ends; its token is never logged.
//!
//! A run lives in the instance that started it: its state is in this process's memory, not
//! in the database. With several instances behind a load balancer, each lists only the runs
//! it started, and pause, resume and stop reach a run only through that instance (what the
//! run writes is in the database and seen by every instance, as staff's writes are). On a
//! graceful shutdown every run is told to stop, and the server waits for them before it
//! closes the database.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};
use tokio_util::task::TaskTracker;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::http::HttpApi;
use super::runner::{
    self, Clock, Control, Fired, Options, RegisterMode, Report, SetupError, Summary,
};
use super::scenario::{Problems, Register, Scenario, format_offset};
use super::timeline::{self, Timeline};
use crate::app::AppState;
use crate::auth::{AdminOnly, Allowed, CurrentUser, Role, new_token, token_hash};
use crate::error::{AppError, Result};
use crate::extract::{ApiJson, ApiPath};
use crate::store::{Store, Timestamp, on_pool};

/// The scenarios shipped in `drills/`, by key (the file's stem), compiled in so that a server
/// installed as one binary offers them. A list of `include_str!` rather than a crate that
/// walks the folder at build time (`include_dir`) or a build script: three files that rarely
/// change do not need a dependency, and a test checks that this list and the folder agree.
const SHIPPED: &[(&str, &str)] = &[
    (
        "centre-setup",
        include_str!("../../drills/centre-setup.toml"),
    ),
    (
        "earthquake-welfare-shelters",
        include_str!("../../drills/earthquake-welfare-shelters.toml"),
    ),
    ("flood-ward", include_str!("../../drills/flood-ward.toml")),
];

/// The last log lines a run keeps: enough to follow it on a screen.
const LOG_LINES: usize = 50;
/// Runs that are over stay listed (their outcome, their activation) up to this many.
const RUNS_KEPT: usize = 20;
/// How long shutdown waits for stopped runs to end their current call.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scenarios))
        .routes(routes!(list_runs, start))
        .routes(routes!(show_run))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(stop))
}

/// One scenario the server knows, checked or not.
struct Entry {
    key: String,
    /// `shipped` or `folder`.
    source: &'static str,
    scenario: std::result::Result<Scenario, Problems>,
}

/// Every scenario, by key: the shipped ones, then the folder's (which replace shipped ones
/// of the same name). Reads files: call it off the async threads.
fn catalogue(folder: Option<&Path>) -> BTreeMap<String, Entry> {
    let mut entries: BTreeMap<String, Entry> = SHIPPED
        .iter()
        .map(|(key, text)| {
            let file = format!("drills/{key}.toml");
            // Shipped scenarios bring no register file (a test checks it), so the folder
            // register files would be read from does not matter.
            let scenario = Scenario::parse(text, &file, Path::new("drills"));
            let entry = Entry {
                key: key.to_string(),
                source: "shipped",
                scenario,
            };
            (key.to_string(), entry)
        })
        .collect();
    let Some(folder) = folder else {
        return entries;
    };
    let files = match std::fs::read_dir(folder) {
        Ok(files) => files,
        Err(error) => {
            // Checked at start (`serve --drills`); gone since: the shipped ones still serve.
            tracing::warn!(folder = %folder.display(), %error, "cannot read the drills folder");
            return entries;
        }
    };
    for path in files.filter_map(|f| f.ok().map(|f| f.path())) {
        if path.extension().is_none_or(|x| x != "toml") || !path.is_file() {
            continue;
        }
        let Some(key) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let entry = Entry {
            key: key.to_string(),
            source: "folder",
            scenario: Scenario::load(&path),
        };
        entries.insert(key.to_string(), entry);
    }
    entries
}

/// A drill scenario as the page lists it. A scenario with problems has no duration and no
/// injects, and cannot be started.
#[derive(Serialize, ToSchema)]
#[schema(as = DrillScenario)]
struct Listing {
    /// The scenario's key, by which a run is started: its file name without `.toml`.
    key: String,
    /// `shipped` (one of the scenarios that come with the server) or `folder` (the
    /// council's own, from `serve --drills DIR`).
    #[schema(value_type = String)]
    source: &'static str,
    /// The scenario's name (its key when it has problems).
    name: String,
    description: String,
    /// How long the drill lasts in drill time, in seconds.
    duration_seconds: Option<u64>,
    /// The same, as written in scenarios (`2h30m`).
    duration: Option<String>,
    /// How many injects of each kind (`need`, `volunteers`, `safety`, `shelter_open`,
    /// `shelter_close`, `shelter_full`, `announcement`, `register_import`).
    #[schema(value_type = BTreeMap<String, usize>)]
    injects: BTreeMap<&'static str, usize>,
    /// How many (fictitious) people the scenario's register has; null when it brings none.
    register_people: Option<usize>,
    /// How many shelters the scenario sets up.
    shelters: usize,
    /// What is wrong with the file (`FILE:LINE: reason`); empty for a scenario that can be
    /// started.
    problems: Vec<String>,
}

impl Entry {
    fn listing(&self) -> Listing {
        match &self.scenario {
            Ok(s) => {
                let mut injects: BTreeMap<&'static str, usize> = BTreeMap::new();
                for inject in &s.injects {
                    *injects.entry(inject.what.kind()).or_default() += 1;
                }
                let register_people = match &s.register {
                    None => None,
                    Some(Register::File { people, .. }) => Some(people.len()),
                    Some(Register::Generated { count, .. }) => Some(*count),
                };
                Listing {
                    key: self.key.clone(),
                    source: self.source,
                    name: s.name.clone(),
                    description: s.description.clone(),
                    duration_seconds: Some(s.duration.as_secs()),
                    duration: Some(format_offset(s.duration)),
                    injects,
                    register_people,
                    shelters: s.shelters.len(),
                    problems: Vec::new(),
                }
            }
            Err(problems) => Listing {
                key: self.key.clone(),
                source: self.source,
                name: self.key.clone(),
                description: String::new(),
                duration_seconds: None,
                duration: None,
                injects: BTreeMap::new(),
                register_people: None,
                shelters: 0,
                problems: problems.0.iter().map(ToString::to_string).collect(),
            },
        }
    }
}

/// The drill scenarios this server offers. Admins only.
///
/// The shipped ones and the council's own (`serve --drills DIR`, read afresh on every
/// request), those that can be started first. A file with problems is listed with them.
#[utoipa::path(
    get,
    path = "/api/drills/scenarios",
    tag = "drills",
    responses((status = 200, description = "The scenarios, by key; those with problems last.", body = Vec<Listing>))
)]
async fn list_scenarios(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Listing>>> {
    user.require(&[Role::Admin])?;
    let folder = state.settings.drills_dir.clone();
    let entries = tokio::task::spawn_blocking(move || catalogue(folder.as_deref()))
        .await
        .map_err(|e| anyhow::anyhow!("reading the scenarios failed: {e}"))?;
    // Those that can be started first, by key; the broken ones after them.
    let mut entries: Vec<&Entry> = entries.values().collect();
    entries.sort_by_key(|e| (e.scenario.is_err(), e.key.clone()));
    Ok(Json(entries.into_iter().map(Entry::listing).collect()))
}

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = DrillRunState)]
#[serde(rename_all = "snake_case")]
enum RunState {
    /// Setting up or playing.
    Running,
    /// Drill time stands still; nothing is sent.
    Paused,
    Finished,
    /// Setting up failed: the register guard refused, or a call the drill needs failed.
    Failed,
    Stopped,
}

impl RunState {
    fn is_over(self) -> bool {
        matches!(
            self,
            RunState::Finished | RunState::Failed | RunState::Stopped
        )
    }
}

/// A drill run as the page shows it: where it is, how far it got, its last log lines.
#[derive(Serialize, ToSchema)]
#[schema(as = DrillRun)]
struct RunView {
    /// The run's number in this server process (runs are not kept across restarts).
    id: u64,
    /// The scenario's key.
    scenario: String,
    /// The scenario's name.
    name: String,
    state: RunState,
    /// The run's own drill activation; null until it is set up.
    activation_id: Option<i64>,
    /// Drill time per real time (2 plays an hour's drill in 30 minutes).
    speed: f64,
    /// Calls made so far, of `total`.
    done: usize,
    total: usize,
    /// Calls that failed (the log says why).
    failed: usize,
    /// Drill time so far, in seconds.
    drill_seconds: u64,
    /// The same, as written in scenarios (`1h5m`).
    drill_time: String,
    duration_seconds: u64,
    duration: String,
    /// The admin who started it.
    started_by: String,
    started_at: Timestamp,
    /// Why setting up failed, for a `failed` run.
    error: Option<String>,
    /// The last 50 log lines, oldest first.
    log: Vec<String>,
}

/// One run of a scenario in this process.
struct Run {
    id: u64,
    scenario_key: String,
    scenario_name: String,
    duration: Duration,
    speed: f64,
    /// The admin who started it (a staff account name, not a resident's).
    started_by: String,
    started_at: Timestamp,
    /// What the page asks of the runner; the runner holds the receiving end.
    control: watch::Sender<Control>,
    /// Written by the runner's reports, read by the routes; never held across an await.
    progress: Mutex<Progress>,
}

struct Progress {
    state: RunState,
    activation_id: Option<i64>,
    total: usize,
    done: usize,
    failed: usize,
    /// The runner's clock once it has started: drill time as it runs.
    clock: Option<Arc<Clock>>,
    /// Drill time when the run ended.
    final_drill_time: Option<Duration>,
    error: Option<String>,
    log: VecDeque<String>,
    /// Told once the drill activation exists and the clock has started, or why setting up
    /// failed: the start request answers with it.
    ready: Option<oneshot::Sender<std::result::Result<i64, SetupError>>>,
}

impl Run {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        // Plain counters and lines: a panic elsewhere leaves them usable.
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn state(&self) -> RunState {
        self.lock().state
    }

    fn view(&self) -> RunView {
        let p = self.lock();
        let drill_time = p
            .final_drill_time
            .or_else(|| p.clock.as_ref().map(|c| c.drill_time()))
            .unwrap_or_default()
            .min(self.duration);
        RunView {
            id: self.id,
            scenario: self.scenario_key.clone(),
            name: self.scenario_name.clone(),
            state: p.state,
            activation_id: p.activation_id,
            speed: self.speed,
            done: p.done,
            total: p.total,
            failed: p.failed,
            drill_seconds: drill_time.as_secs(),
            drill_time: format_offset(Duration::from_secs(drill_time.as_secs())),
            duration_seconds: self.duration.as_secs(),
            duration: format_offset(self.duration),
            started_by: self.started_by.clone(),
            started_at: self.started_at,
            error: p.error.clone(),
            log: p.log.iter().cloned().collect(),
        }
    }

    /// Records how the runner ended.
    fn finish(&self, result: std::result::Result<Summary, SetupError>) {
        let mut p = self.lock();
        match result {
            Ok(summary) => {
                p.state = if summary.stopped {
                    RunState::Stopped
                } else {
                    RunState::Finished
                };
                p.final_drill_time = Some(summary.drill_time);
                let line = format!(
                    "{}: {} ok, {} failed{}",
                    if summary.stopped {
                        "中止 / stopped"
                    } else {
                        "終了 / finished"
                    },
                    summary.succeeded(),
                    summary.failed(),
                    if summary.not_played > 0 {
                        format!(", {} not played", summary.not_played)
                    } else {
                        String::new()
                    }
                );
                push_line(&mut p.log, line);
                // A runner that ends without starting cannot happen; tell the waiter anyway.
                p.ready.take();
            }
            Err(error) => {
                p.state = RunState::Failed;
                let text = error.to_string();
                push_line(&mut p.log, format!("失敗 / failed: {text}"));
                p.error = Some(text);
                if let Some(ready) = p.ready.take() {
                    let _ = ready.send(Err(error));
                }
            }
        }
        p.final_drill_time.get_or_insert_default();
    }
}

fn push_line(log: &mut VecDeque<String>, line: String) {
    if log.len() == LOG_LINES {
        log.pop_front();
    }
    log.push_back(line);
}

/// The runner's report lines are what the terminal prints for `drill run`: kinds, districts,
/// numbers and resident ids of the drill's register, never a name.
impl Report for Run {
    fn setup(&self, message: &str) {
        push_line(&mut self.lock().log, message.to_string());
    }

    fn started(&self, activation_id: i64, clock: &Arc<Clock>, steps: usize) {
        let mut p = self.lock();
        p.activation_id = Some(activation_id);
        p.clock = Some(clock.clone());
        p.total = steps;
        push_line(&mut p.log, format!("開始 / started: {steps} calls to make"));
        if let Some(ready) = p.ready.take() {
            let _ = ready.send(Ok(activation_id));
        }
    }

    fn fired(&self, fired: &Fired, done: usize, of: usize) {
        let mut p = self.lock();
        p.done = done;
        if fired.outcome.is_err() {
            p.failed += 1;
        }
        push_line(
            &mut p.log,
            format!("{done}/{of} {}", runner::log_line(fired)),
        );
    }

    fn paused(&self, paused: bool) {
        let mut p = self.lock();
        if p.state.is_over() {
            return;
        }
        p.state = if paused {
            RunState::Paused
        } else {
            RunState::Running
        };
        push_line(
            &mut p.log,
            if paused {
                "一時停止 / paused".to_string()
            } else {
                "再開 / resumed".to_string()
            },
        );
    }
}

/// The runs of this instance, held in [`AppState`]. Cheap to clone.
#[derive(Clone)]
pub struct Runs {
    inner: Arc<Inner>,
}

struct Inner {
    /// This server's own address, set once by `app::run` when it has the bound listener:
    /// runs call the server there.
    address: OnceLock<SocketAddr>,
    next_id: AtomicU64,
    /// By id; the routes read it, starts and the trimming of old runs write it.
    runs: Mutex<BTreeMap<u64, Arc<Run>>>,
    /// The runs' tasks, so shutdown can wait for them to end.
    tasks: TaskTracker,
}

impl Default for Runs {
    fn default() -> Runs {
        Runs::new()
    }
}

impl Runs {
    pub fn new() -> Runs {
        Runs {
            inner: Arc::new(Inner {
                address: OnceLock::new(),
                next_id: AtomicU64::new(1),
                runs: Mutex::new(BTreeMap::new()),
                tasks: TaskTracker::new(),
            }),
        }
    }

    /// Tells the runs where this server listens. A listener on every address (`0.0.0.0`,
    /// `::`) is called on loopback.
    pub fn serve_at(&self, address: SocketAddr) {
        let ip = match address.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let _ = self.inner.address.set(SocketAddr::new(ip, address.port()));
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<Run>>> {
        self.inner.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, id: u64) -> Option<Arc<Run>> {
        self.lock().get(&id).cloned()
    }

    fn all(&self) -> Vec<Arc<Run>> {
        self.lock().values().rev().cloned().collect()
    }

    fn insert(&self, run: Arc<Run>) {
        let mut runs = self.lock();
        runs.insert(run.id, run);
        let over: Vec<u64> = runs
            .values()
            .filter(|r| r.state().is_over())
            .map(|r| r.id)
            .collect();
        for id in over.iter().take(over.len().saturating_sub(RUNS_KEPT)) {
            runs.remove(id);
        }
    }

    /// Tells every run to stop (the server is shutting down). Runs end at their next wait,
    /// after the call in flight.
    pub fn stop_all(&self) {
        for run in self.lock().values() {
            run.control.send_replace(Control::Stop);
        }
    }

    /// Waits (a while) for every run to have ended and closed its session.
    pub async fn wait(&self) {
        self.inner.tasks.close();
        if tokio::time::timeout(SHUTDOWN_WAIT, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some drill runs did not end within 10 s");
        }
    }
}

/// A drill run to start.
#[derive(Deserialize, ToSchema)]
#[schema(as = NewDrillRun)]
#[serde(deny_unknown_fields)]
struct StartRun {
    /// The scenario's key, as the scenario list gives it.
    scenario: String,
    /// Drill time per real time: 1 (the default) plays in real time, 60 plays an hour's
    /// drill in a minute. More than 0, at most 100,000.
    #[serde(default = "one")]
    #[schema(default = 1.0, exclusive_minimum = 0.0, maximum = 100_000.0)]
    speed: f64,
    /// What to do with the scenario's register, which the server's register (shared by
    /// every activation, real ones included) would receive: `import` (the default: refused
    /// with 409 `register_would_change` if it would change anyone), `keep` (play against the
    /// register as it is) or `replace` (only on a training server), as `drill run`'s
    /// `--keep-register` and `--replace-register`.
    #[serde(default)]
    register: Option<String>,
}

fn one() -> f64 {
    1.0
}

impl StartRun {
    fn options(&self) -> Result<Options> {
        if !(self.speed.is_finite() && self.speed > 0.0 && self.speed <= 100_000.0) {
            return Err(AppError::invalid(
                "speed",
                "speed is drill time per real time: more than 0 and at most 100000",
            ));
        }
        let register = match self.register.as_deref() {
            None | Some("import") => RegisterMode::Import,
            Some("keep") => RegisterMode::Keep,
            Some("replace") => RegisterMode::Replace,
            Some(_) => {
                return Err(AppError::invalid(
                    "register",
                    "register is \"import\", \"keep\" or \"replace\"",
                ));
            }
        };
        Ok(Options {
            speed: self.speed,
            register,
            wait_for_end: true,
        })
    }
}

/// A new session for `user_id`, as a login makes one: the run's calls are that admin's.
async fn mint_session(state: &AppState, user_id: i64) -> Result<String> {
    let token = new_token();
    let now = Timestamp::now();
    let ttl = state.settings.session_ttl.as_secs() as i64;
    on_pool!(&state.store, pool => {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(user_id)
            .bind(now)
            .bind(now.plus_seconds(ttl))
            .execute(pool)
            .await?;
    });
    Ok(token)
}

async fn end_session(store: &Store, token: &str) {
    let hash = token_hash(token);
    let result: Result<()> = async {
        on_pool!(store, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&hash).execute(pool).await?;
        });
        Ok(())
    }
    .await;
    if let Err(error) = result {
        // It expires on its own anyway.
        tracing::warn!(%error, "could not end a drill run's session");
    }
}

/// Finds the scenario and unrolls its timeline (generating its people): off the async
/// threads.
fn prepare(
    key: String,
    folder: Option<std::path::PathBuf>,
) -> Result<(Scenario, Timeline, &'static str)> {
    let mut entries = catalogue(folder.as_deref());
    let Some(entry) = entries.remove(&key) else {
        return Err(AppError::NotFound("drill scenario"));
    };
    let scenario = entry.scenario.map_err(|problems| {
        AppError::invalid(
            "scenario",
            format!("the scenario has problems and cannot be started:\n{problems}"),
        )
    })?;
    let timeline = timeline::build(&scenario);
    Ok((scenario, timeline, entry.source))
}

/// What starting a run answers.
#[derive(Serialize, ToSchema)]
#[schema(as = StartedDrillRun)]
struct Started {
    /// The run's number, for pause, resume and stop.
    id: u64,
    /// The run's own drill activation.
    activation_id: i64,
    run: RunView,
}

/// Starts a drill run (訓練の開始). Admins only.
///
/// A new drill activation is opened and the scenario's injects are played into it, through
/// this API, as the admin who started it. Answers once the drill activation exists and its
/// clock runs. A scenario with problems answers 400; a register that the run would change answers 409
/// `register_would_change` (see `register`); a setup call that fails answers 409
/// `drill_setup_failed`. The run lives in the server process that started it.
#[utoipa::path(
    post,
    path = "/api/drills/runs",
    tag = "drills",
    request_body = StartRun,
    responses((status = 202, description = "Started: the run plays on in the background.", body = Started))
)]
async fn start(
    State(state): State<AppState>,
    Allowed { user, .. }: Allowed<AdminOnly>,
    ApiJson(body): ApiJson<StartRun>,
) -> Result<(StatusCode, Json<Started>)> {
    let options = body.options()?;
    let folder = state.settings.drills_dir.clone();
    let key = body.scenario.clone();
    let (scenario, timeline, source) = tokio::task::spawn_blocking(move || prepare(key, folder))
        .await
        .map_err(|e| anyhow::anyhow!("reading the scenario failed: {e}"))??;
    if state.shutdown.is_cancelled() {
        return Err(AppError::Unavailable);
    }
    let runs = state.drill_runs.clone();
    let address = *runs.inner.address.get().ok_or_else(|| {
        anyhow::anyhow!("the server's own address is unknown: it was not started by app::run")
    })?;
    let token = mint_session(&state, user.id).await?;
    let api = HttpApi::with_token(&format!("http://{address}"), token.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let (control, receiver) = watch::channel(Control::Run);
    let (ready, answer) = oneshot::channel();
    let run = Arc::new(Run {
        id: runs.inner.next_id.fetch_add(1, Ordering::Relaxed),
        scenario_key: body.scenario.clone(),
        scenario_name: scenario.name.clone(),
        duration: scenario.duration,
        speed: options.speed,
        started_by: user.username.clone(),
        started_at: Timestamp::now(),
        control,
        progress: Mutex::new(Progress {
            state: RunState::Running,
            activation_id: None,
            total: timeline.steps.len(),
            done: 0,
            failed: 0,
            clock: None,
            final_drill_time: None,
            error: None,
            log: VecDeque::new(),
            ready: Some(ready),
        }),
    });
    runs.insert(run.clone());
    // Shutdown cancels the token, then stops every listed run: a run listed after that
    // stops itself.
    if state.shutdown.is_cancelled() {
        run.control.send_replace(Control::Stop);
    }
    tracing::info!(
        run = run.id,
        scenario = %body.scenario,
        source,
        speed = options.speed,
        "drill run started from the web page"
    );
    let store = state.store.clone();
    let task_run = run.clone();
    runs.inner.tasks.spawn(async move {
        let run = task_run;
        let result = runner::run(&api, &scenario, &timeline, &options, receiver, &*run).await;
        run.finish(result);
        end_session(&store, &token).await;
        tracing::info!(run = run.id, state = ?run.state(), "drill run ended");
    });

    match answer.await {
        Ok(Ok(activation_id)) => Ok((
            StatusCode::ACCEPTED,
            Json(Started {
                id: run.id,
                activation_id,
                run: run.view(),
            }),
        )),
        Ok(Err(SetupError::RegisterWouldChange { updated, removed })) => Err(AppError::conflict(
            "register_would_change",
            format!(
                "this scenario's register would update {updated} and mark {removed} people removed in the server's register, \
                 which every activation shares, real ones included. Start it with register \"keep\" to play against the \
                 register as it is, or \"replace\" on a training server whose register may be replaced"
            ),
        )),
        Ok(Err(error @ SetupError::Call { .. })) => Err(AppError::conflict(
            "drill_setup_failed",
            format!("the drill could not be set up: {error}"),
        )),
        Err(_) => Err(AppError::conflict(
            "drill_setup_failed",
            format!("run {} ended before its drill started", run.id),
        )),
    }
}

/// The drill runs of this server process. Admins only.
///
/// Newest first: those running and the last 20 that ended.
#[utoipa::path(
    get,
    path = "/api/drills/runs",
    tag = "drills",
    responses((status = 200, description = "The runs, newest first.", body = Vec<RunView>))
)]
async fn list_runs(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<RunView>>> {
    user.require(&[Role::Admin])?;
    let runs = state.drill_runs.all();
    Ok(Json(runs.iter().map(|r| r.view()).collect()))
}

fn find_run(state: &AppState, user: &CurrentUser, id: u64) -> Result<Arc<Run>> {
    user.require(&[Role::Admin])?;
    state
        .drill_runs
        .get(id)
        .ok_or(AppError::NotFound("drill run"))
}

/// One drill run. Admins only.
///
/// Its state, progress and last log lines.
#[utoipa::path(
    get,
    path = "/api/drills/runs/{id}",
    tag = "drills",
    params(("id" = u64, Path, description = "The run.")),
    responses((status = 200, description = "The run.", body = RunView))
)]
async fn show_run(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<RunView>> {
    Ok(Json(find_run(&state, &user, id)?.view()))
}

fn tell(state: &AppState, user: &CurrentUser, id: u64, wanted: Control) -> Result<Json<RunView>> {
    let run = find_run(state, user, id)?;
    let now = run.state();
    if now.is_over() {
        return Err(AppError::conflict(
            "drill_run_over",
            format!(
                "run {id} is {} already",
                serde_json::to_value(now)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ),
        ));
    }
    run.control.send_replace(wanted);
    Ok(Json(run.view()))
}

/// Pauses a drill run. Admins only.
///
/// Drill time stands still and nothing is sent until it is resumed. A run that has ended
/// answers 409 `drill_run_over`.
#[utoipa::path(
    post,
    path = "/api/drills/runs/{id}/pause",
    tag = "drills",
    params(("id" = u64, Path, description = "The run.")),
    responses((status = 200, description = "The run, asked to pause (its state changes at its next wait).", body = RunView))
)]
async fn pause(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<RunView>> {
    tell(&state, &user, id, Control::Pause)
}

/// Resumes a paused drill run. Admins only.
///
/// A run that has ended answers 409 `drill_run_over`.
#[utoipa::path(
    post,
    path = "/api/drills/runs/{id}/resume",
    tag = "drills",
    params(("id" = u64, Path, description = "The run.")),
    responses((status = 200, description = "The run, asked to resume.", body = RunView))
)]
async fn resume(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<RunView>> {
    tell(&state, &user, id, Control::Run)
}

/// Stops a drill run (訓練の中止). Admins only.
///
/// For good, after the call in flight; what it made stays in its drill activation. A run
/// that has ended answers 409 `drill_run_over`.
#[utoipa::path(
    post,
    path = "/api/drills/runs/{id}/stop",
    tag = "drills",
    params(("id" = u64, Path, description = "The run.")),
    responses((status = 200, description = "The run, asked to stop (its state becomes `stopped` when it has).", body = RunView))
)]
async fn stop(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<RunView>> {
    tell(&state, &user, id, Control::Stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled-in list is the folder: a scenario added to `drills/` and forgotten here
    /// (or removed there) fails this test. Each parses, and brings no register file, which
    /// a binary installed elsewhere could not read.
    #[test]
    fn the_shipped_list_is_the_drills_folder() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("drills");
        let mut stems: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
            .collect();
        stems.sort();
        let listed: Vec<&str> = SHIPPED.iter().map(|(k, _)| *k).collect();
        assert_eq!(stems, listed);
        for entry in catalogue(None).values() {
            let scenario = entry.scenario.as_ref().unwrap_or_else(|p| panic!("{p}"));
            assert!(
                !matches!(scenario.register, Some(Register::File { .. })),
                "{} reads a register file",
                entry.key
            );
        }
    }

    /// A folder file with problems is listed with them, not dropped; a folder file named
    /// like a shipped one replaces it.
    #[test]
    fn a_councils_folder_adds_and_replaces_scenarios() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("broken.toml"),
            "name = \"壊れた\"\nduration = \"1h\"\n\n[[injects]]\nat = \"2h\"\nkind = \"announcement\"\ntext = \"遅い\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("flood-ward.toml"),
            "name = \"当会の浸水訓練\"\nduration = \"1h\"\n\n[[injects]]\nat = \"0s\"\nkind = \"announcement\"\ntext = \"開始\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a scenario").unwrap();
        let entries = catalogue(Some(dir.path()));
        assert_eq!(entries.len(), SHIPPED.len() + 1);
        let broken = serde_json::to_value(entries["broken"].listing()).unwrap();
        let problem = broken["problems"][0].as_str().unwrap();
        assert!(
            problem.contains("broken.toml:4: at = 2h is after the end of the drill"),
            "{problem}"
        );
        let flood = serde_json::to_value(entries["flood-ward"].listing()).unwrap();
        assert_eq!(flood["name"], "当会の浸水訓練");
        assert_eq!(flood["source"], "folder");
        assert_eq!(flood["injects"]["announcement"], 1);
    }
}
