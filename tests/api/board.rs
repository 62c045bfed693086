//! The live board over a real websocket client: snapshot, live events, resume with no gap
//! and no duplicate, a lagging terminal resynchronised, concurrent writers, origins, shutdown.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use saigai_vc::Settings;
use saigai_vc::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, Received, TestApp, test_settings};

crate::on_both_backends!(
    a_terminal_gets_a_snapshot_then_live_events,
    a_terminal_resuming_with_since_gets_exactly_what_it_missed,
    concurrent_writers_produce_consecutive_seq_seen_by_every_terminal,
    a_closed_activation_is_announced_live,
    a_websocket_from_a_foreign_origin_is_refused,
    shutdown_closes_terminals_with_a_close_frame,
);

fn seq(message: &Value) -> i64 {
    message["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("message without seq: {message}"))
}

async fn a_terminal_gets_a_snapshot_then_live_events(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let wall = app.user("wall", Role::Board).await;
    let activation = admin.open_activation("地震訓練", "drill").await;
    admin.announce(activation, "受付は体育館です").await;

    let mut terminal = wall.board(activation, None).await;
    let snapshot = terminal.next().await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(seq(&snapshot), 2, "as of the opening and one announcement");
    assert_eq!(snapshot["data"]["activation"]["kind"], "drill");
    assert_eq!(
        snapshot["data"]["announcements"][0]["text"],
        "受付は体育館です"
    );
    assert_eq!(snapshot["data"]["counts"]["announcements"], 1);

    admin.announce(activation, "給水所を開設しました").await;
    let event = terminal.next().await;
    assert_eq!(event["type"], "announcement_posted");
    assert_eq!(seq(&event), 3);
    assert_eq!(event["data"]["text"], "給水所を開設しました");
    assert_eq!(event["by"], "admin1");
    assert!(event["at"].is_string());
}

async fn a_terminal_resuming_with_since_gets_exactly_what_it_missed(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let mut terminal = admin.board(activation, None).await;
    let last_seen = seq(&terminal.next().await);
    terminal.close().await;

    for text in ["一", "二", "三"] {
        admin.announce(activation, text).await;
    }
    let mut resumed = admin.board(activation, Some(last_seen)).await;
    let mut texts = Vec::new();
    let mut expected = last_seen + 1;
    for _ in 0..3 {
        let event = resumed.next().await;
        assert_ne!(
            event["type"], "snapshot",
            "a resume within history replays, it does not resend the board"
        );
        assert_eq!(seq(&event), expected, "no gap, no duplicate");
        texts.push(event["data"]["text"].as_str().unwrap().to_string());
        expected += 1;
    }
    assert_eq!(texts, ["一", "二", "三"]);
    admin.announce(activation, "四").await;
    let live = resumed.next().await;
    assert_eq!(seq(&live), expected, "then live events follow on");
    assert_eq!(live["data"]["text"], "四");

    // A since from the future (another database, a reset) gets a fresh snapshot.
    let mut confused = admin.board(activation, Some(expected + 100)).await;
    let first = confused.next().await;
    assert_eq!(first["type"], "snapshot");
    assert_eq!(seq(&first), expected);
}

async fn concurrent_writers_produce_consecutive_seq_seen_by_every_terminal(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let mut terminals = Vec::new();
    for _ in 0..3 {
        let mut t = admin.board(activation, None).await;
        assert_eq!(seq(&t.next().await), 1);
        terminals.push(t);
    }
    const WRITERS: usize = 8;
    const EACH: usize = 10;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let writer = app.user(&format!("coord{w}"), Role::Coordinator).await;
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                writer.announce(activation, &format!("w{w}-{i}")).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let total = (WRITERS * EACH) as i64;
    for (n, terminal) in terminals.iter_mut().enumerate() {
        let mut texts = BTreeSet::new();
        for expected in 2..=total + 1 {
            let event = terminal.next().await;
            assert_eq!(
                seq(&event),
                expected,
                "terminal {n}: consecutive seq, in order"
            );
            assert!(
                texts.insert(event["data"]["text"].as_str().unwrap().to_string()),
                "terminal {n}: no duplicate"
            );
        }
        assert_eq!(
            texts.len() as i64,
            total,
            "terminal {n} saw every announcement"
        );
    }
    let (_, events) = admin
        .get(&format!("/api/activations/{activation}/events"))
        .await;
    let seqs: Vec<i64> = events.as_array().unwrap().iter().map(seq).collect();
    assert_eq!(
        seqs,
        (1..=total + 1).collect::<Vec<_>>(),
        "the stored log is consecutive too"
    );
}

async fn a_closed_activation_is_announced_live(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let mut terminal = admin.board(activation, None).await;
    terminal.next().await;
    admin
        .post(&format!("/api/activations/{activation}/close"), json!({}))
        .await;
    let event = terminal.next().await;
    assert_eq!(event["type"], "activation_closed");
    assert_eq!(event["data"]["status"], "closed");
    assert_eq!(event["data"]["id"], activation);
}

async fn a_websocket_from_a_foreign_origin_is_refused(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let foreign = admin
        .board_with(activation, None, Some("http://evil.example"))
        .await;
    assert_eq!(foreign.err(), Some(StatusCode::FORBIDDEN));
    let own_origin = format!("http://{}", app.address);
    let mut own = admin
        .board_with(activation, None, Some(&own_origin))
        .await
        .expect("own origin accepted");
    assert_eq!(own.next().await["type"], "snapshot");
    assert_eq!(
        admin.board_with(999_999, None, None).await.err(),
        Some(StatusCode::NOT_FOUND),
        "unknown activation"
    );
}

async fn shutdown_closes_terminals_with_a_close_frame(mut app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let mut terminal = admin.board(activation, None).await;
    terminal.next().await;
    app.shut_down().await;
    match terminal.next_received().await {
        Received::Closed(code) => assert_eq!(code, Some(1001), "going away"),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// A terminal that stops reading falls behind; when it reads again it gets a fresh snapshot
/// and then follows on, never a silent gap. Small socket buffers and a small hub make the
/// server-side sender block and the terminal lag after a few large events.
async fn a_lagging_terminal_is_resynchronised_with_a_snapshot(backend: Backend) {
    let settings = Settings {
        hub_capacity: 2,
        ..test_settings()
    };
    let Some(app) = TestApp::spawn_with(backend, settings, Some(4096)).await else {
        return;
    };
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let mut slow = admin.slow_board(activation).await;
    assert_eq!(slow.next().await["type"], "snapshot");

    const POSTS: i64 = 60;
    let long_text = "床上浸水のお宅の泥出し、資機材はスコップと土のう袋。".repeat(60);
    for i in 0..POSTS {
        admin
            .announce(activation, &format!("{i} {long_text}"))
            .await;
    }
    let final_seq = 1 + POSTS;
    let mut last = 1;
    let mut resyncs = 0;
    while last < final_seq {
        let message = slow.next().await;
        if message["type"] == "snapshot" {
            resyncs += 1;
            assert!(seq(&message) >= last, "a snapshot never goes back");
            assert_eq!(
                message["data"]["counts"]["announcements"],
                seq(&message) - 1,
                "the snapshot is the whole board"
            );
        } else {
            assert_eq!(
                seq(&message),
                last + 1,
                "between snapshots, no gap and no duplicate"
            );
        }
        last = seq(&message);
    }
    assert!(
        resyncs >= 1,
        "the terminal fell behind and was resynchronised"
    );
    assert_eq!(last, final_seq);
}

/// A terminal that never reads (a frozen tablet, a laptop whose lid was shut) does not hold
/// up the others: a healthy terminal gets every event in order while the stuck one's socket
/// is full, and the server ends the stuck connection (a write blocked for two ping intervals,
/// or two pings unanswered) instead of keeping it and its queue forever.
async fn a_terminal_that_never_reads_is_closed_and_holds_up_no_one(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let settings = Settings {
        ping_interval: Duration::from_millis(200),
        ..test_settings()
    };
    let Some(app) = TestApp::spawn_with(backend, settings, Some(4096)).await else {
        return;
    };
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    // A raw client with a small receive buffer: it upgrades, then reads nothing (so it
    // answers no ping either) until the end of the test.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stuck = socket.connect(app.address).await.unwrap();
    let request = format!(
        "GET /ws/board?activation={activation} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {}\r\n\r\n",
        app.address,
        admin.token.as_ref().unwrap()
    );
    stuck.write_all(request.as_bytes()).await.unwrap();
    let mut healthy = admin.board(activation, None).await;
    let start = seq(&healthy.next().await);

    const POSTS: i64 = 60;
    // The healthy terminal reads all the while, as a wall screen does.
    let reader = tokio::spawn(async move {
        for expected in start + 1..=start + POSTS {
            let message = healthy.next().await;
            assert_eq!(message["type"], "announcement_posted", "no resync needed");
            assert_eq!(seq(&message), expected, "every event, in order");
        }
    });
    let long_text = "床上浸水のお宅の泥出し、資機材はスコップと土のう袋。".repeat(60);
    for i in 0..POSTS {
        admin
            .announce(activation, &format!("{i} {long_text}"))
            .await;
    }
    reader.await.expect("the healthy terminal got every event");

    // The stuck terminal reads at last: what reached it, then the end the server made.
    let mut received = Vec::new();
    let ended =
        tokio::time::timeout(crate::helpers::PATIENCE, stuck.read_to_end(&mut received)).await;
    assert!(
        ended.is_ok(),
        "the server ended the stuck terminal's connection"
    );
    assert!(
        String::from_utf8_lossy(&received).starts_with("HTTP/1.1 101"),
        "it had been upgraded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_terminal_that_never_reads_is_closed_and_holds_up_no_one() {
    a_terminal_that_never_reads_is_closed_and_holds_up_no_one(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_terminal_that_never_reads_is_closed_and_holds_up_no_one() {
    a_terminal_that_never_reads_is_closed_and_holds_up_no_one(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_lagging_terminal_is_resynchronised_with_a_snapshot() {
    a_lagging_terminal_is_resynchronised_with_a_snapshot(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_lagging_terminal_is_resynchronised_with_a_snapshot() {
    a_lagging_terminal_is_resynchronised_with_a_snapshot(Backend::Postgres).await;
}

/// A terminal that never answers pings is closed by the server within two ping intervals.
async fn a_silent_terminal_is_closed(backend: Backend) {
    let settings = Settings {
        ping_interval: Duration::from_millis(200),
        ..test_settings()
    };
    let Some(app) = TestApp::spawn_with(backend, settings, None).await else {
        return;
    };
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    // A raw TCP client: it upgrades, then only reads bytes and never answers a ping.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let request = format!(
        "GET /ws/board?activation={activation} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {}\r\n\r\n",
        app.address,
        admin.token.as_ref().unwrap()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let read =
        tokio::time::timeout(crate::helpers::PATIENCE, stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server closed the silent connection");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 101"), "upgraded first");
    // A close frame from the server: opcode 0x88, then its length, then code 1001 (0x03E9).
    let close = received
        .windows(4)
        .any(|w| w[0] == 0x88 && w[2] == 0x03 && w[3] == 0xE9);
    assert!(
        close,
        "a close frame with code 1001 was sent before the connection ended"
    );
    let pings = received
        .windows(2)
        .filter(|w| w[0] == 0x89 && w[1] == 0x00)
        .count();
    assert!(pings >= 1, "the server pinged before giving up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_silent_terminal_is_closed() {
    a_silent_terminal_is_closed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_silent_terminal_is_closed() {
    a_silent_terminal_is_closed(Backend::Postgres).await;
}
