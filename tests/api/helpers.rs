//! `TestApp`: the real server on port 0 with a fresh database, on SQLite or PostgreSQL, and
//! request helpers that speak to it as a terminal would (HTTP with a bearer token, a real
//! websocket client).
//!
//! PostgreSQL tests take the server URL from `SAIGAI_TEST_POSTGRES_URL` and create a database
//! of their own for each test. Where the variable is unset they say they were skipped;
//! with `SAIGAI_REQUIRE_ALL=1` (set in CI) a skip is a failure instead.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use saigai_vc::auth::{Role, users};
use saigai_vc::{AppState, Settings, Store};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for something the server should do at once; only a failing test
/// ever waits this long.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Marks a test skipped, or fails it when CI demands that nothing be skipped.
pub fn skip(what: &str, why: &str) {
    if std::env::var("SAIGAI_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("{what} cannot run ({why}) and SAIGAI_REQUIRE_ALL=1 forbids skipping");
    }
    eprintln!("SKIPPED {what}: {why}");
}

pub struct TestApp {
    pub address: SocketAddr,
    pub store: Store,
    /// The database URL the server runs on, for commands run beside it.
    pub database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _database: TestDatabase,
}

/// A database of one test's own, removed when dropped.
pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime, which cannot block on itself: drop the
            // database from a thread with its own small runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let pool = sqlx::PgPool::connect(&admin_url).await.ok()?;
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&pool)
                        .await
                        .ok()?;
                    Some(())
                })
            })
            .join();
        }
    }
}

