//! Plays a scenario against a running centre through its HTTP API, as staff would see it on
//! the real screens: it declares a drill activation, makes the shelters the scenario needs,
//! imports its register, then makes each call of the timeline at its time, scaled by the
//! speed, with pause, resume and stop.
//!
//! The runner speaks to the server through the [`Api`] trait, so tests play it against a
//! fake under `tokio::time::pause()` and check when each call was made. Time comes from a
//! [`Clock`] that maps drill time to tokio's clock: a pause holds drill time still, and
//! every call waits for its own deadline rather than for a gap after the previous call, so
//! a slow answer delays one call and never the ones after it.
//!
//! A call that fails is logged and the drill goes on: a drill must not stop because the
//! server refused one need. Setting up (declaring the activation, the shelters, the first
//! register) is different: without it there is no drill, so a failure there ends the run.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::generate::Rng;
use super::scenario::{SafetyTarget, Scenario, format_offset};
use super::timeline::{Action, RegisterUpload, Step, Timeline};

/// A failed call: the HTTP status when there was an answer, and what went wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}{message}", status.map(|s| format!("{s}: ")).unwrap_or_default())]
pub struct ApiError {
    pub status: Option<u16>,
    pub message: String,
}

impl ApiError {
    pub fn new(message: impl Into<String>) -> ApiError {
        ApiError {
            status: None,
            message: message.into(),
        }
    }
}

/// The few requests the runner makes, as an admin session. Paths start with `/api/`.
pub trait Api: Send + Sync {
    fn get(&self, path: &str) -> impl Future<Output = Result<Value, ApiError>> + Send;
    fn post(&self, path: &str, body: Value)
    -> impl Future<Output = Result<Value, ApiError>> + Send;
    /// Posts a CSV file as the body (`text/csv`).
    fn post_csv(
        &self,
        path: &str,
        csv: Bytes,
    ) -> impl Future<Output = Result<Value, ApiError>> + Send;
}

/// What the operator asks of a running drill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Run,
    Pause,
    Stop,
}

/// Drill time on tokio's clock: `speed` drill seconds to the real second, held still while
/// paused.
#[derive(Debug)]
pub struct Clock {
    speed: f64,
    state: Mutex<ClockState>,
}

#[derive(Debug)]
struct ClockState {
    /// When drill time 0 was, shifted later by every pause.
    origin: Instant,
    paused_at: Option<Instant>,
}

impl Clock {
    pub fn start(speed: f64) -> Clock {
        Clock {
            speed,
            state: Mutex::new(ClockState {
                origin: Instant::now(),
                paused_at: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // The state is two instants, always consistent: a panic elsewhere leaves it usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// How far into the drill we are.
    pub fn drill_time(&self) -> Duration {
        let state = self.lock();
        let now = state.paused_at.unwrap_or_else(Instant::now);
        now.saturating_duration_since(state.origin)
            .mul_f64(self.speed)
    }

    pub fn is_paused(&self) -> bool {
        self.lock().paused_at.is_some()
    }

    /// The instant drill time `at` comes, if nothing pauses before it.
    fn deadline(&self, at: Duration) -> Instant {
        let real = Duration::from_nanos((at.as_nanos() as f64 / self.speed).round() as u64);
        self.lock().origin + real
    }

    fn pause(&self) -> bool {
        let mut state = self.lock();
        if state.paused_at.is_some() {
            return false;
        }
        state.paused_at = Some(Instant::now());
        true
    }

    fn resume(&self) -> bool {
        let mut state = self.lock();
        match state.paused_at.take() {
            Some(at) => {
                state.origin += Instant::now().saturating_duration_since(at);
                true
            }
            None => false,
        }
    }
}

/// What to do with the server's register before the drill imports its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RegisterMode {
    /// Import the scenario's register, unless that would change or remove anyone already
    /// on the server (a real register): then refuse to start.
    #[default]
    Import,
    /// Import it even so (a training server whose register may be replaced).
    Replace,
    /// Import nothing: play against the server's register as it is.
    Keep,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Drill seconds per real second: 60 plays an hour in a minute.
    pub speed: f64,
    pub register: RegisterMode,
    /// After the last inject, wait until the scenario's duration has passed (the drill's
    /// end), rather than finishing at once.
    pub wait_for_end: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            speed: 1.0,
            register: RegisterMode::Import,
            wait_for_end: true,
        }
    }
}

/// One call made, as the live log shows it.
#[derive(Clone, Debug)]
pub struct Fired {
    /// Its time in the scenario.
    pub at: Duration,
    pub line: usize,
    pub kind: &'static str,
    /// What was asked, in a few words.
    pub what: String,
    /// What the server answered, in a few words; `Err` when the call failed.
    pub outcome: Result<String, String>,
}

/// How a drill went.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub activation_id: i64,
    pub activation_name: String,
    /// Calls made by kind: (succeeded, failed).
    pub by_kind: BTreeMap<&'static str, (usize, usize)>,
    pub failures: Vec<Fired>,
    /// Calls not made because the drill was stopped.
    pub not_played: usize,
    pub stopped: bool,
    pub drill_time: Duration,
}

