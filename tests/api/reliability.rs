//! Reliability and security (issue 8), the parts built so far: login limits behind a proxy
//! and over time, a login flood beside the board's traffic, a backup taken while writers write,
//! a full disk, and bodies past the limit. Figures measured here are printed (run with
//! `--nocapture`) and recorded in RELIABILITY.md; nothing here asserts how fast.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use saigai_vc::auth::limits::LoginLimits;
use saigai_vc::{Settings, Store};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use crate::helpers::{
    Backend, PASSWORD, PATIENCE, Session, TestApp, TestDatabase, attempt, postgres_database, skip,
    test_settings,
};

const BINARY: &str = env!("CARGO_BIN_EXE_saigai-vc");

crate::helpers::for_each_backend!(
    behind_a_trusted_proxy_each_forwarded_client_is_counted_apart,
    after_the_window_a_locked_account_logs_in_again,
    a_login_flood_leaves_health_checks_and_reads_answering,
    a_backup_taken_while_writing_holds_every_acknowledged_write,
    a_body_declared_past_the_limit_is_refused_413_before_it_is_sent,
    a_full_disk_answers_507_keeps_its_data_and_writes_again_once_space_is_freed,
);

async fn behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(backend: Backend) {
    let settings = Settings {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        login_limits: LoginLimits {
            per_address: 3,
            ..LoginLimits::default()
        },
        ..test_settings()
    };
    let Some(app) = TestApp::spawn_with(backend, settings, None).await else {
        return;
    };
    app.user("mori", Role::Coordinator).await;
    // nginx appends the address it saw; whatever the client wrote before that is not believed.
    for n in 0..3 {
        let (status, _, _) = attempt(
            &app,
            &format!("ghost{n}"),
            "wrong password",
            Some("10.9.9.9, 203.0.113.5"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "failure {n}");
    }
    let (status, body, _) = attempt(&app, "mori", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the client at 203.0.113.5 used up its failures: {body}"
    );
    let (status, body, _) = attempt(&app, "mori", PASSWORD, Some("10.9.9.9, 203.0.113.6")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another client behind the same proxy logs in: {body}"
    );
}

async fn after_the_window_a_locked_account_logs_in_again(backend: Backend) {
    let settings = Settings {
        login_limits: LoginLimits {
            per_account: 2,
            window: Duration::from_secs(1),
            ..LoginLimits::default()
        },
        ..test_settings()
    };
    let Some(app) = TestApp::spawn_with(backend, settings, None).await else {
        return;
    };
    app.user("ishii", Role::Coordinator).await;
    for _ in 0..2 {
        assert_eq!(
            attempt(&app, "ishii", "wrong password", None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked_at = Instant::now();
    let (status, body, retry_after) = attempt(&app, "ishii", PASSWORD, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(retry_after, Some(1), "the window is one second: {body}");
    // Poll as a patient person would; refused attempts do not lengthen the lock.
    let mut refused = 1;
    loop {
        let (status, body, _) = attempt(&app, "ishii", PASSWORD, None).await;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        refused += 1;
        assert!(
            locked_at.elapsed() < PATIENCE,
            "still locked after {:?}",
            locked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused >= 1);
}

async fn a_login_flood_leaves_health_checks_and_reads_answering(backend: Backend) {
    // The flood comes from one address; this test is about hashing, not counting, so the
    // address limit is out of the way.
    let settings = Settings {
        login_limits: LoginLimits {
            per_address: i64::MAX,
            ..LoginLimits::default()
        },
        ..test_settings()
    };
    let Some(app) = TestApp::spawn_with(backend, settings, None).await else {
        return;
    };
    let app = Arc::new(app);
    let reader = app.user("reader", Role::Coordinator).await;
    let quiet = health_and_reads(&app, &reader).await;
    let stop = Arc::new(AtomicBool::new(false));
    let flood_started = Instant::now();
    let (answered_tx, mut answered) = watch::channel(0usize);
    let answered_tx = Arc::new(answered_tx);
    let flooders: Vec<_> = (0..48)
        .map(|worker| {
            let (app, stop, answered_tx) = (app.clone(), stop.clone(), answered_tx.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    // A new (unknown) account each time: no account limit is ever reached.
                    let username = format!("flood-{worker}-{n}");
                    let (status, _, retry_after) =
                        attempt(&app, &username, "wrong password", None).await;
                    seen.push((status, retry_after));
                    answered_tx.send_modify(|count| *count += 1);
                    n += 1;
                }
                seen
            })
        })
        .collect();
    tokio::time::timeout(PATIENCE, answered.wait_for(|&count| count >= 50))
        .await
        .expect("the flood is answered")
        .unwrap();

    let flooded = health_and_reads(&app, &reader).await;
    let flood_running = *answered.borrow();
    stop.store(true, Ordering::Relaxed);
    let mut seen = Vec::new();
    for flooder in flooders {
        seen.extend(flooder.await.unwrap());
    }
    let flood_took = flood_started.elapsed();
    let busy = seen
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    for (status, retry_after) in &seen {
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(status),
            "a flooded login answered {status}"
        );
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after.is_some(), "a 503 says when to retry");
        }
    }
    assert!(
        busy > 0,
        "48 logins at once overflow the hasher's queue and are told to retry"
    );
    eprintln!(
        "login flood ({backend:?}, 48 clients, {flood_took:?}): {} answers, {} passwords \
         checked, {busy} told 503 busy ({flood_running} answered when the checks ended); \
         without the flood: {quiet}; during it: {flooded}",
        seen.len(),
        seen.len() - busy,
    );
}

/// Ten `/healthz` and ten authenticated reads, each of which must answer 200; their median
/// and slowest times, in words.
async fn health_and_reads(app: &TestApp, reader: &Session) -> String {
    let mut health = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let (status, body) = tokio::time::timeout(PATIENCE, app.anonymous().get("/healthz"))
            .await
            .expect("/healthz answers");
        assert_eq!(status, StatusCode::OK, "{body}");
        health.push(started.elapsed());
        let started = Instant::now();
        let (status, body) = tokio::time::timeout(PATIENCE, reader.get("/api/activations"))
            .await
            .expect("an authenticated read answers");
        assert_eq!(status, StatusCode::OK, "{body}");
        reads.push(started.elapsed());
    }
    health.sort();
    reads.sort();
    format!(
        "/healthz median {:?} max {:?}, GET /api/activations median {:?} max {:?}",
        health[5], health[9], reads[5], reads[9]
    )
}

