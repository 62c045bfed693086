//! The one error type of the HTTP API. Every failure leaves as JSON
//! `{"error": "...", ...}` with a status a client can act on; internal causes are logged
//! (without personal data) and never shown.
//!
//! Database errors are classified here, in one place: a constraint violation is the client's
//! conflict (409), an unreachable database is a 503 with `Retry-After`, anything else is a 500.

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
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
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
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        response
    }
}
