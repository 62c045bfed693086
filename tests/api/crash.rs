//! Crash safety (issue 8): idempotency keys, and `kill -9` at random moments.
//!
//! The API tests check what a client resending a write sees: one record, the same answer; a
//! key reused for another request refused; keys per user; a refused write leaving its key
//! free. The trials kill real processes: a `saigai-vc import register` of 100,000 rows (the
//! register is then entirely the old one or entirely the new one, and SQLite's integrity check
//! passes), and a `saigai-vc serve` taking need intake from several clients at once (after a
//! restart and a resend of every unanswered request with its key, every write is there
//! exactly once). `SAIGAI_CRASH_TRIALS=full` runs the counts recorded in
//! docs/crash-trials.md (50 and 20), a number runs that many of each, and by default a few
//! run. `SAIGAI_CRASH_SEED` replays a run: every failure names its seed.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use saigai_vc::Store;
use saigai_vc::auth::{Role, users};
use saigai_vc::drills::generate::{Rng, register_csv, register_people};
use saigai_vc::store::on_pool;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{PASSWORD, ServeProcess, Session, TestApp, postgres_database};

crate::on_both_backends!(
    a_write_resent_with_its_key_is_applied_once_and_answered_the_same,
    a_key_reused_for_another_request_is_refused,
    keys_belong_to_their_user,
    a_refused_write_leaves_its_key_free,
    a_write_whose_answer_was_lost_is_reported_applied,
    a_resend_while_the_first_is_running_is_told_in_progress,
);

fn need(tag: &str) -> Value {
    json!({
        "requester_name": "山本 花子", "phone": "045-111-2222", "address": "港北区大倉山1-2-3",
        "district": "大倉山", "category": "mud_removal", "description": tag,
        "people_needed": 3, "skills_needed": [], "priority": "high"
    })
}

async fn needs_tagged(session: &Session, activation: i64, tag: &str) -> usize {
    let (status, list) = session
        .get(&format!("/api/activations/{activation}/needs"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .expect("a list")
        .iter()
        .filter(|n| n["description"] == tag)
        .count()
}

async fn centre(app: &TestApp) -> (Session, i64) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    (coordinator, activation)
}

async fn a_write_resent_with_its_key_is_applied_once_and_answered_the_same(app: TestApp) {
    let (coordinator, activation) = centre(&app).await;
    let path = format!("/api/activations/{activation}/needs");
    let first = coordinator
        .send_keyed(Method::POST, &path, "intake-0001", &need("泥出し A"))
        .await
        .unwrap();
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    assert!(!first.2, "a first answer is not a replay");
    let again = coordinator
        .send_keyed(Method::POST, &path, "intake-0001", &need("泥出し A"))
        .await
        .unwrap();
    assert_eq!(
        again.0,
        StatusCode::CREATED,
        "the resend gets the original status"
    );
    assert_eq!(again.1, first.1, "the resend gets the original answer");
    assert!(again.2, "the resend is marked Idempotent-Replayed");
    assert_eq!(needs_tagged(&coordinator, activation, "泥出し A").await, 1);

    // Without a key, the same body is a second intake (the centre warns of duplicates only).
    let (status, _) = coordinator.post(&path, need("泥出し A")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(needs_tagged(&coordinator, activation, "泥出し A").await, 2);

    // A key must be 1 to 200 characters.
    let long = "k".repeat(201);
    let (status, body, _) = coordinator
        .send_keyed(Method::POST, &path, &long, &need("長すぎる鍵"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "Idempotency-Key");
    assert_eq!(
        needs_tagged(&coordinator, activation, "長すぎる鍵").await,
        0
    );
}

/// Holds the database's write lock from outside the server, so that a write waits.
enum WriteBlocker {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteBlocker {
    async fn hold(url: &str) -> WriteBlocker {
        use sqlx::Connection;
        if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            WriteBlocker::Sqlite(conn)
        } else {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE needs IN EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            WriteBlocker::Postgres(conn)
        }
    }

    async fn release(self) {
        match self {
            WriteBlocker::Sqlite(mut conn) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
            }
            WriteBlocker::Postgres(mut conn) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
            }
        }
    }
}

/// A tablet resends a write whose first attempt is still running (its answer is slow, not
/// lost): the resend is told 409 `in_progress` at once rather than applied a second time,
/// and once the first finishes a resend gets its answer.
async fn a_resend_while_the_first_is_running_is_told_in_progress(app: TestApp) {
    use futures_util::FutureExt;
    use futures_util::future::{Either, select};
    let (coordinator, activation) = centre(&app).await;
    let path = format!("/api/activations/{activation}/needs");
    let blocker = WriteBlocker::hold(&app.database_url).await;
    let body = need("応答待ち D");
    let first = coordinator
        .send_keyed(Method::POST, &path, "slow-0001", &body)
        .boxed();
    let second = coordinator
        .send_keyed(Method::POST, &path, "slow-0001", &body)
        .boxed();
    // Whichever takes the key first waits for the lock; the other must be answered now.
    // (A bound, not a wait: without the in-flight check both would wait for the lock.)
    let both = tokio::time::timeout(Duration::from_secs(60), select(first, second))
        .await
        .expect("neither request was answered while the first was held");
    let (answered, waiting) = match both {
        Either::Left((answer, other)) | Either::Right((answer, other)) => (answer, other),
    };
    let (status, answer, _) = answered.unwrap();
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "in_progress", "{answer}");
    blocker.release().await;
    let (status, created, replayed) = waiting.await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(!replayed);
    let (status, again, replayed) = coordinator
        .send_keyed(Method::POST, &path, "slow-0001", &body)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        replayed,
        "the resend after the first finished is its answer, replayed"
    );
    assert_eq!(again, created);
    assert_eq!(
        needs_tagged(&coordinator, activation, "応答待ち D").await,
        1
    );
}