/// Runs the `saigai-vc` binary: (success, stdout + stderr).
async fn saigai(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut command = tokio::process::Command::new(BINARY);
    command
        .args(args)
        .env("SAIGAI_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = tokio::time::timeout(PATIENCE * 4, command.output())
        .await
        .expect("finishes")
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Whether a program is on the PATH.
fn installed(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const REGISTER_HEADER: &str =
    "宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,要介護度,障害,情報提供同意,備考\r\n";

/// A register of `count` made-up people, resident ids 500001 onwards.
fn register_csv(count: usize) -> Vec<u8> {
    let mut csv = REGISTER_HEADER.to_string();
    for n in 1..=count {
        csv.push_str(&format!(
            "{},試験 太郎{n},シケン タロウ,1950/1/1,男,横浜市港北区大倉山{n}-1,045-000-0001,大倉山,,,同意,\r\n",
            500_000 + n
        ));
    }
    csv.into_bytes()
}

/// Posts announcements until stopped, reading the audited register export every fifth time
/// so the audit chain grows too; the texts acknowledged (201), in order.
async fn write_until_stopped(
    admin: Session,
    activation: i64,
    acknowledged: watch::Sender<Vec<String>>,
    stop: Arc<AtomicBool>,
) {
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let text = format!("書き込み {n}");
        let (status, body) = admin
            .post(
                &format!("/api/activations/{activation}/announcements"),
                json!({ "text": text }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "write {n}: {body}");
        acknowledged.send_modify(|list| list.push(text));
        if n % 5 == 0 {
            admin.get_bytes("/api/register/export").await;
        }
    }
}

async fn announcement_texts(store: &Store) -> Vec<String> {
    saigai_vc::store::on_pool!(store, pool => {
        sqlx::query_scalar("SELECT text FROM announcements ORDER BY id")
            .fetch_all(pool)
            .await
            .expect("read announcements")
    })
}

async fn a_backup_taken_while_writing_holds_every_acknowledged_write(backend: Backend) {
    if backend == Backend::Postgres && !(installed("pg_dump") && installed("pg_restore")) {
        skip(
            "PostgreSQL backup test",
            "pg_dump and pg_restore are not installed",
        );
        return;
    }
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("バックアップの訓練", "drill").await;
    let (status, report) = admin
        .post_bytes("/api/register/imports", register_csv(3))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");

    let (acks_tx, mut acks) = watch::channel(Vec::new());
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_until_stopped(
        admin.clone(),
        activation,
        acks_tx,
        stop.clone(),
    ));
    let wait_for = |acks: &mut watch::Receiver<Vec<String>>, count: usize| {
        let mut acks = acks.clone();
        async move {
            tokio::time::timeout(PATIENCE, acks.wait_for(|list| list.len() >= count))
                .await
                .expect("the writer keeps writing")
                .unwrap()
                .len()
        }
    };
    wait_for(&mut acks, 20).await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("saigai-backup");
    let before = acks.borrow().clone();
    let started = Instant::now();
    let (ok, output) = saigai(
        &[
            "backup",
            file.to_str().unwrap(),
            "--database",
            &app.database_url,
        ],
        &[],
    )
    .await;
    let took = started.elapsed();
    assert!(ok, "backup: {output}");
    assert!(output.contains("backup written"), "{output}");
    let during = acks.borrow().len() - before.len();
    // The server kept serving: writes go on after the backup too.
    let so_far = acks.borrow().len();
    wait_for(&mut acks, so_far + 10).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    // A backup never overwrites: a second one to the same name is refused, the first intact.
    let first = std::fs::read(&file).unwrap();
    let (ok, output) = saigai(
        &[
            "backup",
            file.to_str().unwrap(),
            "--database",
            &app.database_url,
        ],
        &[],
    )
    .await;
    assert!(!ok, "a second backup to the same file is refused: {output}");
    assert!(output.contains("exists"), "{output}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        first,
        "the first backup is untouched"
    );

    // Restore it as the documentation says, then check it as an administrator would.
    let (restored_url, _restored) = match backend {
        Backend::Sqlite => {
            let copy = Path::new(&file);
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(
                &sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(copy)
                    .read_only(true),
            )
            .await
            .expect("the backup opens");
            let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(check, "ok", "PRAGMA integrity_check of the backup");
            drop(conn);
            let restored = dir.path().join("restored.db");
            std::fs::copy(copy, &restored).unwrap();
            (format!("sqlite://{}", restored.display()), None)
        }
        Backend::Postgres => {
            let (url, database) = postgres_database().await.expect("configured");
            let output = tokio::process::Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--dbname", &url])
                .arg(&file)
                .output()
                .await
                .unwrap();
            assert!(
                output.status.success(),
                "pg_restore: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            (url, Some(database))
        }
    };
    let (ok, output) = saigai(&["audit", "verify", "--database", &restored_url], &[]).await;
    assert!(
        ok && output.contains("intact"),
        "audit verify on the backup: {output}"
    );
    let restored = Store::open(&restored_url).await.expect("the backup opens");
    let audited: i64 = saigai_vc::store::on_pool!(&restored, pool => {
        sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(pool).await.unwrap()
    });
    assert!(audited > 0, "the audit log came along");
    let texts = announcement_texts(&restored).await;
    for text in &before {
        assert!(
            texts.contains(text),
            "{text}, acknowledged before the backup began, is in it"
        );
    }
    restored.close().await;
    eprintln!(
        "backup ({backend:?}) while writing: {took:?}, {} bytes; {} writes acknowledged before, \
         {during} during it, {} in the backup",
        first.len(),
        before.len(),
        texts.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_backup_without_pg_dump_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump");
    let (ok, output) = saigai(
        &[
            "backup",
            file.to_str().unwrap(),
            "--database",
            "postgres://saigai@127.0.0.1:1/saigai",
        ],
        &[("PATH", "/nonexistent")],
    )
    .await;
    assert!(!ok, "{output}");
    assert!(output.contains("pg_dump is not installed"), "{output}");
    assert!(!file.exists(), "no file that looks like a backup");
}

async fn a_body_declared_past_the_limit_is_refused_413_before_it_is_sent(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let admin = app.user("admin1", Role::Admin).await;
    let token = admin.token.clone().unwrap();
    // Only the headers are sent: a server that waited for the body would never answer.
    for (path, declared, limit) in [
        ("/api/register/imports", 300_000_000u64, 256 * 1024 * 1024),
        ("/api/activations", 5_000_000, 1024 * 1024),
    ] {
        let (status, body) = headers_only(&app, path, &token, declared).await;
        assert_eq!(
            status, 413,
            "POST {path} declaring {declared} bytes: {body}"
        );
        assert_eq!(body["error"], "too_large", "{body}");
        assert_eq!(body["limit"], limit, "{body}");
    }
    // A body that declares nothing (chunked) is refused once it passes the limit. It stops
    // 16 bytes past it and waits: the server has then read all that was sent, so its answer
    // cannot be lost to a reset of a connection closed with unread data.
    let mut chunked = Vec::new();
    for size in std::iter::repeat_n(64 * 1024, 16).chain([16]) {
        chunked.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        chunked.extend(std::iter::repeat_n(b' ', size));
        chunked.extend_from_slice(b"\r\n");
    }
    let (status, body) = raw_post(
        &app,
        "/api/activations",
        &token,
        "Transfer-Encoding: chunked",
        &chunked,
    )
    .await;
    assert_eq!(status, 413, "a chunked body past 1 MiB: {body}");
    assert_eq!(body["error"], "too_large", "{body}");
    let (status, _) = app.anonymous().get("/healthz").await;
    assert_eq!(status, StatusCode::OK, "the server serves on");
}

/// Sends a POST's headers declaring `declared` bytes of body, and none of the body; the status
/// and JSON body of the answer.
async fn headers_only(app: &TestApp, path: &str, token: &str, declared: u64) -> (u16, Value) {
    let length = format!("Content-Length: {declared}");
    raw_post(app, path, token, &length, b"").await
}

/// Sends a POST by hand, with `framing` (its length header) and `sent` (what is sent of its
/// body, which may be less than declared), then reads the answer without sending more.
async fn raw_post(
    app: &TestApp,
    path: &str,
    token: &str,
    framing: &str,
    sent: &[u8],
) -> (u16, Value) {
    let mut socket = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\n{framing}\r\n\r\n",
        app.address
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(sent).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        loop {
            let n = socket.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("answered without the body being sent");
    let text = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A tmpfs of its own, so the test can fill it; unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: u64) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match output {
            Ok(o) if o.status.success() => Some(SmallDisk { dir }),
            Ok(o) => {
                skip(
                    "disk-full test",
                    &format!(
                        "cannot mount a tmpfs: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ),
                );
                None
            }
            Err(e) => {
                skip("disk-full test", &format!("cannot run mount: {e}"));
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk to the last byte with a file; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut filler = std::fs::File::create(&path).unwrap();
        for size in [1 << 20, 4096, 1] {
            let block = vec![0u8; size];
            while filler.write_all(&block).is_ok() {}
        }
        let _ = filler.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: a server still closing its files must not keep the test's disk mounted.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The engine's own integrity check: "ok" or what it found. SQLite: `PRAGMA
/// integrity_check`. PostgreSQL: amcheck over every table (`verify_heapam`) and B-tree index
/// (`bt_index_check`) of the schema; `prepare_integrity` must have created the extension.
async fn integrity(store: &Store) -> String {
    match store {
        Store::Sqlite(s) => sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&s.pool)
            .await
            .expect("integrity check runs"),
        Store::Postgres(s) => {
            let corrupt: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'public' AND c.relkind = 'r' \
                 AND EXISTS (SELECT 1 FROM verify_heapam(c.oid))",
            )
            .fetch_one(&s.pool)
            .await
            .expect("verify_heapam runs");
            // Raises an error on the first broken index.
            sqlx::query(
                "SELECT bt_index_check(c.oid) FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam \
                 WHERE n.nspname = 'public' AND c.relkind = 'i' AND a.amname = 'btree'",
            )
            .fetch_all(&s.pool)
            .await
            .expect("every index passes bt_index_check");
            if corrupt == 0 {
                "ok".to_string()
            } else {
                format!("{corrupt} tables fail verify_heapam")
            }
        }
    }
}

/// Creates what `integrity` needs, while there is still room to.
async fn prepare_integrity(store: &Store) {
    if let Store::Postgres(s) = store {
        sqlx::query("CREATE EXTENSION IF NOT EXISTS amcheck")
            .execute(&s.pool)
            .await
            .expect("amcheck (PostgreSQL contrib) is available");
    }
}

/// A PostgreSQL database whose every file lives on `disk`: a tablespace there, and the
/// database created in it. `None` (skipped) where PostgreSQL is not configured or cannot
/// reach the disk (a server on another machine).
async fn postgres_database_on(disk: &SmallDisk) -> Option<(String, TestDatabase, Tablespace)> {
    let Ok(admin_url) = std::env::var("SAIGAI_TEST_POSTGRES_URL") else {
        skip(
            "PostgreSQL disk-full test",
            "SAIGAI_TEST_POSTGRES_URL is not set",
        );
        return None;
    };
    let chown = std::process::Command::new("chown")
        .args(["postgres:postgres"])
        .arg(disk.path())
        .status();
    if !chown.is_ok_and(|s| s.success()) {
        skip(
            "PostgreSQL disk-full test",
            "cannot give the tmpfs to the postgres user",
        );
        return None;
    }
    let suffix: u64 = rand::random();
    let (tablespace, name) = (
        format!("saigai_small_{suffix:016x}"),
        format!("saigai_test_{suffix:016x}"),
    );
    let pool = sqlx::PgPool::connect(&admin_url).await.expect("connect");
    let created = sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLESPACE {tablespace} LOCATION '{}'",
        disk.path().display()
    )))
    .execute(&pool)
    .await;
    if let Err(e) = created {
        skip(
            "PostgreSQL disk-full test",
            &format!(
                "cannot create a tablespace on the tmpfs (is PostgreSQL on this machine?): {e}"
            ),
        );
        return None;
    }
    let guard = Tablespace {
        admin_url: admin_url.clone(),
        name: tablespace.clone(),
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{name}\" TABLESPACE {tablespace}"
    )))
    .execute(&pool)
    .await
    .expect("create the database on the tmpfs");
    pool.close().await;
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&name);
    Some((
        url.to_string(),
        TestDatabase::Postgres { admin_url, name },
        guard,
    ))
}