impl Summary {
    pub fn succeeded(&self) -> usize {
        self.by_kind.values().map(|(ok, _)| ok).sum()
    }

    pub fn failed(&self) -> usize {
        self.failures.len()
    }
}

/// Why a drill could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "the server's register would change: this scenario's register would update {updated} and mark {removed} people removed. \
         The register is shared by every activation, real ones included. Run the drill on a training server, or pass \
         --keep-register to play against the register as it is, or --replace-register if this server's register may be replaced"
    )]
    RegisterWouldChange { updated: usize, removed: usize },
    #[error("{step}: {error}")]
    Call { step: &'static str, error: ApiError },
}

/// Told what happens, for the terminal. Every method does nothing by default.
pub trait Report: Send + Sync {
    /// A setup step done (activation declared, shelters made, register imported).
    fn setup(&self, _message: &str) {}
    /// The clock has started.
    fn started(&self, _activation_id: i64, _clock: &Arc<Clock>, _steps: usize) {}
    fn fired(&self, _fired: &Fired, _done: usize, _of: usize) {}
    fn paused(&self, _paused: bool) {}
}

/// Reports nothing.
pub struct Quiet;

impl Report for Quiet {}

/// The drill's own name for its activation: the scenario's, with the day and time it
/// started, so several runs of one scenario tell apart.
pub fn activation_name(scenario: &Scenario) -> String {
    let now = chrono::Utc::now() + chrono::TimeDelta::hours(9);
    let name = format!("{} ({})", scenario.name, now.format("%Y-%m-%d %H:%M"));
    name.chars().take(200).collect()
}

fn import_path(upload: &RegisterUpload, dry_run: bool) -> String {
    format!(
        "/api/register/imports?dry_run={dry_run}&allow_invalid={}",
        upload.allow_invalid
    )
}

fn count(report: &Value, field: &str) -> usize {
    match &report[field] {
        Value::Array(items) => items.len(),
        value => value.as_u64().unwrap_or(0) as usize,
    }
}

fn describe_import(report: &Value) -> String {
    format!(
        "new {} updated {} unchanged {} removed {} invalid {}",
        count(report, "new"),
        count(report, "updated"),
        count(report, "unchanged"),
        count(report, "removed"),
        count(report, "invalid"),
    )
}

