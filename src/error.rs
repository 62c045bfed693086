//! The one error type of the HTTP API. Every failure leaves as JSON
//! `{"error": "...", ...}` with a status a client can act on; internal causes are logged
//! (without personal data) and never shown.
//!
//! Database errors are classified here, in one place: a constraint violation is the client's
//! conflict (409), an unreachable database is a 503 with `Retry-After`, a full disk is a 507,
//! anything else is a 500.
//!
//! A full disk (SQLite's SQLITE_FULL, PostgreSQL's 53100 disk_full) answers 507 Insufficient
//! Storage, not 503: a 503 with `Retry-After` tells clients to retry by themselves, which only
//! adds load until someone frees space, while 507 says plainly that nothing was stored and an
//! administrator must act. The write was one transaction, so nothing of it was kept; reads
//! go on working, and writes succeed again once there is space, without a restart.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Input that cannot be accepted, naming the field (JSON path, query parameter, ...).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The request conflicts with the state of things; `code` tells a client which conflict
    /// (`activation_closed`, `person_removed`, ...) without parsing the message.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A conflict whose answer names the record it is about (`about` is merged into the
    /// body), so a client can act on it: "this phone is registered already: volunteer 12".
    #[error("{message}")]
    ConflictAbout {
        code: &'static str,
        message: String,
        about: serde_json::Value,
    },
    #[error("this route does not take that method")]
    MethodNotAllowed,
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// Too many failed logins for the account or the client address (429).
    #[error("too many failed logins; try again in {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    /// More logins are waiting for the password hasher than it queues (503).
    #[error("the server is busy checking other logins; try again shortly")]
    Busy,
    /// The database's disk is full: nothing of the write was stored (507).
    #[error(
        "the server's disk is full: nothing was saved. Tell the administrator; the same request will work once space is freed"
    )]
    DiskFull,
    /// The request body is larger than the route takes (413).
    #[error("the request body is larger than the {limit} bytes this route accepts")]
    TooLarge { limit: usize },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AppError::Conflict { .. } | AppError::ConflictAbout { .. } => StatusCode::CONFLICT,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The body limit in force for `request` (the route's `DefaultBodyLimit`, else axum's), or
/// `None` when the route disabled it.
///
/// axum keeps the limit in a private request extension and applies it only while the body is
/// read, so a body declaring 300 MB would be read up to the limit before being refused. This
/// asks axum's own limiting for the number: it wraps a body that claims to be endless and reads
/// the wrapped size hint back, which is the limit.
pub fn body_limit(request: &axum::extract::Request) -> Option<usize> {
    use axum::RequestExt;
    use axum::body::HttpBody;
    struct Endless;
    impl HttpBody for Endless {
        type Data = bytes::Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            std::task::Poll::Ready(None)
        }
        fn size_hint(&self) -> http_body::SizeHint {
            http_body::SizeHint::with_exact(u64::MAX)
        }
    }
    let mut probe = axum::extract::Request::new(axum::body::Body::new(Endless));
    *probe.extensions_mut() = request.extensions().clone();
    let hint = probe.with_limited_body().into_body().size_hint();
    hint.upper()
        .filter(|&n| n < u64::MAX)
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Refuses with 413 at once a body whose `Content-Length` is over the route's limit, before a
/// byte of it is read; answers the limit, for refusing a body that turns out longer than it
/// declared (or declared nothing) once it passes the limit.
pub fn refuse_declared_oversize(request: &axum::extract::Request) -> Result<Option<usize>> {
    let limit = body_limit(request);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match (limit, declared) {
        (Some(limit), Some(declared)) if declared > limit as u64 => {
            Err(AppError::TooLarge { limit })
        }
        _ => Ok(limit),
    }
}

/// True when a body failed because it passed the route's limit.
pub fn is_length_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// True when `err` says the database's disk (or quota) is full.
pub fn is_disk_full(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // The extended result code; its low byte is the primary code, 13 = SQLITE_FULL.
        db.code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| c & 0xff == 13)
    } else {
        db.code().is_some_and(|c| c == "53100")
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        if is_disk_full(&err) {
            tracing::error!(error = %err, "the database's disk is full");
            return AppError::DiskFull;
        }
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                AppError::conflict("duplicate", "a record with the same key already exists")
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                AppError::conflict("missing_reference", "a referenced record does not exist")
            }
            sqlx::Error::Database(db) if db.is_check_violation() => {
                AppError::conflict("rule_broken", "the record breaks a rule of the register")
            }
            // The server is shutting down or restarting (57P01-57P03), or the connection
            // broke (class 08): the request may be retried once it is back.
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) =>
            {
                tracing::warn!(error = %err, "database unavailable");
                AppError::Unavailable
            }
            // PostgreSQL refuses U+0000 in text (22021). The extractors refuse it in requests;
            // this covers text that reaches the database another way (a CSV cell).
            sqlx::Error::Database(db) if db.code().is_some_and(|c| c == "22021") => {
                AppError::invalid("text", "text may not contain the NUL character (U+0000)")
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_) => {
                tracing::warn!(error = %err, "database unavailable");
                AppError::Unavailable
            }
            _ => AppError::Internal(err.into()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            AppError::Invalid { field, message } => json!({ "error": message, "field": field }),
            AppError::Conflict { code, message } => json!({ "error": message, "code": code }),
            // Codes a client acts on (a login form counting down, a banner asking for the
            // administrator), with the sentence for people beside them.
            AppError::TooManyAttempts { retry_after } => json!({
                "error": "too_many_attempts",
                "retry_after": retry_after,
                "message": self.to_string(),
            }),
            AppError::DiskFull => json!({ "error": "disk_full", "message": self.to_string() }),
            AppError::TooLarge { limit } => json!({
                "error": "too_large",
                "limit": limit,
                "message": self.to_string(),
            }),
            AppError::ConflictAbout {
                code,
                message,
                about,
            } => {
                let mut body = json!({ "error": message, "code": code });
                if let (Some(body), Some(about)) = (body.as_object_mut(), about.as_object()) {
                    for (key, value) in about {
                        body.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
                body
            }
            AppError::Internal(err) => {
                // The cause goes to the log for the operator; the client learns only that it
                // was not its fault.
                tracing::error!(error = %format!("{err:#}"), "internal error");
                json!({ "error": "internal error" })
            }
            other => json!({ "error": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        let retry_after = match &self {
            AppError::TooManyAttempts { retry_after } => Some(HeaderValue::from(*retry_after)),
            AppError::Busy => Some(HeaderValue::from_static("1")),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(HeaderValue::from_static("2")),
            _ => None,
        };
        if let Some(value) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
