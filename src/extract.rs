//! Request extractors whose rejections are our JSON errors, naming the field that was wrong.
//!
//! axum's own `Json`, `Query` and `Path` answer plain text; a terminal (or a tired person
//! reading a toast) needs `{"error": "...", "field": "text"}` instead. [`known_codes`] checks
//! lists of codes in a body the same way.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body. A syntax error names the line and column; a wrong or missing value names
/// the field by its path (`text`, `members[2].name`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = read_body(req, state).await?;
        parse_json(&body).map(ApiJson)
    }
}

/// The whole body, within the route's limit: 413 at once when `Content-Length` is over it,
/// 413 as soon as an undeclared body passes it, 400 when it cannot be read.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    let limit = crate::error::refuse_declared_oversize(&req)?;
    Bytes::from_request(req, state)
        .await
        .map_err(|e| match (e.status(), limit) {
            (axum::http::StatusCode::PAYLOAD_TOO_LARGE, Some(limit)) => {
                AppError::TooLarge { limit }
            }
            _ => AppError::invalid("body", e.body_text()),
        })
}

/// No one types U+0000, PostgreSQL refuses it in text and C code reading SQLite's text stops at
/// it: it is refused where it comes in, naming where it was, on both engines alike.
const NUL_REFUSED: &str = "text may not contain the NUL character (U+0000)";

/// The path (`members[2].name`) of a JSON string holding U+0000, if any. Only a body that
/// spells the escape is walked.
fn nul_in_json(body: &[u8]) -> Option<String> {
    fn walk(value: &serde_json::Value, path: String) -> Option<String> {
        let here = || {
            if path.is_empty() {
                "body".to_string()
            } else {
                path.clone()
            }
        };
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Some(here()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, format!("{}[{i}]", here()))),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(name, item)| {
                if name.contains('\0') {
                    return Some(here());
                }
                let path = match path.is_empty() {
                    true => name.clone(),
                    false => format!("{path}.{name}"),
                };
                walk(item, path)
            }),
            _ => None,
        }
    }
    memchr::memmem::find(body, b"\\u0000")?;
    let value = serde_json::from_slice(body).ok()?;
    walk(&value, String::new())
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    if let Some(field) = nul_in_json(body) {
        return Err(AppError::invalid(field, NUL_REFUSED));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            AppError::invalid("body", format!("the body is not valid JSON: {inner}"))
        } else {
            // A missing field is reported at its parent's path; name the field itself.
            let message = inner.to_string();
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split_once('`'))
                .map(|(name, _)| name.to_string());
            let field = match (path.as_str(), missing) {
                (".", Some(name)) => name,
                (parent, Some(name)) => format!("{parent}.{name}"),
                (".", None) => "body".to_string(),
                (_, None) => path,
            };
            AppError::invalid(field, message)
        }
    })
}

/// Query parameters; a bad value names the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(query) = parts.uri.query()
            && query.contains("%00")
            && let Some((name, _)) = url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        {
            return Err(AppError::invalid(name.replace('\0', ""), NUL_REFUSED));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| AppError::invalid("query", e.body_text()))
    }
}

/// Path parameters, such as an activation id that must be a number.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.path().contains("%00") {
            return Err(AppError::invalid("path", NUL_REFUSED));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| AppError::invalid("path", e.body_text()))
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`. For actions such as
/// "open this shelter" whose options are all optional.
pub struct ApiJsonOrEmpty<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for ApiJsonOrEmpty<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = read_body(req, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrEmpty(T::default()));
        }
        parse_json(&body).map(ApiJsonOrEmpty)
    }
}

/// Checks a list of codes (categories, skills, ...) against the known ones, naming the first
/// unknown by its place (`skills[2]`); answers them in the known list's order, without repeats.
pub fn known_codes(
    field: &str,
    given: &[String],
    known: &[(&str, &str)],
) -> Result<Vec<String>, AppError> {
    for (i, code) in given.iter().enumerate() {
        if !known.iter().any(|(c, _)| c == code) {
            return Err(AppError::invalid(
                format!("{field}[{i}]"),
                format!(
                    "unknown code {code:?}; one of {}",
                    known.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    Ok(known
        .iter()
        .filter(|(c, _)| given.iter().any(|g| g == c))
        .map(|(c, _)| c.to_string())
        .collect())
}