/// Drops the test's tablespace (after its database is dropped).
struct Tablespace {
    admin_url: String,
    name: String,
}

impl Drop for Tablespace {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let pool = sqlx::PgPool::connect(&url).await.ok()?;
                let sql = format!("DROP TABLESPACE IF EXISTS {name}");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

async fn register_count(store: &Store) -> i64 {
    saigai_vc::store::on_pool!(store, pool => {
        sqlx::query_scalar("SELECT count(*) FROM register_persons").fetch_one(pool).await.unwrap()
    })
}

async fn a_full_disk_answers_507_keeps_its_data_and_writes_again_once_space_is_freed(
    backend: Backend,
) {
    // PostgreSQL's new database copies its template (about 8 MB) onto the disk first.
    let Some(disk) = SmallDisk::mount(32 * 1024 * 1024) else {
        return;
    };
    let (url, database, _tablespace) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", disk.path().join("saigai.db").display()),
            TestDatabase::Sqlite(tempfile::tempdir().unwrap()),
            None,
        ),
        Backend::Postgres => {
            let Some((url, database, tablespace)) = postgres_database_on(&disk).await else {
                return;
            };
            (url, database, Some(tablespace))
        }
    };
    let mut app = TestApp::spawn_on(url, database, test_settings(), None).await;
    prepare_integrity(&app.store).await;
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("満杯の訓練", "drill").await;
    let announce = format!("/api/activations/{activation}/announcements");
    let (status, report) = admin
        .post_bytes("/api/register/imports", register_csv(3))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let mut acknowledged = Vec::new();
    let (status, _) = admin.post(&announce, json!({ "text": "満杯の前" })).await;
    assert_eq!(status, StatusCode::CREATED);
    acknowledged.push("満杯の前".to_string());

    // Fill the disk; write until a write is refused: the first that needs a new page (SQLite
    // appends each commit to its WAL; PostgreSQL fills the table's last page first).
    let filler = disk.fill();
    let mut refused = None;
    for n in 0..2000 {
        let text = format!("満杯 {n}");
        let response = admin
            .post_response(&announce, json!({ "text": text }))
            .await;
        match response.status() {
            StatusCode::CREATED => acknowledged.push(text),
            StatusCode::INSUFFICIENT_STORAGE => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"], "disk_full", "{body}");
                refused = Some(text);
                break;
            }
            other => panic!("a write on a full disk answered {other}"),
        }
    }
    let refused = refused.expect("a write on a full disk is refused with 507");
    // Mid-dispatch: a need taken at the desk is refused the same way, and nothing of it kept.
    let needs = format!("/api/activations/{activation}/needs");
    let need = |requester: &str| {
        json!({ "requester_name": requester, "address": "架空市北町1-1", "category": "mud_removal",
                "people_needed": 2 })
    };
    let mut needs_acknowledged = Vec::new();
    let mut need_refused = None;
    for n in 0..2000 {
        let requester = format!("満杯 依頼者{n}");
        let response = admin.post_response(&needs, need(&requester)).await;
        match response.status() {
            StatusCode::CREATED => needs_acknowledged.push(requester),
            StatusCode::INSUFFICIENT_STORAGE => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"], "disk_full", "{body}");
                need_refused = Some(requester);
                break;
            }
            other => panic!("a need taken on a full disk answered {other}"),
        }
    }
    let need_refused = need_refused.expect("a need taken on a full disk is refused with 507");
    // The server keeps running and reading.
    assert_eq!(app.anonymous().get("/healthz").await.0, StatusCode::OK);
    let (status, listed) = admin.get(&announce).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !listed.to_string().contains(&refused),
        "nothing of the refused write is visible"
    );
    assert_eq!(integrity(&app.store).await, "ok");

    // Mid-import: a little room, not enough for the file. The register stays as it was.
    let room = 192 * 1024;
    let filler_file = std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap();
    filler_file
        .set_len(filler_file.metadata().unwrap().len() - room)
        .unwrap();
    let big = register_csv(4000);
    let (status, body) = admin.post_bytes("/api/register/imports", big.clone()).await;
    assert_eq!(
        status,
        StatusCode::INSUFFICIENT_STORAGE,
        "an import that fills the disk: {body}"
    );
    assert_eq!(body["error"], "disk_full", "{body}");
    assert_eq!(
        register_count(&app.store).await,
        3,
        "the register is as it was"
    );
    assert_eq!(integrity(&app.store).await, "ok");

    // Space is freed: the same requests now succeed, without a restart.
    drop(filler_file);
    std::fs::remove_file(&filler).unwrap();
    let (status, body) = admin.post(&announce, json!({ "text": refused })).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the refused write, again: {body}"
    );
    acknowledged.push(refused.clone());
    let (status, body) = admin.post(&needs, need(&need_refused)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the refused need, again: {body}"
    );
    needs_acknowledged.push(need_refused);
    let (status, listed) = admin.get(&needs).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let mut requesters: Vec<String> = listed
        .as_array()
        .expect("a list of needs")
        .iter()
        .map(|n| n["requester_name"].as_str().unwrap_or_default().to_string())
        .collect();
    requesters.sort();
    needs_acknowledged.sort();
    assert_eq!(
        requesters, needs_acknowledged,
        "every acknowledged need, once each, and nothing of the refused one until it was sent again"
    );
    let (status, report) = admin.post_bytes("/api/register/imports", big).await;
    assert_eq!(status, StatusCode::OK, "the import, again: {report}");
    assert_eq!(register_count(&app.store).await, 4000);
    assert_eq!(integrity(&app.store).await, "ok");
    let texts = announcement_texts(&app.store).await;
    assert_eq!(
        texts, acknowledged,
        "every acknowledged write, once each, and nothing else"
    );
    // Dropped in turn: the server, its database, the tablespace, then the disk.
    app.shut_down().await;
}
