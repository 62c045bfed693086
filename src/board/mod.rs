//! The live board over websockets: `GET /ws/board?activation=ID[&since=SEQ]`.
//!
//! A terminal first gets either the whole board as of one event (`snapshot`) or, when it
//! resumes with `since`, the events it missed; then live events in `seq` order, with no gap
//! and no duplicate. The order of operations is what makes that hold: subscribe to the hub
//! first, then read the snapshot or the replay from the database, then pass on only live
//! events newer than what was sent. A gap in the live stream is filled from the event table;
//! a terminal that falls too far behind (`Lagged`) gets a fresh snapshot, never a silent gap.

mod snapshot;

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{
    CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade,
    rejection::WebSocketUpgradeRejection,
};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

pub use snapshot::{Board, snapshot};

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::events::{Event, EventRow, Frame, Hub};
use crate::extract::ApiQuery;
use crate::store::{Store, on_pool};

/// Terminals send nothing but pongs and the odd close: a small read buffer keeps thousands of
/// idle connections cheap (tungstenite's default is 128 KiB each, and it keeps the whole
/// buffer resident). It still grows for a larger frame.
const READ_BUFFER: usize = 512;
/// Live events written out together at most, before pings and client messages get a turn.
const MAX_BATCH: usize = 64;
const MAX_INCOMING_MESSAGE: usize = 16 * 1024;

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(upgrade))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct BoardQuery {
    /// The activation whose board to show.
    activation: i64,
    /// The last `seq` this terminal has: resume after it (no snapshot, no gap).
    since: Option<i64>,
}

/// The live board (a websocket).
///
/// Any role. The first message is
/// `{"type":"snapshot","seq":N,"data":{...}}` (or, with `since`, the events after it); then
/// each event as `{"type","seq","at","by","data"}` in `seq` order, with no gap or duplicate.
/// The server pings; a terminal silent for two intervals is closed. A browser upgrade from a
/// foreign `Origin` is refused (403).
#[utoipa::path(
    get,
    path = "/ws/board",
    tag = "board",
    params(BoardQuery),
    responses(
        (status = 101, description = "Switched to the websocket protocol."),
        (status = 400, description = "Not a websocket upgrade, or a malformed query.", body = crate::openapi::ErrorBody),
    )
)]
async fn upgrade(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<BoardQuery>,
    ws: std::result::Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response> {
    check_origin(&headers, &state.settings.allowed_origins)?;
    let ws = ws.map_err(|e| AppError::invalid("upgrade", e.body_text()))?;
    // Refuse an unknown activation with a 404 before upgrading, so the client can tell.
    crate::activations::get_one(&state.store, query.activation).await?;
    tracing::debug!(
        role = user.role.as_str(),
        activation = query.activation,
        "board terminal connected"
    );
    let sockets = state.sockets.clone();
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(64 * 1024)
        .max_message_size(MAX_INCOMING_MESSAGE)
        .max_frame_size(MAX_INCOMING_MESSAGE)
        .on_upgrade(move |socket| sockets.track_future(terminal(socket, state, query))))
}

/// Browsers send `Origin` on a websocket upgrade and do not apply the same-origin policy to
/// it, so a page elsewhere could open our board with the user's cookie. Refuse any origin but
/// our own (and configured proxies). Non-browser clients send no Origin and are let through;
/// they still need a session.
fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<()> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        return Ok(());
    }
    let origin_host = url::Url::parse(origin).ok().and_then(|u| {
        let host = u.host_str()?.to_ascii_lowercase();
        Some(match u.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    });
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.to_ascii_lowercase());
    match (origin_host, host) {
        (Some(o), Some(h)) if o == h => Ok(()),
        _ => Err(AppError::Forbidden("websocket from a foreign origin")),
    }
}

/// Why a terminal's connection ended: for the log, never shown.
#[derive(Debug)]
enum End {
    ClientLeft,
    Silent,
    SendStalled,
    Shutdown,
    Failed(String),
}