async fn a_key_reused_for_another_request_is_refused(app: TestApp) {
    let (coordinator, activation) = centre(&app).await;
    let path = format!("/api/activations/{activation}/needs");
    let (status, ..) = coordinator
        .send_keyed(Method::POST, &path, "k1", &need("家具移動 B"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    let (status, body, _) = coordinator
        .send_keyed(Method::POST, &path, "k1", &need("家具移動 C"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "idempotency_key_reused");
    assert_eq!(
        needs_tagged(&coordinator, activation, "家具移動 C").await,
        0
    );
    assert_eq!(
        needs_tagged(&coordinator, activation, "家具移動 B").await,
        1
    );
}

async fn keys_belong_to_their_user(app: TestApp) {
    let (coordinator, activation) = centre(&app).await;
    let other = app.user("coord2", Role::Coordinator).await;
    let path = format!("/api/activations/{activation}/needs");
    for (who, session) in [("coord1", &coordinator), ("coord2", &other)] {
        let (status, body, replayed) = session
            .send_keyed(Method::POST, &path, "same-key", &need("見守り D"))
            .await
            .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{who}: {body}");
        assert!(
            !replayed,
            "{who}'s write is their own, not a replay of another's"
        );
    }
    assert_eq!(needs_tagged(&coordinator, activation, "見守り D").await, 2);
}

async fn a_refused_write_leaves_its_key_free(app: TestApp) {
    let (coordinator, activation) = centre(&app).await;
    let path = format!("/api/activations/{activation}/needs");
    // Refused inside the write (no such activation): rolled back, key and all.
    let (status, body, _) = coordinator
        .send_keyed(
            Method::POST,
            "/api/activations/999999/needs",
            "retry-me",
            &need("買い物 E"),
        )
        .await
        .unwrap();
    assert!(status.is_client_error(), "{status} {body}");
    // Refused before the write (a bad field).
    let mut bad = need("買い物 E");
    bad["people_needed"] = json!("three");
    let (status, body, _) = coordinator
        .send_keyed(Method::POST, &path, "retry-me", &bad)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // The corrected request with the same key is applied as new.
    let (status, body, replayed) = coordinator
        .send_keyed(Method::POST, &path, "retry-me", &need("買い物 E"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(!replayed);
    assert_eq!(needs_tagged(&coordinator, activation, "買い物 E").await, 1);
}

async fn a_write_whose_answer_was_lost_is_reported_applied(app: TestApp) {
    let (coordinator, activation) = centre(&app).await;
    let path = format!("/api/activations/{activation}/needs");
    let (status, ..) = coordinator
        .send_keyed(Method::POST, &path, "lost-answer", &need("片付け F"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    // What a process killed between the COMMIT and storing the answer leaves behind.
    on_pool!(&app.store, pool => {
        sqlx::query("UPDATE idempotency_keys SET status = NULL, response = NULL")
            .execute(pool)
            .await
            .unwrap()
            .rows_affected()
    });
    let (status, body, replayed) = coordinator
        .send_keyed(Method::POST, &path, "lost-answer", &need("片付け F"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["code"], "already_applied");
    assert!(replayed);
    assert_eq!(needs_tagged(&coordinator, activation, "片付け F").await, 1);
}

// ---- kill -9 trials ----

/// How many trials: `SAIGAI_CRASH_TRIALS=full` the recorded counts, a number that many, else
/// `short`.
fn trials(full: usize, short: usize) -> usize {
    match std::env::var("SAIGAI_CRASH_TRIALS").as_deref() {
        Ok("full") => full,
        Ok(n) => n.parse().unwrap_or(short),
        Err(_) => short,
    }
}

fn seed() -> u64 {
    std::env::var("SAIGAI_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random)
}

/// The register's rows for the trial: `SAIGAI_CRASH_ROWS`, else 100,000 in a full run and
/// 20,000 in a short one (a debug build imports 100,000 rows in tens of seconds).
fn register_rows() -> usize {
    let full = std::env::var("SAIGAI_CRASH_TRIALS").is_ok_and(|v| v == "full");
    std::env::var("SAIGAI_CRASH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 100_000 } else { 20_000 })
}

/// A digest of the live register (who is on it, with what): equal for two databases exactly
/// when they show the same register.
async fn live_register(store: &Store) -> (usize, String) {
    let rows: Vec<(String, String)> = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT resident_id, fingerprint FROM register_persons \
             WHERE removed_at IS NULL ORDER BY resident_id",
        )
        .fetch_all(pool)
        .await
        .expect("read the register")
    });
    let mut hasher = Sha256::new();
    for (id, fingerprint) in &rows {
        hasher.update(id.as_bytes());
        hasher.update([0]);
        hasher.update(fingerprint.as_bytes());
        hasher.update([1]);
    }
    let digest = hasher.finalize();
    (rows.len(), format!("{digest:x}"))
}

async fn integrity(store: &Store) -> String {
    match store {
        Store::Sqlite(s) => sqlx::query_scalar::<_, String>("PRAGMA integrity_check")
            .fetch_one(&s.pool)
            .await
            .expect("integrity check"),
        // PostgreSQL's own WAL recovery is not ours to test: the import's visibility is.
        Store::Postgres(_) => "ok".to_string(),
    }
}

fn import_command(database: &str, file: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_saigai-vc"));
    command
        .args(["import", "register"])
        .arg(file)
        .args(["--database", database])
        .env("SAIGAI_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

/// Imports `file` to its end, returning how long it took.
async fn import_whole(database: &str, file: &Path) -> Duration {
    let started = Instant::now();
    let status = import_command(database, file)
        .status()
        .await
        .expect("run the import");
    assert!(status.success(), "the import of {} failed", file.display());
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_killed_register_import_leaves_the_old_register_or_the_new_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("trial.db").display());
    import_kill_trials("sqlite", &database, dir.path(), trials(50, 3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_killed_register_import_leaves_the_old_register_or_the_new_one() {
    let Some((database, _guard)) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    import_kill_trials("postgres", &database, dir.path(), trials(50, 2)).await;
}

async fn import_kill_trials(engine: &str, database: &str, dir: &Path, count: usize) {
    let seed = seed();
    let rows = register_rows();
    let mut rng = Rng::new(seed);
    let districts: Vec<String> = ["大倉山", "菊名", "綱島", "日吉"]
        .iter()
        .map(|d| d.to_string())
        .collect();
    // Half the new register's people are on the old one (most changed), half are new, and
    // half the old one's are gone: an import that updates, adds and removes.
    let old_file = dir.join("old.csv");
    let new_file = dir.join("new.csv");
    let old = register_people(seed, rows, &districts, 0.8, "架空市", 1);
    let new = register_people(seed ^ 1, rows, &districts, 0.8, "架空市", rows / 2 + 1);
    std::fs::write(&old_file, register_csv(&old)).expect("write old.csv");
    std::fs::write(&new_file, register_csv(&new)).expect("write new.csv");
    drop((old, new));

    let store = Store::open(database).await.expect("open");
    store.close().await;
    let full_old = import_whole(database, &old_file).await;
    let store = Store::open(database).await.expect("open");
    let old_register = live_register(&store).await;
    store.close().await;
    let full_new = import_whole(database, &new_file).await;
    let store = Store::open(database).await.expect("open");
    let new_register = live_register(&store).await;
    store.close().await;
    assert_eq!(old_register.0, rows, "the whole old register was imported");
    assert_eq!(new_register.0, rows, "the whole new register was imported");
    assert_ne!(old_register.1, new_register.1);
    let longest = full_old.max(full_new).as_millis() as i64;

    let mut showing_new = true;
    let mut tally: HashMap<&str, usize> = HashMap::new();
    let started = Instant::now();
    for trial in 1..=count {
        let (file, target) = if showing_new {
            (&old_file, &old_register)
        } else {
            (&new_file, &new_register)
        };
        // Anywhere in the import, and now and then just after it.
        let delay = Duration::from_millis(rng.between(0, longest * 11 / 10) as u64);
        let mut child = import_command(database, file)
            .spawn()
            .expect("spawn import");
        let finished = tokio::select! {
            status = child.wait() => {
                let status = status.expect("wait");
                assert!(status.success(), "seed {seed}, trial {trial}: the import failed on its own");
                true
            }
            () = tokio::time::sleep(delay) => {
                child.start_kill().expect("kill -9");
                child.wait().await.expect("reaped");
                false
            }
        };
        let store = Store::open(database).await.expect("reopen after kill -9");
        let check = integrity(&store).await;
        let seen = live_register(&store).await;
        store.close().await;
        assert_eq!(
            check, "ok",
            "seed {seed}, trial {trial}: integrity check after kill -9 at {delay:?}"
        );
        let outcome = if seen == *target {
            "new"
        } else if seen == old_register || seen == new_register {
            "old"
        } else {
            panic!(
                "seed {seed}, trial {trial}: kill -9 at {delay:?} left a register of {} people that is neither the old one nor the new one",
                seen.0
            );
        };
        if finished {
            assert_eq!(
                outcome, "new",
                "seed {seed}, trial {trial}: a finished import must show"
            );
        }
        let what = match (finished, outcome) {
            (true, _) => "finished before the kill",
            (false, "new") => "killed after its commit: new register",
            _ => "killed before its commit: old register",
        };
        *tally.entry(what).or_default() += 1;
        eprintln!(
            "crash-trial import {engine} seed={seed} trial={trial} kill_at_ms={} outcome={what}",
            delay.as_millis()
        );
        showing_new ^= outcome == "new";
    }
    eprintln!(
        "crash-trial import {engine} seed={seed} rows={rows} trials={count} full_import_ms={}/{} elapsed_s={:.1} tally={tally:?}",
        full_old.as_millis(),
        full_new.as_millis(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_killed_server_keeps_every_acknowledged_write_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("serve.db").display());
    serve_kill_trials("sqlite", &database, trials(20, 3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_killed_server_keeps_every_acknowledged_write_once() {
    let Some((database, _guard)) = postgres_database().await else {
        return;
    };
    serve_kill_trials("postgres", &database, trials(20, 2)).await;
}

/// Clients writing at once in the trials.
const CLIENTS: usize = 4;

/// One client's writes in one trial: answered, and sent without an answer.
struct Sent {
    acknowledged: Vec<String>,
    unanswered: Vec<String>,
}

fn keyed_need(key: &str, n: usize) -> Value {
    // Each need its own phone and address: duplicate warnings would grow every answer.
    json!({
        "requester_name": "試験 太郎", "phone": format!("045-{:03}-{:04}", n / 10_000, n % 10_000),
        "address": format!("港北区大倉山{n}"), "district": "大倉山", "category": "mud_removal",
        "description": key, "people_needed": 2, "skills_needed": [], "priority": "normal"
    })
}

async fn serve_kill_trials(engine: &str, database: &str, count: usize) {
    let seed = seed();
    let mut rng = Rng::new(seed);
    let store = Store::open(database).await.expect("open");
    for (username, role) in std::iter::once(("admin1".to_string(), Role::Admin))
        .chain((1..=CLIENTS).map(|i| (format!("coord{i}"), Role::Coordinator)))
    {
        users::add(
            &store,
            users::NewUser {
                username: &username,
                role,
                shelter_id: None,
                password: PASSWORD,
            },
        )
        .await
        .expect("add user");
    }
    store.close().await;

    let mut server = ServeProcess::start(database).await;
    let admin = Session::at(server.address).log_in("admin1").await;
    let activation = admin.open_activation("地震対応", "real").await;
    let mut tokens = Vec::new();
    for i in 1..=CLIENTS {
        let session = Session::at(server.address)
            .log_in(&format!("coord{i}"))
            .await;
        tokens.push(session.token.clone().expect("token"));
    }
    let path = format!("/api/activations/{activation}/needs");
    let mut every_key: Vec<String> = Vec::new();
    let mut totals: HashMap<&str, usize> = HashMap::new();
    let started = Instant::now();
    let mut number = 0usize;
    for trial in 1..=count {
        let delay = Duration::from_millis(rng.between(20, 1500) as u64);
        let mut clients = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            let session = Session::at(server.address).with_token(token);
            let path = path.clone();
            let first = number + i * 100_000;
            clients.push(tokio::spawn(async move {
                let mut sent = Sent {
                    acknowledged: vec![],
                    unanswered: vec![],
                };
                // Bounded: the kill comes long before.
                for n in 0..50_000 {
                    let key = format!("t{trial}-c{i}-{n}");
                    match session
                        .send_keyed(Method::POST, &path, &key, &keyed_need(&key, first + n))
                        .await
                    {
                        Ok((StatusCode::CREATED, ..)) => sent.acknowledged.push(key),
                        Ok((status, body, _)) => {
                            panic!("{key}: answered {status} {body} while serving")
                        }
                        Err(_) => {
                            sent.unanswered.push(key);
                            break;
                        }
                    }
                }
                sent
            }));
        }
        number += 1_000_000;
        tokio::time::sleep(delay).await;
        server.kill_9().await;
        let mut sent = Vec::new();
        for client in clients {
            sent.push(
                client
                    .await
                    .unwrap_or_else(|e| panic!("seed {seed}, trial {trial}: client: {e}")),
            );
        }
        server = ServeProcess::start(database).await;
        let mut resent: HashMap<&str, usize> = HashMap::new();
        for (i, client) in sent.iter().enumerate() {
            let session = Session::at(server.address).with_token(&tokens[i]);
            for key in &client.unanswered {
                let n: usize = key.rsplit('-').next().unwrap().parse().unwrap();
                let first = number - 1_000_000 + i * 100_000;
                let (status, body, replayed) = session
                    .send_keyed(Method::POST, &path, key, &keyed_need(key, first + n))
                    .await
                    .unwrap_or_else(|e| panic!("seed {seed}, trial {trial}: resend {key}: {e}"));
                let what = match (status, replayed) {
                    (StatusCode::CREATED, false) => "resend applied it (lost before commit)",
                    (StatusCode::CREATED, true) => "resend replayed the stored answer",
                    (StatusCode::OK, true) if body["code"] == "already_applied" => {
                        "resend told already applied (answer lost)"
                    }
                    _ => panic!(
                        "seed {seed}, trial {trial}: resend of {key} answered {status} {body}"
                    ),
                };
                *resent.entry(what).or_default() += 1;
            }
        }
        let acknowledged: usize = sent.iter().map(|s| s.acknowledged.len()).sum();
        for client in &sent {
            every_key.extend(client.acknowledged.iter().cloned());
            every_key.extend(client.unanswered.iter().cloned());
        }
        // Every write acknowledged or resent is there exactly once, and nothing else is.
        let (status, list) = Session::at(server.address)
            .with_token(admin.token.as_deref().unwrap())
            .get(&path)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let mut seen: HashMap<String, usize> = HashMap::new();
        for need in list.as_array().expect("needs") {
            *seen
                .entry(need["description"].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
        for key in &every_key {
            let times = seen.get(key).copied().unwrap_or(0);
            assert_eq!(
                times, 1,
                "seed {seed}, trial {trial} (kill at {delay:?}): write {key} is there {times} times"
            );
        }
        assert_eq!(
            seen.len(),
            every_key.len(),
            "seed {seed}, trial {trial}: writes that no client sent"
        );
        assert_eq!(
            seen.values().sum::<usize>(),
            every_key.len(),
            "seed {seed}, trial {trial}: a write is there twice"
        );
        eprintln!(
            "crash-trial serve {engine} seed={seed} trial={trial} kill_at_ms={} acknowledged={acknowledged} resends={resent:?}",
            delay.as_millis()
        );
        for (what, n) in resent {
            *totals.entry(what).or_default() += n;
        }
        *totals.entry("acknowledged before the kill").or_default() += acknowledged;
    }
    server.kill_9().await;
    eprintln!(
        "crash-trial serve {engine} seed={seed} trials={count} writes={} elapsed_s={:.1} totals={totals:?}",
        every_key.len(),
        started.elapsed().as_secs_f64()
    );
}