/// Plays `timeline` (built from `scenario`) through `api`. Ends when the timeline (and,
/// with `wait_for_end`, the scenario's duration) is over, or when told to stop.
pub async fn run<A: Api>(
    api: &A,
    scenario: &Scenario,
    timeline: &Timeline,
    options: &Options,
    mut control: watch::Receiver<Control>,
    report: &dyn Report,
) -> Result<Summary, SetupError> {
    // Check the register before anything is made: a drill must not start by emptying the
    // real register.
    let import_register = options.register != RegisterMode::Keep;
    if options.register == RegisterMode::Import
        && let Some(upload) = timeline.first_register()
    {
        let dry = api
            .post_csv(&import_path(upload, true), upload.csv.clone())
            .await
            .map_err(|error| SetupError::Call {
                step: "checking the register (dry run)",
                error,
            })?;
        let (updated, removed) = (count(&dry, "updated"), count(&dry, "removed"));
        if updated + removed > 0 {
            return Err(SetupError::RegisterWouldChange { updated, removed });
        }
    }

    let shelters = ensure_shelters(api, scenario, report).await?;
    let name = activation_name(scenario);
    // The speed goes with the scenario's key, so the review can say its times are real times.
    let key = super::review::scenario_key(&scenario.file);
    let speed = key.as_ref().map(|_| options.speed);
    let activation = api
        .post(
            "/api/activations",
            json!({ "name": name, "kind": "drill", "scenario": key, "speed": speed }),
        )
        .await
        .map_err(|error| SetupError::Call {
            step: "declaring the drill activation",
            error,
        })?;
    let activation_id = activation["id"].as_i64().ok_or_else(|| SetupError::Call {
        step: "declaring the drill activation",
        error: ApiError::new("the answer has no id"),
    })?;
    report.setup(&format!(
        "訓練を開始 / drill activation {activation_id}: {name}"
    ));
    if import_register && let Some(upload) = &timeline.register {
        let done = api
            .post_csv(&import_path(upload, false), upload.csv.clone())
            .await
            .map_err(|error| SetupError::Call {
                step: "importing the register",
                error,
            })?;
        report.setup(&format!(
            "名簿取込 / register imported: {} people ({})",
            upload.people,
            describe_import(&done)
        ));
    }

    let clock = Arc::new(Clock::start(options.speed));
    report.started(activation_id, &clock, timeline.steps.len());
    let mut player = Player {
        api,
        activation_id,
        shelters,
        sweeps: HashMap::new(),
        import_register,
    };
    let mut summary = Summary {
        activation_id,
        activation_name: name,
        ..Summary::default()
    };
    let total = timeline.steps.len();
    for (index, step) in timeline.steps.iter().enumerate() {
        if !wait_until(&clock, step.at, &mut control, report).await {
            summary.stopped = true;
            summary.not_played = total - index;
            break;
        }
        let fired = player.play(step).await;
        let entry = summary.by_kind.entry(fired.kind).or_insert((0, 0));
        if fired.outcome.is_ok() {
            entry.0 += 1;
        } else {
            entry.1 += 1;
            summary.failures.push(fired.clone());
        }
        report.fired(&fired, index + 1, total);
    }
    if options.wait_for_end
        && !summary.stopped
        && !wait_until(&clock, scenario.duration, &mut control, report).await
    {
        summary.stopped = true;
    }
    summary.drill_time = clock.drill_time().min(scenario.duration);
    Ok(summary)
}

/// Waits until drill time `at`, through pauses. False when told to stop.
async fn wait_until(
    clock: &Clock,
    at: Duration,
    control: &mut watch::Receiver<Control>,
    report: &dyn Report,
) -> bool {
    // Once nobody can send (the terminal went away), just keep time.
    let mut listening = true;
    loop {
        let wanted = if listening {
            *control.borrow_and_update()
        } else {
            Control::Run
        };
        match wanted {
            Control::Stop => return false,
            Control::Pause => {
                if clock.pause() {
                    report.paused(true);
                }
                if control.changed().await.is_err() {
                    listening = false;
                }
            }
            Control::Run => {
                if clock.resume() {
                    report.paused(false);
                }
                let deadline = clock.deadline(at);
                if !listening {
                    tokio::time::sleep_until(deadline).await;
                    return true;
                }
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => return true,
                    changed = control.changed() => {
                        if changed.is_err() {
                            listening = false;
                        }
                    }
                }
            }
        }
    }
}