async fn terminal(mut socket: WebSocket, state: AppState, query: BoardQuery) {
    let end = match serve_terminal(&mut socket, &state, query.activation, query.since).await {
        Ok(end) => end,
        Err(e) => End::Failed(e.to_string()),
    };
    let close = match &end {
        End::Shutdown => Some((1001, "server shutting down")),
        End::Silent => Some((1001, "no pong")),
        End::Failed(_) => Some((1011, "internal error")),
        End::ClientLeft | End::SendStalled => None,
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            socket.send(Message::Close(Some(frame))),
        )
        .await;
    }
    match &end {
        End::Failed(error) => {
            tracing::warn!(activation = query.activation, %error, "board terminal failed")
        }
        _ => tracing::debug!(
            activation = query.activation,
            ?end,
            "board terminal disconnected"
        ),
    }
}

/// What a terminal has been sent so far.
struct Feed<'a> {
    socket: &'a mut WebSocket,
    store: &'a Store,
    hub: &'a Hub,
    activation_id: i64,
    /// The seq of the last event (or snapshot) sent.
    last: i64,
    send_timeout: Duration,
}

impl Feed<'_> {
    async fn send(&mut self, text: Utf8Bytes) -> std::result::Result<(), End> {
        self.timed(|socket| socket.send(Message::Text(text))).await
    }

    /// Queues a message without writing it out yet; `flush` writes what is queued.
    async fn queue(&mut self, text: Utf8Bytes) -> std::result::Result<(), End> {
        self.timed(|socket| socket.feed(Message::Text(text))).await
    }

    async fn flush(&mut self) -> std::result::Result<(), End> {
        self.timed(|socket| socket.flush()).await
    }

    /// A socket operation that a terminal which stopped reading cannot hold up for ever.
    async fn timed<'s, F, Fut>(&'s mut self, op: F) -> std::result::Result<(), End>
    where
        F: FnOnce(&'s mut WebSocket) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<(), axum::Error>> + 's,
    {
        match tokio::time::timeout(self.send_timeout, op(&mut *self.socket)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::ClientLeft),
            Err(_) => Err(End::SendStalled),
        }
    }

    /// Passes one live event on: skipped if already sent, preceded by what is missing from
    /// the event table if it does not follow on.
    async fn deliver(&mut self, frame: Frame, replay_limit: i64) -> std::result::Result<(), End> {
        if frame.seq <= self.last {
            return Ok(());
        }
        if frame.seq > self.last + 1 {
            // Committed elsewhere or released past a gap: the table has it. Boxed, like every
            // rarely taken path here, so it does not enlarge each terminal's idle task.
            Box::pin(self.send_stored(Some(frame.seq), replay_limit)).await?;
        }
        if frame.seq == self.last + 1 {
            self.queue(frame.text).await?;
            self.last = frame.seq;
        }
        Ok(())
    }

    async fn send_snapshot(&mut self) -> std::result::Result<(), End> {
        let frame = match self.hub.cached_snapshot(self.activation_id) {
            Some(frame) => frame,
            None => {
                let (seq, text) = snapshot(self.store, self.activation_id)
                    .await
                    .map_err(|e| End::Failed(e.to_string()))?;
                let frame = Frame {
                    seq,
                    text: Utf8Bytes::from(text),
                };
                self.hub.cache_snapshot(self.activation_id, frame.clone());
                frame
            }
        };
        self.send(frame.text).await?;
        self.last = frame.seq;
        Ok(())
    }

    /// Sends stored events after `self.last` and before `before` (exclusive; `None` for all).
    /// Falls back to a snapshot when more than `limit` are missing.
    async fn send_stored(
        &mut self,
        before: Option<i64>,
        limit: i64,
    ) -> std::result::Result<(), End> {
        let events = events_after(self.store, self.activation_id, self.last, before, limit + 1)
            .await
            .map_err(|e| End::Failed(e.to_string()))?;
        if events.len() as i64 > limit {
            return self.send_snapshot().await;
        }
        for event in events {
            self.send(Utf8Bytes::from(event.to_wire())).await?;
            self.last = event.seq;
        }
        Ok(())
    }
}

