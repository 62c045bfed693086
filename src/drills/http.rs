//! The runner's [`Api`] over HTTP: a logged-in admin session (a bearer token) on the
//! server at `--server`. Plain HTTP: the centre's server runs on its own local network.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use super::runner::{Api, ApiError};

pub struct HttpApi {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl HttpApi {
    /// Logs in to the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub async fn login(base: &str, username: &str, password: &str) -> Result<HttpApi, ApiError> {
        let client = client()?;
        let base = base.trim_end_matches('/').to_string();
        let login = client
            .post(format!("{base}/api/login"))
            .json(&json!({ "username": username, "password": password }));
        let answer = send(login).await?;
        let token = answer["token"]
            .as_str()
            .ok_or_else(|| ApiError::new("the login answer has no token"))?
            .to_string();
        if answer["role"] != "admin" {
            return Err(ApiError::new(format!(
                "{username} is {}, not admin: only an admin declares a drill activation and adds shelters",
                answer["role"].as_str().unwrap_or("?")
            )));
        }
        Ok(HttpApi {
            client,
            base,
            token,
        })
    }

    /// A session already held: the server's own drill runs (`control`) mint one for the
    /// admin who started the drill rather than log in with a password.
    pub fn with_token(base: &str, token: String) -> Result<HttpApi, ApiError> {
        Ok(HttpApi {
            client: client()?,
            base: base.trim_end_matches('/').to_string(),
            token,
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }
}

impl Api for HttpApi {
    async fn get(&self, path: &str) -> Result<Value, ApiError> {
        send(self.request(reqwest::Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, ApiError> {
        send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    async fn post_csv(&self, path: &str, csv: Bytes) -> Result<Value, ApiError> {
        send(
            self.request(reqwest::Method::POST, path)
                .header(reqwest::header::CONTENT_TYPE, "text/csv")
                .body(csv),
        )
        .await
    }
}

fn client() -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        // A drill runs for hours; one call never should.
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| ApiError::new(format!("cannot make an HTTP client: {e}")))
}

/// Sends a request; a 2xx answer is its JSON (null when empty), anything else an error with
/// the server's own words.
async fn send(request: reqwest::RequestBuilder) -> Result<Value, ApiError> {
    let response = request.send().await.map_err(|e| {
        ApiError::new(if e.is_connect() {
            format!("cannot reach the server: {e}")
        } else if e.is_timeout() {
            "no answer within 60 s".to_string()
        } else {
            e.to_string()
        })
    })?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::new(format!("the answer was cut off: {e}")))?;
    let body: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if status.is_success() {
        return Ok(body);
    }
    let message = ["error", "message"]
        .iter()
        .find_map(|field| body[*field].as_str())
        .map(String::from)
        .unwrap_or_else(|| {
            let text = body.to_string();
            text.chars().take(200).collect()
        });
    Err(ApiError {
        status: Some(status.as_u16()),
        message,
    })
}
