//! The bench's board terminals: one task per websocket, each timing the events it receives.
//!
//! A terminal connects (a bounded number at a time, so the server's accept queue and the
//! bench's own handshakes do not pile up), reads its snapshot, then reads events until told
//! to stop. For each of the bench's announcements it notes the latency from the commit time
//! in the event's `at` to the moment the frame was read, and which announcement it was, so
//! duplicates and losses can be told apart.
//!
//! Nothing is shared on the hot path: each task keeps its own tally and hands it back when
//! it ends. The shared counters are touched once per terminal (connected, failed, complete),
//! which is what lets the bench wait for "every terminal has every event" without a lock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};
use tokio_util::sync::CancellationToken;

/// A terminal that cannot connect and read its snapshot in this long counts as failed.
const CONNECT_PATIENCE: Duration = Duration::from_secs(30);
const CONNECT_ATTEMPTS: u32 = 3;
/// How long a terminal waits for the server's side of the closing handshake.
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

/// The text of the bench's `i`th announcement. The index leads, so a terminal finds it
/// without parsing the whole event; the rest is the length of a real notice.
pub fn announcement_text(index: usize) -> String {
    format!("#{index} 13時の班は駐車場に集合 / the 13:00 shift gathers at the car park")
}

/// What every terminal of a run connects to and expects.
pub struct Plan {
    pub address: SocketAddr,
    /// Path and query of the board websocket.
    pub path: String,
    pub token: Option<String>,
    /// How many announcements will be posted; each terminal expects every one.
    pub events: usize,
}

/// What one terminal saw.
#[derive(Default)]
pub struct Tally {
    pub connected: bool,
    /// Distinct announcements received.
    pub received: u64,
    pub duplicates: u64,
    /// Snapshots after the first: the server resynchronised a terminal that fell behind.
    pub resyncs: u64,
    /// The connection ended before the bench closed it.
    pub dropped: bool,
    /// Events whose `at` was later than their receipt (clock trouble), counted as 0 µs.
    pub negative: u64,
    /// Commit-to-receipt latency of each distinct announcement, in microseconds.
    pub latencies: Vec<u32>,
}

#[derive(Default)]
struct Shared {
    connected: AtomicUsize,
    failed: AtomicUsize,
    /// Terminals that have received every announcement.
    complete: AtomicUsize,
    /// The first connection error, to explain failures; written at most once or so.
    first_error: std::sync::Mutex<Option<String>>,
}

/// The running terminals of one run.
pub struct Terminals {
    count: usize,
    shared: Arc<Shared>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<Tally>>,
}

