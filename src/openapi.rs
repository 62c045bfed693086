//! The API contract: an OpenAPI 3.1 document generated from the routes themselves, served at
//! `GET /api/openapi.json`.
//!
//! Every route is declared with `utoipa_axum::routes!`, which hands the handler to axum and its
//! `#[utoipa::path]` description to the document in one step, so a route cannot be served
//! without being described (a test keeps plain `.route(` calls out of `src/`). CI runs
//! schemathesis against a live server with this document and every role (`.ci/contract`).
//!
//! What every operation shares is added here rather than on each handler: the error answers,
//! all one JSON shape ([`ErrorBody`]), and the session every route requires but the login, the
//! health check, the page's files and this document (those declare `security(())`).

/// A string that is one of a fixed list of codes, described in the API document with the
/// list itself (taken from the constant the server checks against, so the two cannot drift).
/// The type only describes: fields stay `String` and name it in `#[schema(value_type)]`.
#[macro_export]
macro_rules! code_schema {
    ($name:ident, $description:literal, $codes:expr) => {
        #[doc = $description]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, Type};
                let codes: Vec<&str> = $codes;
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(codes))
                    .description(Some($description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

/// Every error answer (4xx and 503/507): `error` says what went wrong, as a sentence for the
/// person at the terminal or, where a client acts on it, a code (`too_many_attempts`,
/// `disk_full`, `too_large`). Conflicts name the record they are about in further fields.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used: the answers are built in `error.rs`.
pub struct ErrorBody {
    error: String,
    /// The field, query parameter or CSV column that was wrong (400).
    field: Option<String>,
    /// Which conflict (409): `activation_closed`, `person_removed`, `in_progress`, ...
    code: Option<String>,
    /// The sentence, where `error` is a code.
    message: Option<String>,
    /// Seconds to wait before trying again (429).
    retry_after: Option<u64>,
    /// The route's body limit in bytes (413).
    limit: Option<u64>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "saigai-vc",
        description = "災害ボランティアセンター: the support-needed register, welfare shelters, \
                       volunteer dispatch and the live board. Every route but the login needs a \
                       session: `Authorization: Bearer TOKEN` (the token `POST /api/login` \
                       answers) or the session cookie it sets. Writes may carry an \
                       `Idempotency-Key` header; a resent request with the same key gets the \
                       first answer back. The live board is a websocket: `GET /ws/board`."
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// The two ways to present a session, required by every operation that does not say
/// otherwise.
struct Sessions;

impl Modify for Sessions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        doc.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("cookie", Vec::<String>::new()),
        ]);
    }
}

/// The error answers any operation may give, added to each where its handler did not describe
/// them itself: they come from the shared extractors, the idempotency layer and the store, not
/// from the handler.
struct ErrorAnswers;

const ANY_ROUTE: &[(u16, &str)] = &[
    (
        400,
        "The request is malformed: `field` names what was wrong.",
    ),
    (
        404,
        "The route, or a record the path names, does not exist.",
    ),
    (405, "The route does not take this method."),
    (
        409,
        "The request conflicts with the state of things (`code` says how), or an earlier \
         request with the same Idempotency-Key is still running (`in_progress`).",
    ),
    (
        422,
        "The Idempotency-Key was used before with another request.",
    ),
    (
        503,
        "The database is unreachable or the server is busy; try again after `Retry-After` \
         seconds.",
    ),
    (507, "The server's disk is full: nothing was saved."),
];
const WITH_SESSION: &[(u16, &str)] = &[
    (401, "No session, or it expired: log in again."),
    (403, "The session's role may not do this."),
];
const WITH_BODY: &[(u16, &str)] = &[(413, "The body is larger than the route accepts.")];

impl Modify for ErrorAnswers {
    fn modify(&self, doc: &mut Document) {
        each_operation(doc, add_errors);
    }
}

/// Calls `f` on every operation of the document (the methods our routes use).
fn each_operation(doc: &mut Document, mut f: impl FnMut(&mut Operation)) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        operations.into_iter().flatten().for_each(&mut f);
    }
}