/// Makes the calls of one drill.
struct Player<'a, A> {
    api: &'a A,
    activation_id: i64,
    /// Shelter ids by name.
    shelters: HashMap<String, i64>,
    /// The unconfirmed people still to report, per safety inject that sweeps a district.
    sweeps: HashMap<usize, VecDeque<String>>,
    import_register: bool,
}

impl<A: Api> Player<'_, A> {
    async fn play(&mut self, step: &Step) -> Fired {
        let kind = step.action.kind();
        let what = describe(step);
        let outcome = self.call(step).await.map_err(|e| e.to_string());
        Fired {
            at: step.at,
            line: step.line,
            kind,
            what,
            outcome,
        }
    }

    fn shelter_id(&self, name: &str) -> Result<i64, ApiError> {
        self.shelters
            .get(name)
            .copied()
            .ok_or_else(|| ApiError::new(format!("shelter {name:?} is not in the registry")))
    }

    async fn call(&mut self, step: &Step) -> Result<String, ApiError> {
        let a = format!("/api/activations/{}", self.activation_id);
        match &step.action {
            Action::Need(body) => {
                let done = self.api.post(&format!("{a}/needs"), body.clone()).await?;
                let duplicates = done["duplicates"].as_array().map_or(0, Vec::len);
                Ok(format!(
                    "need {}{}",
                    done["need"]["id"],
                    if duplicates > 0 {
                        format!(" (重複の可能性 / possible duplicate: {duplicates})")
                    } else {
                        String::new()
                    }
                ))
            }
            Action::Volunteer(body) => {
                let done = self
                    .api
                    .post(&format!("{a}/volunteers"), body.clone())
                    .await?;
                let volunteer = &done["volunteer"];
                Ok(format!(
                    "volunteer {} card {}{}",
                    volunteer["id"],
                    volunteer["card_code"].as_str().unwrap_or("?"),
                    if volunteer["insured_today"] == false {
                        " 保険なし / not insured"
                    } else {
                        ""
                    }
                ))
            }
            Action::Safety {
                target,
                status,
                note,
                seed,
            } => {
                let resident_id = match target {
                    SafetyTarget::Resident(id) => id.clone(),
                    SafetyTarget::District(district) => {
                        self.next_unconfirmed(step.inject, district, *seed).await?
                    }
                };
                self.api
                    .post(
                        &format!("{a}/safety"),
                        json!({ "resident_id": resident_id, "status": status, "note": note }),
                    )
                    .await?;
                Ok(match target {
                    SafetyTarget::Resident(_) => "記録 / recorded".to_string(),
                    SafetyTarget::District(_) => format!("{resident_id} 記録 / recorded"),
                })
            }
            Action::ShelterOpen { shelter, capacity } => {
                let id = self.shelter_id(shelter)?;
                let body = match capacity {
                    Some(c) => json!({ "capacity": c }),
                    None => json!({}),
                };
                let done = self
                    .api
                    .post(&format!("{a}/shelters/{id}/open"), body)
                    .await?;
                Ok(format!("開設 / open, capacity {}", done["capacity"]))
            }
            Action::ShelterClose { shelter } => {
                let id = self.shelter_id(shelter)?;
                self.api
                    .post(&format!("{a}/shelters/{id}/close"), json!({}))
                    .await?;
                Ok("閉鎖 / closed".into())
            }
            Action::ShelterFull { shelter } => {
                let id = self.shelter_id(shelter)?;
                let states = self.api.get(&format!("{a}/shelters")).await?;
                let state = states
                    .as_array()
                    .and_then(|list| list.iter().find(|s| s["id"] == id))
                    .ok_or_else(|| ApiError::new("the shelter is not in this activation"))?;
                if state["status"] != "open" {
                    return Err(ApiError::new(format!(
                        "a shelter that is {} cannot report it is full",
                        state["status"].as_str().unwrap_or("?")
                    )));
                }
                let held = state["assigned"].as_i64().unwrap_or(0)
                    + state["arrived"].as_i64().unwrap_or(0);
                self.api
                    .post(
                        &format!("{a}/shelters/{id}/open"),
                        json!({ "capacity": held }),
                    )
                    .await?;
                Ok(format!("満床 / full: capacity set to the {held} it holds"))
            }
            Action::Announcement { text } => {
                let done = self
                    .api
                    .post(&format!("{a}/announcements"), json!({ "text": text }))
                    .await?;
                Ok(format!("announcement {}", done["id"]))
            }
            Action::RegisterImport(upload) => {
                if !self.import_register {
                    return Ok("skipped (--keep-register)".into());
                }
                let done = self
                    .api
                    .post_csv(&import_path(upload, false), upload.csv.clone())
                    .await?;
                // The register changed: sweeps draw again from what is unconfirmed now.
                self.sweeps.clear();
                Ok(describe_import(&done))
            }
        }
    }

    /// The next unconfirmed person of `district` for the sweep of inject `inject`: the
    /// district's unconfirmed people are read once per sweep and shuffled with its seed.
    async fn next_unconfirmed(
        &mut self,
        inject: usize,
        district: &str,
        seed: u64,
    ) -> Result<String, ApiError> {
        if !self.sweeps.contains_key(&inject) {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("district", district)
                .append_pair("activation", &self.activation_id.to_string())
                .append_pair("status", "unconfirmed")
                .finish();
            let people = self
                .api
                .get(&format!("/api/register/persons?{query}"))
                .await?;
            let mut ids: Vec<String> = people
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|p| p["resident_id"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            ids.sort();
            Rng::new(seed).shuffle(&mut ids);
            self.sweeps.insert(inject, ids.into());
        }
        self.sweeps
            .get_mut(&inject)
            .and_then(VecDeque::pop_front)
            .ok_or_else(|| {
                ApiError::new(format!(
                    "nobody unconfirmed is left in {district} / 未確認者なし"
                ))
            })
    }
}

