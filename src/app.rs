//! The application: shared state, the router that merges each capability's routes, and
//! `run`, which serves on a listener the caller has already bound (so tests bind port 0 and
//! never wait for a server to come up) until a shutdown signal.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::password::Hasher;
use crate::error::{AppError, Result};
use crate::events::{Event, Hub};
use crate::store::Store;

/// Tunables of a running server. Defaults suit a centre; tests shorten the timings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a login lasts: a long shift.
    pub session_ttl: Duration,
    /// How often the server pings each websocket; a terminal silent for two intervals is
    /// closed.
    pub ping_interval: Duration,
    /// How many events a terminal may fall behind before it gets a fresh snapshot.
    pub hub_capacity: usize,
    /// A terminal resuming further back than this many events gets a snapshot instead.
    pub replay_limit: i64,
    /// Origins allowed to open a websocket besides the server's own (a reverse proxy's).
    pub allowed_origins: Vec<String>,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookie: bool,
    /// A council's own drill scenarios, offered beside the shipped ones (`serve --drills`).
    pub drills_dir: Option<std::path::PathBuf>,
    /// Failed logins allowed per account and per client address (see `auth::limits`).
    pub login_limits: crate::auth::limits::LoginLimits,
    /// Proxies (nginx) whose `X-Forwarded-For` names the client; nobody else's is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_ttl: Duration::from_secs(16 * 3600),
            ping_interval: Duration::from_secs(20),
            hub_capacity: 1024,
            replay_limit: 10_000,
            allowed_origins: Vec::new(),
            secure_cookie: false,
            drills_dir: None,
            login_limits: Default::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hub: Hub,
    pub hasher: Hasher,
    pub settings: std::sync::Arc<Settings>,
    /// Cancelled when the server shuts down: websockets then send a close frame and end.
    pub shutdown: CancellationToken,
    /// Tracks websocket tasks, which outlive their HTTP request, so shutdown can wait for them.
    pub sockets: TaskTracker,
    /// Drills started from the web page, running in this process.
    pub drill_runs: crate::drills::control::Runs,
    /// Logins to one account take turns (see `auth::limits::Turns`).
    pub login_turns: std::sync::Arc<crate::auth::limits::Turns>,
}

impl AppState {
    pub fn new(store: Store, settings: Settings) -> AppState {
        AppState {
            store,
            hub: Hub::new(settings.hub_capacity),
            hasher: Hasher::default(),
            settings: std::sync::Arc::new(settings),
            shutdown: CancellationToken::new(),
            sockets: TaskTracker::new(),
            drill_runs: crate::drills::control::Runs::new(),
            login_turns: Default::default(),
        }
    }

    /// Runs a write to its end, then hands its committed events to the terminals.
    ///
    /// The write runs in its own task: if the client disconnects mid-request, axum drops the
    /// handler, and a write cancelled between its commit and its publication would leave the
    /// terminals waiting for an event that was committed.
    pub async fn commit<T, F>(&self, write: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<(T, Vec<Event>)>> + Send + 'static,
    {
        let hub = self.hub.clone();
        // The request's idempotency key goes with its write into the task.
        let key = crate::idempotency::current();
        let task = tokio::spawn(crate::idempotency::scoped(key, async move {
            let (value, events) = write.await?;
            hub.publish(&events);
            Ok(value)
        }));
        task.await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("write task failed: {e}")))?
    }
}

/// Each capability's routes with their description (see `openapi`), before state and layers.
pub fn routes() -> OpenApiRouter<AppState> {
    modules()
        .into_iter()
        .fold(OpenApiRouter::new(), |all, (_, routes)| all.merge(routes))
}

/// Each capability's routes, by module.
pub(crate) fn modules() -> Vec<(&'static str, OpenApiRouter<AppState>)> {
    vec![
        ("app", OpenApiRouter::new().routes(routes!(healthz))),
        ("openapi", crate::openapi::router()),
        ("auth", crate::auth::router()),
        ("activations", crate::activations::router()),
        ("register", crate::register::router()),
        ("shelters", crate::shelters::router()),
        ("dispatch", crate::dispatch::router()),
        ("drills", crate::drills::router()),
        ("audit", crate::audit::router()),
        ("board", crate::board::router()),
        ("drills::control", crate::drills::control::router()),
        ("web", crate::web::router()),
    ]
}

/// The whole HTTP surface: each capability's router, the board's websocket, the web page.
pub fn app(state: AppState) -> Router {
    // Everything the page needs is served from here: no CDN, no inline script.
    let csp =
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
    let (routes, _) = routes().split_for_parts();
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::layer,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        ))
        // API answers carry personal data: never cached by a shared terminal's browser.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // The matched route, never the raw URI: query strings may carry names.
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("unmatched", |p| p.as_str());
            tracing::info_span!("http", method = %req.method(), route)
        }))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound("route")
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

/// Whether the server can reach its database (200) or not (503): for load balancers and
/// monitoring.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// The engine, when reachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<crate::store::Engine>,
}

/// Whether the server can reach its database.
///
/// For load balancers and monitoring; needs no session and shows no data.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "server",
    security(()),
    responses(
        (status = 200, description = "The database is reachable.", body = Health),
        (status = 503, description = "The database is not reachable.", body = Health),
    )
)]
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if state.store.is_reachable().await {
        (
            StatusCode::OK,
            axum::Json(Health {
                status: "ok",
                database: Some(state.store.engine()),
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(Health {
                status: "unavailable",
                database: None,
            }),
        )
    }
}

/// Serves until `shutdown` completes, then lets in-flight requests finish, closes every
/// websocket with a close frame, and closes the database. On PostgreSQL it also runs the
/// event relay that brings other instances' events to this one's terminals.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let token = state.shutdown.clone();
    let sockets = state.sockets.clone();
    let store = state.store.clone();
    // Drills started from the page play through this server's own API: tell them where.
    let drill_runs = state.drill_runs.clone();
    drill_runs.serve_at(listener.local_addr()?);
    // Others may write too (instances on PostgreSQL, a command beside us on SQLite): relay
    // their events to our terminals.
    let relay = tokio::spawn(crate::events::relay::listen(
        store.clone(),
        state.hub.clone(),
        token.clone(),
    ));
    let router = app(state);
    let on_signal = {
        let token = token.clone();
        let drill_runs_signal = drill_runs.clone();
        async move {
            shutdown.await;
            // Websockets are upgraded connections that axum's graceful shutdown does not
            // track: tell them to close now, while HTTP requests drain.
            token.cancel();
            // Drill runs call this server: stop them before it stops answering. After the
            // cancel, so that a run started meanwhile sees it (see `drills::control::start`).
            drill_runs_signal.stop_all();
        }
    };
    // Connect info gives handlers the peer address: the login limits count per client.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(on_signal)
        .await?;
    drill_runs.wait().await;
    sockets.close();
    if tokio::time::timeout(Duration::from_secs(10), sockets.wait())
        .await
        .is_err()
    {
        tracing::warn!("some websockets did not close within 10 s");
    }
    let _ = relay.await;
    store.close().await;
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
