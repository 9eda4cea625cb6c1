//! `/ui`: the dashboard, a single page of plain HTML, CSS and JavaScript
//! compiled into the binary (no build step, no CDN, no Node at run time).
//!
//! The page uses only the public `/v1` API, so whatever it shows a script
//! can read too. It is served outside the token check: it holds no data, and
//! asks the user for a token when `/v1` answers 401.

use poem::http::{StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler};

const INDEX_HTML: &str = include_str!("ui/index.html");
const APP_JS: &str = include_str!("ui/app.js");
const BATCH_JS: &str = include_str!("ui/batch.js");
const APP_CSS: &str = include_str!("ui/app.css");
const ICON_SVG: &str = include_str!("ui/icon.svg");

/// Scripts, styles and connections from this origin only: job args and
/// results are user data, and the page must never run or load what they
/// contain.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        // The assets change with the binary: always revalidate.
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer")
        .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
        .body(body)
}

#[handler]
fn index() -> impl IntoResponse {
    asset(INDEX_HTML, "text/html; charset=utf-8")
}

#[handler]
fn app_js() -> impl IntoResponse {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

#[handler]
fn batch_js() -> impl IntoResponse {
    asset(BATCH_JS, "text/javascript; charset=utf-8")
}

#[handler]
fn app_css() -> impl IntoResponse {
    asset(APP_CSS, "text/css; charset=utf-8")
}

#[handler]
fn icon() -> impl IntoResponse {
    asset(ICON_SVG, "image/svg+xml")
}

/// The dashboard's routes, to nest at `/ui`. The page routes itself with
/// the URL fragment (`/ui#/jobs`), so the server knows only these files.
pub fn routes() -> impl Endpoint {
    Route::new()
        .at("/", get(index))
        .at("/app.js", get(app_js))
        .at("/batch.js", get(batch_js))
        .at("/app.css", get(app_css))
        .at("/icon.svg", get(icon))
        .map_to_response()
}
