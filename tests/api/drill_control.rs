//! Drills started from the web page (`/api/drills/...`), as an admin uses them: the list of
//! scenarios (the shipped three, a council's folder with a broken file), a run played inside
//! the server into a drill activation of its own and followed to its end, pause, resume and
//! stop, the register guard, and who may do any of it. The server runs with
//! `tests/fixtures/drills` as its drills folder.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, PATIENCE, Session, TestApp, test_settings};

/// Declares each listed `async fn(TestApp)` on both backends, the server serving the
/// fixtures' drills folder.
macro_rules! with_drills_folder {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = super::spawn(crate::helpers::Backend::Sqlite).await.expect("sqlite");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = super::spawn(crate::helpers::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

with_drills_folder!(
    the_list_shows_the_shipped_scenarios_and_the_folders_with_their_problems,
    a_run_started_from_the_page_plays_into_its_own_drill_activation_to_the_end,
    a_run_pauses_resumes_and_stops,
    a_run_will_not_change_a_register_it_did_not_bring,
    only_an_admin_starts_or_follows_drills_and_bad_requests_say_why,
    shutting_down_stops_running_drills_and_ends_their_sessions,
);

pub async fn spawn(backend: Backend) -> Option<TestApp> {
    let settings = saigai_vc::Settings {
        drills_dir: Some(fixtures()),
        ..test_settings()
    };
    TestApp::spawn_with(backend, settings, None).await
}

pub fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drills")
}

async fn get_ok(session: &Session, path: &str) -> Value {
    let (status, body) = session.get(path).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

/// Between two looks at a run that is not there yet.
const POLL: Duration = Duration::from_millis(25);

/// Starts `scenario` at `speed`: the run's id and its drill activation's.
async fn start(admin: &Session, scenario: &str, speed: f64) -> (u64, i64) {
    let (status, body) = admin
        .post(
            "/api/drills/runs",
            json!({ "scenario": scenario, "speed": speed }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "start {scenario}: {body}");
    let activation_id = body["activation_id"]
        .as_i64()
        .expect("the drill activation");
    // The activation keeps the speed, for its review to say its times are real times.
    let activation = get_ok(admin, &format!("/api/activations/{activation_id}")).await;
    assert_eq!(activation["speed"], speed, "{activation}");
    (body["id"].as_u64().expect("a run id"), activation_id)
}

/// Polls the run until `done` says so; fails after the test's patience with the last answer.
async fn poll_run(admin: &Session, run: u64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE * 2;
    loop {
        let body = get_ok(admin, &format!("/api/drills/runs/{run}")).await;
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "run {run} never {what}: {body}");
        tokio::time::sleep(POLL).await;
    }
}

async fn the_list_shows_the_shipped_scenarios_and_the_folders_with_their_problems(app: TestApp) {
    let admin = app.user("drill-admin", Role::Admin).await;
    let list = get_ok(&admin, "/api/drills/scenarios").await;
    let list = list.as_array().unwrap();
    let keys: Vec<&str> = list.iter().filter_map(|s| s["key"].as_str()).collect();
    for key in [
        "centre-setup",
        "earthquake-welfare-shelters",
        "flood-ward",
        "short",
        "slow",
        "broken",
    ] {
        assert!(keys.contains(&key), "{key} is listed: {keys:?}");
    }
    let by_key = |key: &str| list.iter().find(|s| s["key"] == key).unwrap();

    let setup = by_key("centre-setup");
    assert_eq!(setup["source"], "shipped");
    assert!(
        setup["name"].as_str().unwrap().contains("災害VC"),
        "{setup}"
    );
    assert!(!setup["description"].as_str().unwrap().is_empty());
    assert_eq!(setup["duration"], "4h");
    assert_eq!(setup["duration_seconds"], 4 * 3600);
    assert!(
        setup["injects"]["volunteers"].as_u64().unwrap() > 0,
        "{setup}"
    );
    assert_eq!(setup["problems"], json!([]));
    let flood = by_key("flood-ward");
    assert_eq!(flood["register_people"], 400, "{flood}");

    let short = by_key("short");
    assert_eq!(short["source"], "folder");
    assert_eq!(short["name"], "画面から始める短い訓練");
    assert_eq!(
        short["injects"],
        json!({ "announcement": 1, "need": 1, "volunteers": 1, "safety": 1 })
    );

    // The broken file is listed with where and why, and cannot be started.
    let broken = by_key("broken");
    let problems = broken["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{broken}");
    let problem = problems[0].as_str().unwrap();
    assert!(
        problem.contains("broken.toml:5: at = 1h30m is after the end of the drill"),
        "{problem}"
    );
    let (status, body) = admin
        .post("/api/drills/runs", json!({ "scenario": "broken" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "scenario");
    assert!(
        body["error"].as_str().unwrap().contains("broken.toml:5:"),
        "{body}"
    );
    let activations = get_ok(&admin, "/api/activations").await;
    assert_eq!(activations, json!([]), "nothing was declared");
}

async fn a_run_started_from_the_page_plays_into_its_own_drill_activation_to_the_end(app: TestApp) {
    let admin = app.user("drill-admin", Role::Admin).await;
    // A real activation with a record of its own, beside the drill.
    let real = admin.open_activation("実災害 大雨", "real").await;
    admin.announce(real, "実際のお知らせ").await;
    let real_events_before = get_ok(&admin, &format!("/api/activations/{real}/events")).await;

    let (run, drill) = start(&admin, "short", 600.0).await;
    assert_ne!(drill, real);
    let activation = get_ok(&admin, &format!("/api/activations/{drill}")).await;
    assert_eq!(activation["kind"], "drill");
    assert!(
        activation["name"]
            .as_str()
            .unwrap()
            .starts_with("画面から始める短い訓練"),
        "{activation}"
    );

    let finished = poll_run(&admin, run, "finished", |r| r["state"] != "running").await;
    assert_eq!(finished["state"], "finished", "{finished}");
    assert_eq!(finished["scenario"], "short");
    assert_eq!(finished["activation_id"], drill);
    assert_eq!(finished["total"], 7, "{finished}");
    assert_eq!(finished["done"], 7, "{finished}");
    assert_eq!(finished["failed"], 0, "{finished}");
    assert_eq!(finished["drill_time"], "10m");
    assert_eq!(finished["started_by"], "drill-admin");
    let log: Vec<&str> = finished["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        log.iter()
            .any(|l| l.starts_with("2/7 ") && l.contains("ニーズ受付")),
        "a log line per call: {log:?}"
    );
    assert!(log.last().unwrap().contains("7 ok, 0 failed"), "{log:?}");
    assert!(
        !log.iter().any(|l| l.contains("訓練 花子")),
        "no names in the log: {log:?}"
    );
    let listed = get_ok(&admin, "/api/drills/runs").await;
    assert_eq!(listed[0]["id"], run, "{listed}");

    // What the drill did is in its own activation.
    let a = format!("/api/activations/{drill}");
    let announcements = get_ok(&admin, &format!("{a}/announcements")).await;
    assert_eq!(announcements[0]["text"], "【訓練】画面から開始した訓練です");
    let needs = get_ok(&admin, &format!("{a}/needs")).await;
    assert_eq!(needs.as_array().unwrap().len(), 1, "{needs}");
    assert_eq!(needs[0]["category"], "mud_removal");
    let volunteers = get_ok(&admin, &format!("{a}/volunteers?today=true")).await;
    assert_eq!(volunteers.as_array().unwrap().len(), 3, "{volunteers}");
    let safety = get_ok(&admin, &format!("{a}/safety")).await;
    let north = safety
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["district"] == "北地区")
        .expect("the north district");
    assert_eq!(north["by_status"]["safe_at_home"], 2, "{safety}");
    // Every change in the drill's event log was made by the admin who started it.
    let events = get_ok(&admin, &format!("{a}/events")).await;
    assert!(events.as_array().unwrap().len() >= 7, "{events}");

    // The real activation: as it was. Only the register is shared (master data): every
    // open activation hears that it was imported, and nothing else.
    let real_events_after = get_ok(&admin, &format!("/api/activations/{real}/events")).await;
    let (shared, own): (Vec<Value>, Vec<Value>) = real_events_after
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .partition(|e| e["type"] == "register_imported");
    assert_eq!(Value::Array(own), real_events_before);
    assert_eq!(shared.len(), 1, "{real_events_after}");
    let real_needs = get_ok(&admin, &format!("/api/activations/{real}/needs")).await;
    assert_eq!(real_needs, json!([]));

    // Over: it can be neither paused nor stopped.
    let (status, body) = admin
        .post(&format!("/api/drills/runs/{run}/pause"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "drill_run_over");

    // Deleting the drill removes it and leaves the real one.
    let (status, body) = admin.delete(&a).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let activations = get_ok(&admin, "/api/activations").await;
    let ids: Vec<i64> = activations
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![real]);
}

async fn a_run_pauses_resumes_and_stops(app: TestApp) {
    let admin = app.user("drill-admin", Role::Admin).await;
    // The second announcement is 5 h of drill time away: 18 s at this speed.
    let (run, drill) = start(&admin, "slow", 1000.0).await;
    poll_run(&admin, run, "made its first call", |r| r["done"] == 1).await;

    let (status, body) = admin
        .post(&format!("/api/drills/runs/{run}/pause"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let paused = poll_run(&admin, run, "paused", |r| r["state"] == "paused").await;
    // Drill time stands still: at this speed a millisecond is a drill second.
    let a = format!("/api/activations/{drill}");
    get_ok(&admin, &format!("{a}/announcements")).await;
    let still = get_ok(&admin, &format!("/api/drills/runs/{run}")).await;
    assert_eq!(still["state"], "paused");
    assert_eq!(still["drill_seconds"], paused["drill_seconds"], "{still}");
    assert_eq!(still["done"], 1);

    let (status, body) = admin
        .post(&format!("/api/drills/runs/{run}/resume"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let at_pause = paused["drill_seconds"].as_u64().unwrap();
    poll_run(&admin, run, "ran on after the resume", |r| {
        r["state"] == "running" && r["drill_seconds"].as_u64().unwrap() > at_pause
    })
    .await;

    let (status, body) = admin
        .post(&format!("/api/drills/runs/{run}/stop"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stopped = poll_run(&admin, run, "stopped", |r| r["state"] != "running").await;
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    assert_eq!(stopped["done"], 1);
    let log = stopped["log"].to_string();
    assert!(log.contains("一時停止 / paused"), "{log}");
    assert!(log.contains("再開 / resumed"), "{log}");
    assert!(log.contains("1 not played"), "{log}");
    let announcements = get_ok(&admin, &format!("{a}/announcements")).await;
    assert_eq!(
        announcements.as_array().unwrap().len(),
        1,
        "the second announcement was never made: {announcements}"
    );
}

async fn a_run_will_not_change_a_register_it_did_not_bring(app: TestApp) {
    let admin = app.user("drill-admin", Role::Admin).await;
    let real_register = "宛名番号,氏名,住所,地区\n900001,本物 一郎,架空市本町1-1,本町地区\n";
    let (status, body) = admin
        .post_bytes("/api/register/imports", real_register.as_bytes().to_vec())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = admin
        .post(
            "/api/drills/runs",
            json!({ "scenario": "short", "speed": 600 }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "register_would_change");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("mark 1 people removed"),
        "{body}"
    );
    assert_eq!(get_ok(&admin, "/api/activations").await, json!([]));
    let runs = get_ok(&admin, "/api/drills/runs").await;
    assert_eq!(runs[0]["state"], "failed", "{runs}");

    // Told to keep the server's register, it plays against it and imports nothing.
    let (status, body) = admin
        .post(
            "/api/drills/runs",
            json!({ "scenario": "short", "speed": 600, "register": "keep" }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run = body["id"].as_u64().unwrap();
    poll_run(&admin, run, "ended", |r| r["state"] != "running").await;
    let persons = get_ok(&admin, "/api/register/persons").await;
    assert_eq!(persons.as_array().unwrap().len(), 1, "{persons}");
    assert_eq!(persons[0]["removed"], false);
}

async fn only_an_admin_starts_or_follows_drills_and_bad_requests_say_why(app: TestApp) {
    let admin = app.user("drill-admin", Role::Admin).await;
    let coordinator = app.user("coordinator1", Role::Coordinator).await;
    let board = app.user("wall", Role::Board).await;
    let (run, _) = start(&admin, "slow", 1.0).await;

    for (who, session) in [("coordinator", &coordinator), ("board", &board)] {
        for path in [
            "/api/drills/scenarios".to_string(),
            "/api/drills/runs".to_string(),
            format!("/api/drills/runs/{run}"),
        ] {
            let (status, body) = session.get(&path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} GET {path}: {body}");
        }
        let (status, body) = session
            .post("/api/drills/runs", json!({ "scenario": "short" }))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} starts: {body}");
        let (status, body) = session
            .post(&format!("/api/drills/runs/{run}/stop"), json!({}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} stops: {body}");
    }
    let (status, _) = app.anonymous().get("/api/drills/runs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let cases = [
        (
            json!({ "scenario": "no-such-drill" }),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({ "speed": 10 }),
            StatusCode::BAD_REQUEST,
            Some("scenario"),
        ),
        (
            json!({ "scenario": "short", "speed": 0 }),
            StatusCode::BAD_REQUEST,
            Some("speed"),
        ),
        (
            json!({ "scenario": "short", "speed": -5 }),
            StatusCode::BAD_REQUEST,
            Some("speed"),
        ),
        (
            json!({ "scenario": "short", "speed": "fast" }),
            StatusCode::BAD_REQUEST,
            Some("speed"),
        ),
        (
            json!({ "scenario": "short", "register": "erase" }),
            StatusCode::BAD_REQUEST,
            Some("register"),
        ),
    ];
    for (body, expected, field) in cases {
        let (status, answer) = admin.post("/api/drills/runs", body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}: {answer}"
        );
        if let Some(field) = field {
            assert_eq!(answer["field"], field, "{body}: {answer}");
        }
    }
    let (status, body) = admin.get("/api/drills/runs/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Only the one slow run was started, and it is still running until stopped.
    let runs = get_ok(&admin, "/api/drills/runs").await;
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    let (status, body) = admin
        .post(&format!("/api/drills/runs/{run}/stop"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    poll_run(&admin, run, "stopped", |r| r["state"] == "stopped").await;
}

async fn sessions(store: &saigai_vc::Store) -> i64 {
    saigai_vc::store::on_pool!(store, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(pool).await.unwrap()
    })
}

/// A graceful shutdown stops a drill still running and ends the session it played with
/// before the database is closed; the server stops cleanly.
async fn shutting_down_stops_running_drills_and_ends_their_sessions(mut app: TestApp) {
    let admin = app.user("drill-admin", Role::Admin).await;
    let (run, _) = start(&admin, "slow", 1.0).await;
    poll_run(&admin, run, "made its first call", |r| r["done"] == 1).await;
    assert_eq!(
        sessions(&app.store).await,
        2,
        "the admin's login and the run's own"
    );

    tokio::time::timeout(PATIENCE, app.shut_down())
        .await
        .expect("the server shuts down with a drill running");
    let store = saigai_vc::Store::open(&app.database_url).await.unwrap();
    assert_eq!(sessions(&store).await, 1, "only the admin's login is left");
    store.close().await;
}