async fn serve_terminal(
    socket: &mut WebSocket,
    state: &AppState,
    activation_id: i64,
    since: Option<i64>,
) -> anyhow::Result<End> {
    let settings = &state.settings;
    // Subscribe before reading anything from the database: see the module comment.
    let mut live = state.hub.subscribe(activation_id);
    let mut feed = Feed {
        socket,
        store: &state.store,
        hub: &state.hub,
        activation_id,
        last: 0,
        send_timeout: settings.ping_interval * 2,
    };

    let start = async {
        match since {
            Some(since)
                if since >= 0 && since <= current_seq(&state.store, activation_id).await? =>
            {
                feed.last = since;
                Ok(feed.send_stored(None, settings.replay_limit).await)
            }
            _ => Ok::<_, AppError>(feed.send_snapshot().await),
        }
    };
    if let Err(end) = Box::pin(start).await? {
        return Ok(end);
    }

    let mut ping = tokio::time::interval(settings.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await; // the first tick is immediate
    let mut heard_since_ping = true;
    let outcome: std::result::Result<(), End> = loop {
        tokio::select! {
            () = state.shutdown.cancelled() => break Err(End::Shutdown),
            received = live.recv() => {
                // Whatever else is already waiting goes out with it in one write: under load
                // that is one system call for a burst instead of one per event.
                let mut next = Some(received);
                let mut batch = 0;
                let delivered = loop {
                    let Some(item) = next.take() else { break Ok(()) };
                    let step = match item {
                        Ok(frame) => feed.deliver(frame, settings.replay_limit).await,
                        // Too far behind to replay from memory: start the terminal afresh.
                        Err(RecvError::Lagged(_)) => Box::pin(feed.send_snapshot()).await,
                        Err(RecvError::Closed) => Err(End::Shutdown),
                    };
                    if let Err(end) = step {
                        break Err(end);
                    }
                    batch += 1;
                    // Bounded, so pings and the client's messages are still seen in a flood.
                    next = if batch < MAX_BATCH {
                        match live.try_recv() {
                            Ok(frame) => Some(Ok(frame)),
                            Err(TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
                            Err(TryRecvError::Closed) => Some(Err(RecvError::Closed)),
                            Err(TryRecvError::Empty) => None,
                        }
                    } else {
                        None
                    };
                };
                if let Err(end) = delivered {
                    break Err(end);
                }
                if let Err(end) = feed.flush().await {
                    break Err(end);
                }
            }
            incoming = feed.socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break Err(End::ClientLeft),
                Some(Ok(_)) => heard_since_ping = true,
            },
            _ = ping.tick() => {
                if !heard_since_ping {
                    break Err(End::Silent);
                }
                heard_since_ping = false;
                if let Err(end) = feed.send_ping().await {
                    break Err(end);
                }
            }
        }
    };
    Ok(outcome.err().unwrap_or(End::ClientLeft))
}

impl Feed<'_> {
    async fn send_ping(&mut self) -> std::result::Result<(), End> {
        self.timed(|socket| socket.send(Message::Ping(bytes::Bytes::new())))
            .await
    }
}

async fn current_seq(store: &Store, activation_id: i64) -> Result<i64> {
    let seq: Option<i64> = on_pool!(store, pool => {
        sqlx::query_scalar("SELECT last_seq FROM activations WHERE id = $1").bind(activation_id).fetch_optional(pool).await?
    });
    seq.ok_or(AppError::NotFound("activation"))
}

/// Stored events with `after < seq < before`, in order, at most `limit`.
pub async fn events_after(
    store: &Store,
    activation_id: i64,
    after: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Event>> {
    let rows: Vec<EventRow> = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT activation_id, seq, type, payload, actor, at FROM events \
             WHERE activation_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq LIMIT $4",
        )
        .bind(activation_id)
        .bind(after)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(Event::from).collect())
}
