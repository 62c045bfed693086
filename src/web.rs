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

#[cfg(test)]
mod tests {
    use super::*;

    /// The page must work on a local network with no internet: everything it loads comes
    /// from this server or is inline.
    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let mut links = 0;
        for attribute in ["src=\"", "href=\""] {
            for (at, _) in INDEX_HTML.match_indices(attribute) {
                let value = &INDEX_HTML[at + attribute.len()..];
                let value = &value[..value.find('"').unwrap_or(value.len())];
                links += 1;
                assert!(
                    value.starts_with('/') && !value.starts_with("//")
                        || value.starts_with('#')
                        || value.starts_with("data:"),
                    "the page loads {value}"
                );
            }
        }
        assert!(links >= 3, "the style sheet, the script and the icon");
        for (name, text) in [
            ("app.js", APP_JS),
            ("style.css", STYLE_CSS),
            ("print.css", PRINT_CSS),
        ] {
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("url(//"),
                "{name} names another server"
            );
        }
    }
}
