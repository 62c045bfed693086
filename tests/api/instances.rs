//! Several `saigai-vc serve` processes on one PostgreSQL database act as one system: a change
//! made through either reaches the terminals of both, in `seq` order, with no gap or
//! duplicate; and a PostgreSQL restart in the middle of writes loses no acknowledged write
//! while the terminals catch up on their own.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use saigai_vc::auth::{Role, users};
use serde_json::json;
use tokio::sync::watch;

use crate::helpers::{
    PASSWORD, PATIENCE, Received, ServeProcess, Session, postgres_database, skip,
};

/// A server process of our own on `database`.
struct Instance(ServeProcess);

impl Instance {
    async fn start(database: &str) -> Instance {
        Instance(ServeProcess::start(database).await)
    }

    async fn admin(&self) -> Session {
        Session::at(self.0.address).log_in("admin1").await
    }
}

/// Adds the test's users before any instance starts (so none makes a first admin).
async fn add_admin(database: &str) {
    let store = saigai_vc::Store::open(database).await.expect("open");
    users::add(
        &store,
        users::NewUser {
            username: "admin1",
            role: Role::Admin,
            shelter_id: None,
            password: PASSWORD,
        },
    )
    .await
    .expect("add admin");
    store.close().await;
}

/// What a terminal saw: every event's (seq, type, data) after its first snapshot, checked to
/// follow on one by one. It reconnects with `since` whenever its socket or server drops, as
/// the web page does, until it has reached `target`.
async fn watch_board(
    session: Session,
    activation: i64,
    mut target: watch::Receiver<i64>,
    ready: tokio::sync::oneshot::Sender<()>,
) -> Vec<(i64, String, String)> {
    let mut seen = Vec::new();
    let mut last: Option<i64> = None;
    let mut ready = Some(ready);
    loop {
        if last.is_some_and(|l| l >= *target.borrow()) {
            return seen;
        }
        let terminal = session.board_with(activation, last, None).await;
        let Ok(mut terminal) = terminal else {
            // The instance cannot reach its database yet: try again shortly.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        loop {
            if last.is_some_and(|l| l >= *target.borrow()) {
                return seen;
            }
            let message = tokio::select! {
                message = terminal.next_received() => message,
                _ = target.changed() => continue,
            };
            let Received::Json(message) = message else {
                break;
            };
            let seq = message["seq"].as_i64().expect("seq");
            if message["type"] == "snapshot" {
                assert!(
                    last.is_none() || last == Some(seq),
                    "a terminal resuming from {last:?} was given a snapshot at {seq}: events were dropped"
                );
                last = Some(seq);
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
            } else {
                let expected = last.expect("a snapshot first") + 1;
                assert_eq!(seq, expected, "an event out of order, lost or doubled");
                last = Some(seq);
                seen.push((
                    seq,
                    message["type"].as_str().unwrap().to_string(),
                    message["data"].to_string(),
                ));
            }
        }
    }
}