/// What a step asks, for the log: categories, districts and numbers, no names.
pub fn describe(step: &Step) -> String {
    let of = if step.of > 1 {
        format!(" {}/{}", step.number, step.of)
    } else {
        String::new()
    };
    match &step.action {
        Action::Need(body) => format!(
            "ニーズ受付{of} {} {} {}人{}",
            crate::dispatch::label(
                &crate::dispatch::NEED_CATEGORIES,
                body["category"].as_str().unwrap_or("")
            ),
            body["district"].as_str().unwrap_or(""),
            body["people_needed"],
            if body["urgent"] == true {
                " 危機介入"
            } else {
                ""
            }
        ),
        Action::Volunteer(body) => format!(
            "ボランティア受付{of}{}",
            match body["group_name"].as_str() {
                Some(g) if !g.is_empty() => format!(" ({g})"),
                _ => String::new(),
            }
        ),
        Action::Safety { target, status, .. } => match target {
            SafetyTarget::Resident(id) => format!("安否確認 {id} {status}"),
            SafetyTarget::District(d) => format!("安否確認{of} {d} {status}"),
        },
        Action::ShelterOpen { shelter, .. } => format!("福祉避難所 開設 {shelter}"),
        Action::ShelterClose { shelter } => format!("福祉避難所 閉鎖 {shelter}"),
        Action::ShelterFull { shelter } => format!("福祉避難所 満床 {shelter}"),
        Action::Announcement { text } => {
            let short: String = text.chars().take(40).collect();
            format!(
                "お知らせ 「{short}{}」",
                if text.chars().count() > 40 { "…" } else { "" }
            )
        }
        Action::RegisterImport(upload) => format!("名簿取込 {} people", upload.people),
    }
}