fn add_errors(operation: &mut Operation) {
    // `security(())` on the handler: the route needs no session (an empty requirement).
    let public = operation
        .security
        .as_ref()
        .is_some_and(|s| s.iter().any(|r| *r == Default::default()));
    let mut answers = ANY_ROUTE.to_vec();
    if !public {
        answers.extend_from_slice(WITH_SESSION);
    }
    if operation.request_body.is_some() {
        answers.extend_from_slice(WITH_BODY);
    }
    for (status, description) in answers {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(response.into());
    }
}

/// An operation's id is its handler's name, which repeats across modules (`list`, `show`):
/// prefixed with the operation's tag (`activations_list`), it is unique (tested).
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, doc: &mut Document) {
        each_operation(doc, |operation| {
            if let (Some(id), Some(tag)) = (
                &operation.operation_id,
                operation.tags.as_ref().and_then(|t| t.first()),
            ) {
                operation.operation_id = Some(format!("{tag}_{id}"));
            }
        });
    }
}

/// The document's own route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document_json))
}

/// The whole API's description, as served.
pub fn document() -> Document {
    let (_, routes) = crate::app::routes().split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(routes);
    // Over the whole, once every route is in.
    Sessions.modify(&mut doc);
    ErrorAnswers.modify(&mut doc);
    OperationIds.modify(&mut doc);
    doc
}

/// This document, as JSON.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "api",
    security(()),
    responses((status = 200, description = "This document (OpenAPI 3.1).", content_type = "application/json"))
)]
async fn document_json() -> impl IntoResponse {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        document()
            .to_pretty_json()
            .expect("the document serialises")
    });
    ([(header::CONTENT_TYPE, "application/json")], JSON.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes are declared with `routes!` only: a route added any other way would be served
    /// without being described (and without a row in the access matrix, which reads this
    /// document).
    #[test]
    fn every_route_is_declared_with_its_description() {
        fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(&path, found);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        let code = line.split("//").next().unwrap_or_default();
                        // Spelt apart, so that this line does not find itself.
                        for call in ["route", "nest", "route_service", "nest_service"] {
                            if code.contains(&format!(".{call}(")) {
                                found.push(format!(
                                    "{}:{}: {}",
                                    path.display(),
                                    n + 1,
                                    line.trim()
                                ));
                            }
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.is_empty(),
            "routes not declared with routes!:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn operation_ids_are_unique_and_every_operation_answers_errors_as_json() {
        let doc = serde_json::to_value(document()).unwrap();
        let mut ids = std::collections::BTreeMap::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap_or_default().to_string();
                if let Some(other) = ids.insert(id.clone(), format!("{method} {path}")) {
                    panic!("operationId {id:?} of {method} {path} is also {other}'s");
                }
                assert!(op["tags"][0].is_string(), "{method} {path} has no tag");
                assert_eq!(
                    op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path}"
                );
            }
        }
    }

    /// Every schema referred to is defined (two modules defining a schema under one name
    /// would be caught by `schemas_are_not_shadowed`).
    #[test]
    fn every_reference_resolves() {
        let doc = serde_json::to_value(document()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let text = doc.to_string();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(
                schemas.contains_key(name),
                "{name} is referred to but not defined"
            );
        }
    }

    /// Merging two routers keeps the first schema of a name and drops the second silently;
    /// two different types with one name would then describe one route wrongly.
    #[test]
    fn schemas_are_not_shadowed() {
        let mut seen: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
        for (module, router) in crate::app::modules() {
            let (_, doc) = router.split_for_parts();
            let doc = serde_json::to_value(doc).unwrap();
            let Some(schemas) = doc["components"]["schemas"].as_object() else {
                continue;
            };
            for (name, schema) in schemas {
                if let Some(before) = seen.get(name) {
                    assert_eq!(
                        before, schema,
                        "two schemas named {name} (one in {module}): rename one with #[schema(as = ...)]"
                    );
                }
                seen.insert(name.clone(), schema.clone());
            }
        }
    }
}