async fn last_seq(session: &Session, activation: i64) -> i64 {
    let (status, body) = session.get(&format!("/api/activations/{activation}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["last_seq"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_two_instances_reach_the_terminals_of_both_in_the_same_order() {
    let Some((database, _guard)) = postgres_database().await else {
        return;
    };
    add_admin(&database).await;
    let (a, b) = tokio::join!(Instance::start(&database), Instance::start(&database));
    let (admin_a, admin_b) = (a.admin().await, b.admin().await);
    let activation = admin_a.open_activation("二つの拠点", "real").await;

    let (target_tx, target) = watch::channel(i64::MAX);
    let (ready_a, ready_a_rx) = tokio::sync::oneshot::channel();
    let (ready_b, ready_b_rx) = tokio::sync::oneshot::channel();
    let terminal_a = tokio::spawn(watch_board(
        admin_a.clone(),
        activation,
        target.clone(),
        ready_a,
    ));
    let terminal_b = tokio::spawn(watch_board(admin_b.clone(), activation, target, ready_b));
    ready_a_rx.await.unwrap();
    ready_b_rx.await.unwrap();

    // Two writers, one per instance, at the same time.
    let write = |session: Session, tag: &'static str| async move {
        for i in 0..15 {
            session.announce(activation, &format!("{tag}-{i}")).await;
        }
    };
    tokio::join!(write(admin_a.clone(), "a"), write(admin_b.clone(), "b"));
    let last = last_seq(&admin_a, activation).await;
    target_tx.send(last).unwrap();
    let seen_a = terminal_a.await.unwrap();
    let seen_b = terminal_b.await.unwrap();
    assert_eq!(
        seen_a, seen_b,
        "both terminals saw the same events in the same order"
    );
    let announced = seen_a
        .iter()
        .filter(|(_, kind, _)| kind == "announcement_posted")
        .count();
    assert_eq!(announced, 30);
    assert_eq!(seen_a.last().unwrap().0, last);
}

/// A PostgreSQL server of the test's own, so it can be restarted without disturbing others.
struct LocalPostgres {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
}

impl LocalPostgres {
    /// Runs a PostgreSQL tool, as the `postgres` user when we are root (PostgreSQL refuses
    /// to run as root).
    fn command(&self, tool: &str) -> std::process::Command {
        command_as_postgres(&self.bin.join(tool))
    }

    fn start() -> Option<LocalPostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()?;
        let data = tempfile::tempdir().expect("temp dir");
        if is_root() {
            let status = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(data.path())
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = LocalPostgres { bin, data, port };
        let output = pg
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(pg.dir())
            .output()
            .expect("initdb");
        assert!(output.status.success(), "initdb: {output:?}");
        pg.ctl(&["start"]);
        Some(pg)
    }

    fn dir(&self) -> &Path {
        self.data.path()
    }

    /// pg_ctl with `-w`: returns once the server accepts connections (or has stopped).
    fn ctl(&self, args: &[&str]) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir().display()
        );
        let output = self
            .command("pg_ctl")
            .args(args)
            .args(["-w", "-D"])
            .arg(self.dir())
            .args(["-o", &options, "-l"])
            .arg(self.dir().join("log"))
            .output()
            .expect("pg_ctl");
        assert!(output.status.success(), "pg_ctl {args:?}: {output:?}");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.dir())
            .output();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn command_as_postgres(program: &Path) -> std::process::Command {
    if is_root() {
        let mut command = std::process::Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        std::process::Command::new(program)
    }
}

