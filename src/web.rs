//! The board page, embedded in the binary so the server needs nothing beside it and works
//! with no internet: no CDN, no external fonts or scripts.

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

const INDEX_HTML: &str = include_str!("../web/index.html");
const APP_JS: &str = include_str!("../web/app.js");
const STYLE_CSS: &str = include_str!("../web/style.css");
const PRINT_CSS: &str = include_str!("../web/print.css");

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(app_js))
        .routes(routes!(style_css))
        .routes(routes!(print_css))
}

/// The page: log in, pick the activation, the board and each role's screens.
#[utoipa::path(get, path = "/", tag = "page", security(()),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String)))]
async fn index() -> impl IntoResponse {
    asset(INDEX_HTML, "text/html; charset=utf-8").await
}

/// The page's script.
#[utoipa::path(get, path = "/app.js", tag = "page", security(()),
    responses((status = 200, description = "The script.", content_type = "text/javascript", body = String)))]
async fn app_js() -> impl IntoResponse {
    asset(APP_JS, "text/javascript; charset=utf-8").await
}

/// The page's style.
#[utoipa::path(get, path = "/style.css", tag = "page", security(()),
    responses((status = 200, description = "The style sheet.", content_type = "text/css", body = String)))]
async fn style_css() -> impl IntoResponse {
    asset(STYLE_CSS, "text/css; charset=utf-8").await
}

/// The style of printed pages (cards, certificates, lists).
#[utoipa::path(get, path = "/print.css", tag = "page", security(()),
    responses((status = 200, description = "The print style sheet.", content_type = "text/css", body = String)))]
async fn print_css() -> impl IntoResponse {
    asset(PRINT_CSS, "text/css; charset=utf-8").await
}

async fn asset(body: &'static str, content_type: &'static str) -> impl IntoResponse {
    // no-cache (revalidate), so a terminal picks up a new page after an upgrade.
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
}