/// Makes the shelters the scenario defines that the registry lacks; returns every
/// shelter's id by name.
async fn ensure_shelters<A: Api>(
    api: &A,
    scenario: &Scenario,
    report: &dyn Report,
) -> Result<HashMap<String, i64>, SetupError> {
    let fail = |error| SetupError::Call {
        step: "reading the shelter registry",
        error,
    };
    let listed = api.get("/api/shelters").await.map_err(fail)?;
    let mut ids: HashMap<String, i64> = listed
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| Some((s["name"].as_str()?.to_string(), s["id"].as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    for shelter in &scenario.shelters {
        if ids.contains_key(&shelter.name) {
            continue;
        }
        let body = json!({
            "name": shelter.name,
            "address": shelter.address,
            "capacity": shelter.capacity,
            "latitude": shelter.latitude,
            "longitude": shelter.longitude,
            "categories": shelter.categories,
            "facilities": shelter.facilities,
            "contact": shelter.contact,
            "notes": shelter.notes,
        });
        let made = api
            .post("/api/shelters", body)
            .await
            .map_err(|error| SetupError::Call {
                step: "adding a shelter to the registry",
                error,
            })?;
        let id = made["id"].as_i64().unwrap_or_default();
        report.setup(&format!(
            "福祉避難所を登録 / shelter added: {} (id {id})",
            shelter.name
        ));
        ids.insert(shelter.name.clone(), id);
    }
    Ok(ids)
}

/// The log line of one call: `+1h02m [line 40] ニーズ受付 泥出し 北地区 3人 → need 17`.
pub fn log_line(fired: &Fired) -> String {
    let outcome = match &fired.outcome {
        Ok(text) => format!("→ {text}"),
        Err(error) => format!("✗ 失敗 / failed: {error}"),
    };
    format!(
        "+{:<9} [line {}] {} {outcome}",
        format_offset(fired.at),
        fired.line,
        fired.what
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::drills::timeline;

    /// A server that answers every call at once and writes down when, on tokio's (paused)
    /// clock, each call came and what it was.
    struct Fake {
        start: Instant,
        calls: Mutex<Vec<(Duration, String, String)>>,
        /// Paths whose calls fail.
        failing: Vec<&'static str>,
        /// The dry run's answer to the register check.
        dry_run: Value,
    }

    impl Fake {
        fn new() -> Fake {
            Fake {
                start: Instant::now(),
                calls: Mutex::new(Vec::new()),
                failing: vec![],
                dry_run: json!({ "new": 10, "updated": [], "removed": 0 }),
            }
        }

        fn record(&self, method: &str, path: &str) -> Result<(), ApiError> {
            self.calls.lock().unwrap().push((
                self.start.elapsed(),
                method.to_string(),
                path.to_string(),
            ));
            if self.failing.iter().any(|f| path.contains(f)) {
                return Err(ApiError {
                    status: Some(409),
                    message: "refused".into(),
                });
            }
            Ok(())
        }

        /// (time, kind) of each inject call, from the path it went to.
        fn injects(&self) -> Vec<(Duration, &'static str)> {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, method, _)| method != "GET")
                .filter_map(|(at, _, path)| {
                    let kind = if path.ends_with("/needs") {
                        "need"
                    } else if path.ends_with("/volunteers") {
                        "volunteers"
                    } else if path.ends_with("/safety") {
                        "safety"
                    } else if path.ends_with("/announcements") {
                        "announcement"
                    } else if path.ends_with("/open") {
                        "shelter_open"
                    } else if path.ends_with("/close") {
                        "shelter_close"
                    } else {
                        return None;
                    };
                    Some((*at, kind))
                })
                .collect()
        }
    }

    impl Api for Fake {
        async fn get(&self, path: &str) -> Result<Value, ApiError> {
            self.record("GET", path)?;
            Ok(if path == "/api/shelters" {
                json!([{ "id": 7, "name": "北ケアプラザ" }])
            } else if path.starts_with("/api/register/persons") {
                json!([{ "resident_id": "D0000001" }, { "resident_id": "D0000002" }])
            } else if path.ends_with("/shelters") {
                json!([{ "id": 7, "status": "open", "assigned": 2, "arrived": 1 }])
            } else {
                json!(null)
            })
        }

        async fn post(&self, path: &str, _body: Value) -> Result<Value, ApiError> {
            self.record("POST", path)?;
            Ok(if path == "/api/activations" {
                json!({ "id": 5 })
            } else {
                json!({ "id": 1 })
            })
        }

        async fn post_csv(&self, path: &str, _csv: Bytes) -> Result<Value, ApiError> {
            self.record("CSV", path)?;
            Ok(if path.contains("dry_run=true") {
                self.dry_run.clone()
            } else {
                json!({ "new": 10, "updated": [], "removed": 0 })
            })
        }
    }

    const SCENARIO: &str = r#"
name = "時間の訓練"
duration = "2h"
[register]
count = 10
districts = ["北地区"]

[[shelters]]
name = "北ケアプラザ"
address = "架空市北1-1"
capacity = 10

[[injects]]
at = "0s"
kind = "announcement"
text = "訓練開始"

[[injects]]
at = "1m"
kind = "need"
requester_name = "山本 花子"
address = "架空市北1-2"
category = "mud_removal"
people = 3

[[injects]]
at = "10m"
kind = "volunteers"
count = 3
over = "30m"

[[injects]]
at = "1h"
kind = "safety"
district = "北地区"
count = 2
over = "2m"
status = "safe_at_home"

[[injects]]
at = "1h30m"
kind = "shelter_open"
shelter = "北ケアプラザ"

[[injects]]
at = "1h40m"
kind = "shelter_full"
shelter = "北ケアプラザ"

[[injects]]
at = "2h"
kind = "shelter_close"
shelter = "北ケアプラザ"
"#;

    fn scenario() -> (Scenario, Timeline) {
        let s =
            Scenario::parse(SCENARIO, "t.toml", Path::new(".")).unwrap_or_else(|p| panic!("{p}"));
        let t = timeline::build(&s);
        (s, t)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Every inject's call at its drill time divided by the speed.
    fn expected(speed: u64) -> Vec<(Duration, &'static str)> {
        [
            (0, "announcement"),
            (60, "need"),
            (600, "volunteers"),
            (1200, "volunteers"),
            (1800, "volunteers"),
            (3600, "safety"),
            (3660, "safety"),
            (5400, "shelter_open"),
            (6000, "shelter_open"), // full: reopened with the capacity it holds
            (7200, "shelter_close"),
        ]
        .into_iter()
        .map(|(at, kind)| (secs(at) / speed as u32, kind))
        .collect()
    }

    async fn play(speed: f64) -> (Fake, Summary) {
        let (scenario, timeline) = scenario();
        let fake = Fake::new();
        let (_control, rx) = watch::channel(Control::Run);
        let options = Options {
            speed,
            ..Options::default()
        };
        let summary = run(&fake, &scenario, &timeline, &options, rx, &Quiet)
            .await
            .expect("the drill starts");
        (fake, summary)
    }

    #[tokio::test(start_paused = true)]
    async fn injects_fire_at_their_offsets_at_speed_1() {
        let (fake, summary) = play(1.0).await;
        assert_eq!(fake.injects(), expected(1));
        assert_eq!(summary.succeeded(), 10);
        assert_eq!(summary.failed(), 0);
        assert_eq!(summary.drill_time, secs(7200));
    }

    #[tokio::test(start_paused = true)]
    async fn injects_fire_at_their_offsets_at_speed_60() {
        let (fake, summary) = play(60.0).await;
        assert_eq!(fake.injects(), expected(60));
        assert_eq!(summary.activation_id, 5);
        assert_eq!(summary.by_kind.get("volunteers"), Some(&(3, 0)));
    }

    #[tokio::test(start_paused = true)]
    async fn setup_comes_before_the_clock_and_a_sweep_reads_the_district_once() {
        let (fake, _) = play(60.0).await;
        let calls = fake.calls.lock().unwrap();
        let paths: Vec<&str> = calls.iter().map(|(_, _, p)| p.as_str()).collect();
        assert!(paths[0].contains("dry_run=true"), "{paths:?}");
        assert_eq!(paths[1], "/api/shelters");
        assert_eq!(paths[2], "/api/activations");
        assert!(paths[3].contains("dry_run=false"), "{paths:?}");
        let reads = paths
            .iter()
            .filter(|p| p.starts_with("/api/register/persons"))
            .count();
        assert_eq!(reads, 1, "{paths:?}");
        // The shelter the registry had is used, not made again.
        assert!(
            !calls
                .iter()
                .any(|(_, m, p)| m == "POST" && p == "/api/shelters")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_call_is_logged_and_the_drill_goes_on() {
        let (scenario, timeline) = scenario();
        let mut fake = Fake::new();
        fake.failing = vec!["/needs"];
        let (_control, rx) = watch::channel(Control::Run);
        let summary = run(&fake, &scenario, &timeline, &Options::default(), rx, &Quiet)
            .await
            .unwrap();
        assert_eq!(summary.failed(), 1);
        assert_eq!(summary.failures[0].kind, "need");
        assert_eq!(summary.failures[0].line, 18);
        assert_eq!(summary.succeeded(), 9);
        assert!(log_line(&summary.failures[0]).contains("409: refused"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_register_that_would_change_the_servers_stops_the_drill_before_anything_is_made() {
        let (scenario, timeline) = scenario();
        let mut fake = Fake::new();
        fake.dry_run = json!({ "new": 10, "updated": [], "removed": 250 });
        let (_control, rx) = watch::channel(Control::Run);
        let result = run(&fake, &scenario, &timeline, &Options::default(), rx, &Quiet).await;
        assert!(matches!(
            result,
            Err(SetupError::RegisterWouldChange { removed: 250, .. })
        ));
        assert_eq!(fake.calls.lock().unwrap().len(), 1, "only the dry run");

        // Told to keep the server's register: nothing is imported, the drill plays.
        let options = Options {
            register: RegisterMode::Keep,
            ..Options::default()
        };
        let (_control, rx) = watch::channel(Control::Run);
        let fake = Fake::new();
        run(&fake, &scenario, &timeline, &options, rx, &Quiet)
            .await
            .unwrap();
        assert!(
            !fake
                .calls
                .lock()
                .unwrap()
                .iter()
                .any(|(_, _, p)| p.contains("imports"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_drill_time_and_stop_ends_the_drill() {
        let (scenario, timeline) = scenario();
        let fake = Arc::new(Fake::new());
        let (control, rx) = watch::channel(Control::Run);
        let options = Options {
            speed: 60.0,
            ..Options::default()
        };
        let runner = {
            let fake = fake.clone();
            tokio::spawn(async move {
                run(&*fake, &scenario, &timeline, &options, rx, &Quiet)
                    .await
                    .unwrap()
            })
        };
        // At 5 s (drill time 5 min) pause for 100 s, then resume.
        tokio::time::sleep(secs(5)).await;
        control.send(Control::Pause).unwrap();
        tokio::time::sleep(secs(100)).await;
        assert_eq!(fake.injects().len(), 2, "nothing fires while paused");
        control.send(Control::Run).unwrap();
        // The volunteers due at drill time 10 min come 5 s after the resume.
        tokio::time::sleep(secs(6)).await;
        let injects = fake.injects();
        assert_eq!(injects[2], (secs(110), "volunteers"), "{injects:?}");
        control.send(Control::Stop).unwrap();
        let summary = runner.await.unwrap();
        assert!(summary.stopped);
        assert_eq!(summary.succeeded(), 3);
        assert_eq!(summary.not_played, 7);
    }
}
