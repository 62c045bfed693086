//! The `saigai-vc` binary as the README uses it: `serve --demo` on a fresh database prints
//! how to log in and serves the demo drill; `user add` creates accounts; SIGTERM shuts down
//! cleanly.

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use saigai_vc::auth::Role;

use crate::helpers::{PATIENCE, TestApp};

const BINARY: &str = env!("CARGO_BIN_EXE_saigai-vc");

/// Runs a one-off command with `stdin` as its standard input: (success, stdout + stderr).
async fn run(args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .env("SAIGAI_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run saigai-vc");
    // A command refused by its arguments exits before reading: a closed pipe is fine.
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .await;
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("finishes")
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_on_a_fresh_database_prints_the_admin_login_and_serves_the_demo_drill() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!(
        "sqlite://{}",
        dir.path().join("data/saigai-vc.db").display()
    );
    let mut server = Command::new(BINARY)
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &database,
        ])
        .env("SAIGAI_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    // Read what a person would read: the URL to open and the admin password.
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let (mut url, mut password) = (None, None);
    tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                url = Some(u.trim_end_matches('/').to_string());
            }
            if line.contains("password:") {
                password = line.split_whitespace().last().map(String::from);
            }
            if url.is_some() && line.contains("demo drill") {
                break;
            }
        }
    })
    .await
    .expect("the server prints its welcome");
    let url = url.expect("a URL to open");
    let password = password.expect("the first admin password");

    let client = reqwest::Client::new();
    let login = client
        .post(format!("{url}/api/login"))
        .json(&json!({ "username": "admin", "password": password }));
    let login: serde_json::Value = login.send().await.unwrap().json().await.unwrap();
    let token = login["token"]
        .as_str()
        .expect("admin logs in with the printed password");
    let activations: serde_json::Value = client
        .get(format!("{url}/api/activations"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let demo = &activations[0];
    assert_eq!(
        demo["kind"], "drill",
        "the demo activation is a drill: {activations}"
    );
    let page = client.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text().await.unwrap().contains("app.js"),
        "the board page is served"
    );

    // SIGTERM: a graceful shutdown with a clean exit.
    let pid = server.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(PATIENCE, server.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");

    // A second start prints no password again: it was shown once.
    let (ok, out) = run(
        &[
            "user",
            "passwd",
            "admin",
            "--password-stdin",
            "--database",
            &database,
        ],
        "brand new password\n",
    )
    .await;
    assert!(ok, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_reads_the_password_from_stdin_and_refuses_what_it_cannot_accept() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("users.db").display());
    let db = ["--database", database.as_str()];
    // An operator runs a shelter of the registry: make shelter 1.
    let store = saigai_vc::Store::open(&database).await.expect("open store");
    let shelter = saigai_vc::shelters::create(
        &store,
        saigai_vc::shelters::ShelterFields {
            name: "地域ケアプラザ".into(),
            address: "横浜市港北区大倉山1-1".into(),
            latitude: None,
            longitude: None,
            capacity: 10,
            categories: vec![],
            facilities: vec![],
            contact: String::new(),
            notes: String::new(),
        },
    )
    .await
    .expect("add shelter");
    assert_eq!(shelter.id, 1);
    store.close().await;
    let add = |args: Vec<&'static str>| {
        let mut all: Vec<String> = vec!["user".into(), "add".into()];
        all.extend(args.into_iter().map(String::from));
        all.extend(db.iter().map(|s| s.to_string()));
        all
    };
    let cases: Vec<(Vec<&str>, &str, bool, &str)> = vec![
        (
            vec!["yamada", "--role", "coordinator", "--password-stdin"],
            "yamada's password\n",
            true,
            "added user yamada",
        ),
        (
            vec!["yamada", "--role", "board", "--password-stdin"],
            "another password\n",
            false,
            "already exists",
        ),
        (
            vec!["plaza", "--role", "shelter_operator", "--password-stdin"],
            "plaza password\n",
            false,
            "--shelter",
        ),
        (
            vec![
                "plaza",
                "--role",
                "shelter_operator",
                "--shelter",
                "3",
                "--password-stdin",
            ],
            "plaza password\n",
            false,
            "no welfare shelter has id 3",
        ),
        (
            vec![
                "plaza",
                "--role",
                "shelter_operator",
                "--shelter",
                "1",
                "--password-stdin",
            ],
            "plaza password\n",
            true,
            "added user plaza",
        ),
        (
            vec!["wall", "--role", "board", "--password-stdin"],
            "short\n",
            false,
            "at least 8",
        ),
        (
            vec!["wall", "--role", "mayor", "--password-stdin"],
            "long enough pw\n",
            false,
            "invalid value",
        ),
    ];
    for (args, stdin, expect_ok, expect_text) in cases {
        let label = args.join(" ");
        let argv = add(args);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (ok, out) = run(&argv, stdin).await;
        assert_eq!(ok, expect_ok, "`{label}`: {out}");
        assert!(
            out.contains(expect_text),
            "`{label}` says {expect_text:?}: {out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_register_from_the_command_line_with_a_municipal_mapping_then_verify_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("register.db").display());
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/register");
    let file = format!("{fixtures}/municipal_headers.csv");
    let mapping = format!("{fixtures}/municipal_mapping.toml");

    let (ok, out) = run(&["import", "register", &file, "--database", &database], "").await;
    assert!(
        !ok,
        "without the mapping the required columns are missing: {out}"
    );
    assert!(
        out.contains("resident_id"),
        "names the missing field: {out}"
    );

    let args = [
        "import",
        "register",
        &file,
        "--mapping",
        &mapping,
        "--database",
        &database,
    ];
    let (ok, out) = run(&[&args[..], &["--dry-run"]].concat(), "").await;
    assert!(ok, "{out}");
    assert!(out.contains("dry run"), "{out}");
    let (ok, out) = run(&args, "").await;
    assert!(ok, "{out}");
    assert!(out.contains("取込完了"), "{out}");
    assert!(
        out.contains(&format!(
            "database: {}",
            dir.path().join("register.db").display()
        )),
        "says which database it went into: {out}"
    );
    assert!(
        out.contains("自治会") || out.contains("登録日"),
        "unmapped columns are listed: {out}"
    );
    let (ok, out) = run(&args, "").await;
    assert!(
        ok && out.contains("変更なし unchanged: 2"),
        "a second import changes nothing: {out}"
    );

    let (ok, out) = run(&["audit", "verify", "--database", &database], "").await;
    assert!(ok && out.contains("intact"), "{out}");

    // Someone edits the file behind the server's back: the database refuses, and when forced
    // (the append-only trigger dropped), the chain shows where.
    let pool = sqlx::SqlitePool::connect(&database).await.unwrap();
    let refused = sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE id = 1")
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "the audit log is append-only");
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (ok, out) = run(&["audit", "verify", "--database", &database], "").await;
    assert!(!ok && out.contains("broken at entry 1"), "{out}");
}

/// `--database` takes a file's path as well as a URL; the commands that only make sense on
/// the centre's data refuse a SQLite file that is not there instead of making an empty one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_path_names_the_database_and_a_mistyped_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("centre.db");
    let path = path.to_str().unwrap();
    let (ok, out) = run(
        &[
            "user",
            "add",
            "yamada",
            "--role",
            "coordinator",
            "--password-stdin",
            "--database",
            path,
        ],
        "yamada's password\n",
    )
    .await;
    assert!(ok && out.contains("added user yamada"), "{out}");
    // The same database through its URL: the user is there.
    let url = format!("sqlite://{path}");
    let (ok, out) = run(
        &[
            "user",
            "passwd",
            "yamada",
            "--password-stdin",
            "--database",
            &url,
        ],
        "a new password\n",
    )
    .await;
    assert!(ok, "{out}");

    let mistyped = dir.path().join("centre.bd");
    let mistyped = mistyped.to_str().unwrap();
    for args in [
        vec![
            "user",
            "passwd",
            "yamada",
            "--password-stdin",
            "--database",
            mistyped,
        ],
        vec!["audit", "verify", "--database", mistyped],
    ] {
        let (ok, out) = run(&args, "a new password\n").await;
        assert!(
            !ok && out.contains("no database at") && out.contains("centre.bd"),
            "`{}` is refused naming the file: {out}",
            args[..2].join(" ")
        );
    }
    assert!(
        !std::path::Path::new(mistyped).exists(),
        "no empty database is left behind"
    );
}

/// A register imported from the command line while the server runs (the CLI writes to the
/// database directly) still reaches the board: PostgreSQL notifies the server, and on SQLite
/// the server finds the new events in the table within seconds.
async fn a_register_imported_beside_a_running_server_reaches_its_terminals(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("台風", "real").await;
    let mut terminal = admin.board(activation, None).await;
    assert_eq!(terminal.next().await["type"], "snapshot");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("名簿.csv");
    std::fs::write(
        &file,
        "宛名番号,氏名,住所,地区\r\n1,山田 太郎,横浜市港北区1-1,大倉山\r\n",
    )
    .unwrap();
    let (ok, out) = run(
        &[
            "import",
            "register",
            file.to_str().unwrap(),
            "--database",
            &app.database_url,
        ],
        "",
    )
    .await;
    assert!(ok, "{out}");
    loop {
        let message = terminal.next().await;
        if message["type"] == "register_imported" {
            assert_eq!(
                message["data"]["safety"][0]["district"], "大倉山",
                "{message}"
            );
            break;
        }
    }
}

crate::on_both_backends!(a_register_imported_beside_a_running_server_reaches_its_terminals);