/// Posts announcements through the instances in turn until told to stop, retrying what is
/// refused; returns the texts that were acknowledged (201) and how many answers were 503.
async fn write_until_stopped(
    sessions: Vec<Session>,
    activation: i64,
    acknowledged: watch::Sender<Vec<String>>,
    mut stop: watch::Receiver<bool>,
) -> usize {
    let mut unavailable = 0;
    for n in 0.. {
        if *stop.borrow() {
            break;
        }
        let session = &sessions[n % sessions.len()];
        let text = format!("書き込み {n}");
        let path = format!("/api/activations/{activation}/announcements");
        let request = session.post(&path, json!({ "text": text }));
        let (status, _) = tokio::select! {
            answer = request => answer,
            _ = stop.changed() => break,
        };
        match status {
            StatusCode::CREATED => acknowledged.send_modify(|list| list.push(text)),
            StatusCode::SERVICE_UNAVAILABLE => {
                unavailable += 1;
                // A client backing off as Retry-After asks, briefly.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("a write answered {other}"),
        }
    }
    unavailable
}

/// Waits until `count` more writes than `from` are acknowledged; the time it took.
async fn acknowledged_more(
    acks: &mut watch::Receiver<Vec<String>>,
    from: usize,
    count: usize,
) -> Duration {
    let started = Instant::now();
    tokio::time::timeout(PATIENCE, acks.wait_for(|list| list.len() >= from + count))
        .await
        .expect("writes resume within the patience limit")
        .expect("writer alive");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_mid_writes_loses_no_acknowledged_write_and_terminals_catch_up() {
    if std::env::var("SAIGAI_TEST_POSTGRES_URL").is_err() {
        skip(
            "PostgreSQL restart test",
            "SAIGAI_TEST_POSTGRES_URL is not set",
        );
        return;
    }
    let Some(pg) = LocalPostgres::start() else {
        skip(
            "PostgreSQL restart test",
            "no PostgreSQL server binaries under /usr/lib/postgresql",
        );
        return;
    };
    let database = pg.url();
    add_admin(&database).await;
    let (a, b) = tokio::join!(Instance::start(&database), Instance::start(&database));
    let (admin_a, admin_b) = (a.admin().await, b.admin().await);
    let activation = admin_a.open_activation("再起動の訓練", "drill").await;

    let (target_tx, target) = watch::channel(i64::MAX);
    let (ready_a, ready_a_rx) = tokio::sync::oneshot::channel();
    let (ready_b, ready_b_rx) = tokio::sync::oneshot::channel();
    let terminal_a = tokio::spawn(watch_board(
        admin_a.clone(),
        activation,
        target.clone(),
        ready_a,
    ));
    let terminal_b = tokio::spawn(watch_board(admin_b.clone(), activation, target, ready_b));
    ready_a_rx.await.unwrap();
    ready_b_rx.await.unwrap();

    let (acks_tx, mut acks) = watch::channel(Vec::new());
    let (stop_tx, stop) = watch::channel(false);
    let writer = tokio::spawn(write_until_stopped(
        vec![admin_a.clone(), admin_b.clone()],
        activation,
        acks_tx,
        stop,
    ));
    acknowledged_more(&mut acks, 0, 20).await;
    let mut recovery = Vec::new();
    for mode in ["fast", "immediate"] {
        let before = acks.borrow().len();
        tokio::task::block_in_place(|| pg.ctl(&["restart", "-m", mode]));
        // From the database being ready again to writes going through both instances.
        let took = acknowledged_more(&mut acks, before, 10).await;
        recovery.push((mode, took));
    }
    // While the database is down, a write is refused at once with 503 and Retry-After.
    tokio::task::block_in_place(|| pg.ctl(&["stop", "-m", "fast"]));
    for session in [&admin_a, &admin_b] {
        let answer = session
            .post_response(
                &format!("/api/activations/{activation}/announcements"),
                json!({ "text": "停止中の書き込み" }),
            )
            .await;
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(answer.headers().contains_key("retry-after"));
    }
    let before = acks.borrow().len();
    tokio::task::block_in_place(|| pg.ctl(&["start"]));
    let took = acknowledged_more(&mut acks, before, 10).await;
    recovery.push(("stop-start", took));
    stop_tx.send(true).unwrap();
    let unavailable = writer.await.unwrap();
    assert!(unavailable > 0, "the writer saw the outage");
    eprintln!(
        "PostgreSQL restarts: writes resumed after {recovery:?}; {unavailable} answers were 503"
    );

    let acknowledged = acks.borrow().clone();
    let (status, stored) = admin_b
        .get(&format!("/api/activations/{activation}/announcements"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let stored: Vec<&str> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["text"].as_str().unwrap())
        .collect();
    for text in &acknowledged {
        assert!(
            stored.contains(&text.as_str()),
            "acknowledged write {text} was lost"
        );
    }
    let last = last_seq(&admin_a, activation).await;
    target_tx.send(last).unwrap();
    let seen_a = terminal_a.await.unwrap();
    let seen_b = terminal_b.await.unwrap();
    assert_eq!(seen_a, seen_b);
    assert_eq!(seen_a.last().unwrap().0, last);
}