impl TestApp {
    /// A server on `backend`, or `None` (reported as skipped) when that backend is not
    /// configured here.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, test_settings(), None).await
    }

    /// As `spawn`, with settings of the test's own and optionally a small socket send
    /// buffer (which accepted connections inherit), to make a slow terminal fall behind.
    pub async fn spawn_with(
        backend: Backend,
        settings: Settings,
        send_buffer: Option<usize>,
    ) -> Option<TestApp> {
        let (url, database) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (url, TestDatabase::Sqlite(dir))
            }
            Backend::Postgres => postgres_database().await?,
        };
        Some(TestApp::spawn_on(url, database, settings, send_buffer).await)
    }

    /// A server on the database at `url` (a SQLite file where the test wants it: on a small
    /// disk, say), which `database` keeps alive.
    pub async fn spawn_on(
        url: String,
        database: TestDatabase,
        settings: Settings,
        send_buffer: Option<usize>,
    ) -> TestApp {
        let store = Store::open(&url).await.expect("open store");
        let listener = bind(send_buffer);
        let address = listener.local_addr().unwrap();
        let state = AppState::new(store.clone(), settings);
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(saigai_vc::run(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        TestApp {
            address,
            store,
            shutdown: Some(tx),
            server: Some(server),
            database_url: url.clone(),
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub fn ws_url(&self, path_and_query: &str) -> String {
        format!("ws://{}{}", self.address, path_and_query)
    }

    /// Adds a user straight to the store and logs them in over HTTP. A shelter operator runs
    /// a shelter made for them (see `operator` to choose it).
    pub async fn user(&self, username: &str, role: Role) -> Session {
        let shelter_id = match role {
            Role::ShelterOperator => {
                Some(self.shelter(&format!("{username}の福祉避難所"), 10).await)
            }
            _ => None,
        };
        self.add_user(username, role, shelter_id).await
    }

    /// A shelter operator of `shelter_id`, logged in.
    pub async fn operator(&self, username: &str, shelter_id: i64) -> Session {
        self.add_user(username, Role::ShelterOperator, Some(shelter_id))
            .await
    }

    /// Adds a shelter to the registry straight through the store; returns its id.
    pub async fn shelter(&self, name: &str, capacity: i64) -> i64 {
        saigai_vc::shelters::create(
            &self.store,
            saigai_vc::shelters::ShelterFields {
                name: name.into(),
                address: "横浜市港北区大倉山1-1".into(),
                latitude: None,
                longitude: None,
                capacity,
                categories: vec!["elderly".into()],
                facilities: vec![],
                contact: String::new(),
                notes: String::new(),
            },
        )
        .await
        .expect("add shelter")
        .id
    }

    async fn add_user(&self, username: &str, role: Role, shelter_id: Option<i64>) -> Session {
        users::add(
            &self.store,
            users::NewUser {
                username,
                role,
                shelter_id,
                password: PASSWORD,
            },
        )
        .await
        .expect("add user");
        self.login(username, PASSWORD).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Session {
        let anonymous = self.anonymous();
        let (status, body) = anonymous
            .post(
                "/api/login",
                json!({ "username": username, "password": password }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login of {username}: {body}");
        Session {
            token: body["token"].as_str().map(String::from),
            ..anonymous
        }
    }

    /// A client with no session.
    pub fn anonymous(&self) -> Session {
        Session {
            client: reqwest::Client::new(),
            base: self.url(""),
            ws_base: self.ws_url(""),
            token: None,
        }
    }

    /// Stops the server as SIGTERM would, and waits until it has finished.
    pub async fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn bind(send_buffer: Option<usize>) -> tokio::net::TcpListener {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    if let Some(size) = send_buffer {
        socket.set_send_buffer_size(size).unwrap();
    }
    socket.set_reuse_address(true).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(1024).unwrap();
    socket.set_nonblocking(true).unwrap();
    tokio::net::TcpListener::from_std(socket.into()).unwrap()
}

pub fn test_settings() -> Settings {
    Settings::default()
}

/// A fresh PostgreSQL database on the server of `SAIGAI_TEST_POSTGRES_URL`: its URL, and the
/// guard that drops it. `None` (reported as skipped) when the variable is unset.
pub async fn postgres_database() -> Option<(String, TestDatabase)> {
    let Ok(admin_url) = std::env::var("SAIGAI_TEST_POSTGRES_URL") else {
        skip("PostgreSQL test", "SAIGAI_TEST_POSTGRES_URL is not set");
        return None;
    };
    let name = format!("saigai_test_{}", uuid_like());
    let pool = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("connect to SAIGAI_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&pool)
        .await
        .expect("create test database");
    pool.close().await;
    let mut url = url::Url::parse(&admin_url).expect("a postgres URL");
    url.set_path(&name);
    Some((url.to_string(), TestDatabase::Postgres { admin_url, name }))
}

fn uuid_like() -> String {
    let n: u64 = rand::random();
    format!("{n:016x}")
}

/// A logged-in (or anonymous) client.
#[derive(Clone)]
pub struct Session {
    client: reqwest::Client,
    base: String,
    ws_base: String,
    pub token: Option<String>,
}

impl Session {
    /// A client with no session for a server at `address` (one not started by `TestApp`).
    pub fn at(address: SocketAddr) -> Session {
        Session {
            client: reqwest::Client::new(),
            base: format!("http://{address}"),
            ws_base: format!("ws://{address}"),
            token: None,
        }
    }

    /// Logs in as `username` with the test password.
    pub async fn log_in(self, username: &str) -> Session {
        let (status, body) = self
            .post(
                "/api/login",
                json!({ "username": username, "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login of {username}: {body}");
        Session {
            token: body["token"].as_str().map(String::from),
            ..self
        }
    }

    /// The same client with another token.
    pub fn with_token(&self, token: &str) -> Session {
        Session {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    /// A POST's whole answer, headers included.
    pub async fn post_response(&self, path: &str, body: Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        send(self.request(reqwest::Method::DELETE, path)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.request(reqwest::Method::PUT, path).json(&body)).await
    }

    /// A GET answered with anything: (status, body text), for pages and exports that may be
    /// refused.
    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// The raw body of a GET that must succeed (an export, a printed page).
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.bytes().await.expect("body").to_vec()
    }

    pub async fn post_bytes(&self, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
        send(
            self.request(reqwest::Method::POST, path)
                .header("content-type", "text/csv")
                .body(body),
        )
        .await
    }

    pub async fn post_form(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> (StatusCode, Value) {
        send(self.request(reqwest::Method::POST, path).multipart(form)).await
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> (StatusCode, Value) {
        send(
            self.request(reqwest::Method::POST, path)
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    /// Creates an activation (as an admin session) and returns its id.
    pub async fn open_activation(&self, name: &str, kind: &str) -> i64 {
        let (status, body) = self
            .post("/api/activations", json!({ "name": name, "kind": kind }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "open activation: {body}");
        body["id"].as_i64().expect("activation id")
    }

    pub async fn announce(&self, activation: i64, text: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/api/activations/{activation}/announcements"),
                json!({ "text": text }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "announce: {body}");
        body
    }

    /// Opens the live board websocket, as a terminal with this session.
    pub async fn board(&self, activation: i64, since: Option<i64>) -> Terminal {
        self.board_with(activation, since, None)
            .await
            .expect("websocket upgrade accepted")
    }

    /// As `board`, with optional extra headers; answers the HTTP status when the upgrade is
    /// refused.
    pub async fn board_with(
        &self,
        activation: i64,
        since: Option<i64>,
        origin: Option<&str>,
    ) -> Result<Terminal, StatusCode> {
        let mut url = format!("{}/ws/board?activation={activation}", self.ws_base);
        if let Some(since) = since {
            url.push_str(&format!("&since={since}"));
        }
        let mut request = url.into_client_request().unwrap();
        if let Some(token) = &self.token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Terminal { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status()),
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    /// A terminal over a client socket with a small receive buffer, which stops reading when
    /// the test does not call `next`: the slow terminal of the lag test.
    pub async fn slow_board(&self, activation: i64) -> Terminal {
        let address: SocketAddr = self.base.trim_start_matches("http://").parse().unwrap();
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.connect(&address.into()).unwrap();
        socket.set_nonblocking(true).unwrap();
        let stream = TcpStream::from_std(socket.into()).unwrap();
        let url = format!("{}/ws/board?activation={activation}", self.ws_base);
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", self.token.as_ref().unwrap())
                .parse()
                .unwrap(),
        );
        let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .expect("upgrade");
        Terminal { socket }
    }
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// A board terminal: a real websocket client.
pub struct Terminal {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What a terminal received.
#[derive(Debug)]
pub enum Received {
    Json(Value),
    Closed(Option<u16>),
}

impl Terminal {
    /// The next JSON message, answering pings on the way; fails the test if none comes.
    pub async fn next(&mut self) -> Value {
        match self.next_received().await {
            Received::Json(v) => v,
            Received::Closed(code) => {
                panic!("socket closed ({code:?}) while a message was expected")
            }
        }
    }

    pub async fn next_received(&mut self) -> Received {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("a message within the patience limit");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Received::Json(serde_json::from_str(&text).expect("JSON message"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Received::Closed(frame.map(|f| f.code.into()));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Closed(None),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// One login attempt, as a login form sends it, optionally with an `X-Forwarded-For` header:
/// the status, the body and the `Retry-After` seconds.
pub async fn attempt(
    app: &TestApp,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, serde_json::Value, Option<u64>) {
    let mut request = reqwest::Client::new()
        .post(app.url("/api/login"))
        .json(&json!({ "username": username, "password": password }));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body, retry_after)
}

/// Declares each listed `async fn(Backend)` as two tests, `sqlite::NAME` and `postgres::NAME`,
/// for tests that start their server themselves (with settings of their own).
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use for_each_backend;

impl Session {
    /// Any method with an optional body `(content type, bytes)`: (status, body text). For
    /// tests that walk every route, whatever it answers.
    pub async fn send_any(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> (u16, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.request(method, path);
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}

impl Session {
    /// A write carrying `Idempotency-Key: key`: (status, body, whether the answer was a
    /// replay), or the transport's error (a server killed mid-request) for the crash trials.
    pub async fn send_keyed(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: &Value,
    ) -> Result<(StatusCode, Value, bool), reqwest::Error> {
        let response = self
            .request(method, path)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let replayed = response.headers().get("idempotent-replayed").is_some();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, body, replayed))
    }
}

/// A `saigai-vc serve` process of the test's own (a real process, to be killed), its address
/// read from what it prints once it listens, and `/healthz` answering ok before it is handed
/// out.
pub struct ServeProcess {
    pub child: tokio::process::Child,
    pub address: SocketAddr,
}

impl ServeProcess {
    pub async fn start(database: &str) -> ServeProcess {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_saigai-vc"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .env("SAIGAI_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start saigai-vc serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let address = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(url) = line.split("http://").nth(1) {
                    return url
                        .trim_end_matches('/')
                        .parse::<SocketAddr>()
                        .expect("address");
                }
            }
            panic!("the server ended before printing its URL");
        })
        .await
        .expect("the server starts");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (status, body) = Session::at(address).get("/healthz").await;
        assert_eq!(status, StatusCode::OK, "healthz after start: {body}");
        ServeProcess { child, address }
    }

    /// SIGKILL: no shutdown, no checkpoint, nothing flushed that was not flushed already.
    pub async fn kill_9(mut self) {
        self.child.start_kill().expect("kill -9");
        self.child.wait().await.expect("reaped");
    }
}