impl Terminals {
    /// Spawns `count` terminals, at most `concurrency` of them connecting at any moment.
    pub fn spawn(plan: Arc<Plan>, count: usize, concurrency: usize) -> Terminals {
        let shared = Arc::new(Shared::default());
        let stop = CancellationToken::new();
        // Bounds the connections in progress, not the connected ones: a permit is returned
        // as soon as the terminal has its snapshot.
        let slots = Arc::new(Semaphore::new(concurrency.max(1)));
        let tasks = (0..count)
            .map(|_| {
                tokio::spawn(terminal(
                    plan.clone(),
                    shared.clone(),
                    slots.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        Terminals {
            count,
            shared,
            stop,
            tasks,
        }
    }

    /// Waits until every terminal has connected or given up; returns (connected, failed).
    pub async fn wait_connected(&self) -> (usize, usize) {
        let mut report = Instant::now() + Duration::from_secs(5);
        loop {
            let connected = self.shared.connected.load(Ordering::Relaxed);
            let failed = self.shared.failed.load(Ordering::Relaxed);
            if connected + failed >= self.count {
                return (connected, failed);
            }
            if Instant::now() >= report {
                eprintln!(
                    "    connecting: {connected}/{} ({failed} failed)",
                    self.count
                );
                report += Duration::from_secs(5);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The first connection error, if any terminal failed.
    pub fn first_error(&self) -> Option<String> {
        self.shared
            .first_error
            .lock()
            .expect("error slot poisoned")
            .clone()
    }

    /// Waits until every connected terminal has every announcement, or until `deadline`.
    pub async fn wait_complete(&self, deadline: Instant) {
        let connected = self.shared.connected.load(Ordering::Relaxed);
        while self.shared.complete.load(Ordering::Relaxed) < connected && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Closes every terminal and returns what each saw.
    pub async fn close(mut self) -> Vec<Tally> {
        self.stop.cancel();
        let mut tallies = Vec::with_capacity(self.tasks.len());
        for task in std::mem::take(&mut self.tasks) {
            // A terminal task does not panic; if one did, it simply saw nothing.
            tallies.push(task.await.unwrap_or_default());
        }
        tallies
    }
}

impl Drop for Terminals {
    /// On an early return (a failed post, say) the tasks still end and close their sockets.
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn terminal(
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    stop: CancellationToken,
) -> Tally {
    let mut tally = Tally::default();
    let permit = slots
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let mut socket = match connect_with_retries(&plan).await {
        Ok(socket) => socket,
        Err(error) => {
            shared
                .first_error
                .lock()
                .expect("error slot poisoned")
                .get_or_insert_with(|| format!("{error:#}"));
            shared.failed.fetch_add(1, Ordering::Relaxed);
            return tally;
        }
    };
    drop(permit);
    tally.connected = true;
    tally.latencies.reserve_exact(plan.events);
    shared.connected.fetch_add(1, Ordering::Relaxed);

    let mut seen = vec![false; plan.events];
    loop {
        let message = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            message = socket.next() => message,
        };
        // Read the clock first: parsing is the bench's cost, not the server's.
        let received_at = now_micros();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            // Pings are answered by tungstenite itself on the next read.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => continue,
            Some(Ok(Message::Frame(_))) => continue,
            Some(Ok(Message::Close(_)) | Err(_)) | None => {
                tally.dropped = true;
                return tally;
            }
        };
        match parse_event(text.as_str()) {
            Event::Announcement { index, at } if index < plan.events => {
                if seen[index] {
                    tally.duplicates += 1;
                    continue;
                }
                seen[index] = true;
                let latency = received_at - at;
                if latency < 0 {
                    tally.negative += 1;
                }
                tally
                    .latencies
                    .push(u32::try_from(latency.max(0)).unwrap_or(u32::MAX));
                tally.received += 1;
                if tally.received == plan.events as u64 {
                    shared.complete.fetch_add(1, Ordering::Relaxed);
                }
            }
            Event::Snapshot => tally.resyncs += 1,
            Event::Announcement { .. } | Event::Other => {}
        }
    }

    // Close as a well-behaved client does: send a close frame and let the server end the TCP
    // connection, so the TIME_WAIT state stays on the server's port and the bench's own
    // ephemeral ports are free for the next run.
    let _ = tokio::time::timeout(CLOSE_PATIENCE, async {
        let _ = socket.close(None).await;
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
    tally
}

async fn connect_with_retries(plan: &Plan) -> anyhow::Result<WebSocketStream<TcpStream>> {
    let mut attempt = 1;
    loop {
        let result = tokio::time::timeout(CONNECT_PATIENCE, connect(plan))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("no snapshot within {CONNECT_PATIENCE:?}")));
        match result {
            Ok(socket) => return Ok(socket),
            Err(error) if attempt >= CONNECT_ATTEMPTS => {
                return Err(error.context(format!("after {attempt} attempts")));
            }
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                attempt += 1;
            }
        }
    }
}

/// Opens one board websocket and reads its snapshot.
async fn connect(plan: &Plan) -> anyhow::Result<WebSocketStream<TcpStream>> {
    let stream = TcpStream::connect(plan.address)
        .await
        .context("TCP connect")?;
    let mut request = format!("ws://{}{}", plan.address, plan.path).into_client_request()?;
    if let Some(token) = &plan.token {
        request.headers_mut().insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}"))?,
        );
    }
    // As small as the server's own: the bench must not need more memory than it measures,
    // and a terminal reads one small frame at a time.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (mut socket, _) = client_async_with_config(request, stream, Some(config))
        .await
        .context("websocket handshake")?;
    match socket.next().await {
        Some(Ok(Message::Text(text))) if matches!(parse_event(text.as_str()), Event::Snapshot) => {
            Ok(socket)
        }
        Some(Ok(other)) => bail!("expected a snapshot first, got {other:?}"),
        Some(Err(error)) => Err(error).context("reading the snapshot"),
        None => bail!("closed before the snapshot"),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Event {
    /// One of the bench's announcements: its index and commit time (µs since the epoch).
    Announcement {
        index: usize,
        at: i64,
    },
    Snapshot,
    Other,
}

/// Reads what the bench needs from a board message without parsing all of its JSON: with
/// thousands of terminals, a full parse per frame would make the bench, not the server, the
/// bottleneck. Both servers put `type` first and `at` before `data`, as the board's wire does.
fn parse_event(text: &str) -> Event {
    if text.starts_with(r#"{"type":"snapshot""#) {
        return Event::Snapshot;
    }
    if !text.starts_with(r#"{"type":"announcement_posted""#) {
        return Event::Other;
    }
    let at = string_field(text, r#""at":""#)
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.timestamp_micros());
    let index = string_field(text, r##""text":"#"##).and_then(|rest| {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        rest[..digits].parse().ok()
    });
    match (index, at) {
        (Some(index), Some(at)) => Event::Announcement { index, at },
        _ => Event::Other,
    }
}

/// The text after `key` up to the next double quote.
fn string_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    let rest = &text[start..];
    Some(&rest[..rest.find('"')?])
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_index_and_commit_time_from_both_servers_wire() {
        let saigai = format!(
            r#"{{"type":"announcement_posted","seq":7,"at":"2026-01-02T03:04:05.123456Z","by":"bench","data":{{"id":6,"text":"{}","posted_by":"bench","posted_at":"2026-01-02T03:04:05.100000Z"}}}}"#,
            announcement_text(42)
        );
        let node = format!(
            r#"{{"type":"announcement_posted","seq":3,"at":"2026-01-02T03:04:05.123456Z","data":{{"text":"{}"}}}}"#,
            announcement_text(0)
        );
        let at = 1_767_323_045_123_456;
        assert_eq!(
            parse_event(&saigai),
            Event::Announcement { index: 42, at },
            "saigai-vc"
        );
        assert_eq!(
            parse_event(&node),
            Event::Announcement { index: 0, at },
            "node"
        );
        assert_eq!(
            parse_event(r#"{"type":"snapshot","seq":0,"data":{}}"#),
            Event::Snapshot
        );
        assert_eq!(
            parse_event(r#"{"type":"announcement_posted","seq":1,"at":"x","data":{}}"#),
            Event::Other,
            "not one of the bench's"
        );
    }
}
