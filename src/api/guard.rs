//! What runs around every request before and after its operation: auth,
//! the refusal of cross-site state changes, the body limit, request
//! metrics (with bounded labels) and the request log line.

use poem::http::{HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

use super::problem::{self, Problem};
use super::{ApiConfig, RETRY_AFTER_SECS};

/// The routes of the web node, as request metrics label them: the spec's
/// path templates (literal ones before those with a parameter, so that
/// `/v1/jobs/batch` is not `/v1/jobs/{id}`), then the pages outside the
/// spec. Any other path is [`OTHER_ROUTE`].
pub const ROUTES: &[&str] = &[
    "/v1/jobs",
    "/v1/jobs/batch",
    "/v1/jobs/complete",
    "/v1/jobs/{id}",
    "/v1/jobs/{id}/events",
    "/v1/jobs/{id}/cancel",
    "/v1/jobs/{id}/retry",
    "/v1/jobs/{id}/explain",
    "/v1/workflows",
    "/v1/workflows/{id}",
    "/v1/workflows/{id}/events",
    "/v1/workflows/{id}/cancel",
    "/v1/queues",
    "/v1/queues/{name}",
    "/v1/queues/{name}/pause",
    "/v1/queues/{name}/resume",
    "/v1/schedules",
    "/v1/schedules/{name}",
    "/v1/workers",
    "/v1/workers/{node}",
    "/v1/workers/{node}/heartbeat",
    "/v1/workers/{node}/claim",
    "/v1/jobs/{id}/complete",
    "/v1/jobs/{id}/fail",
    "/v1/jobs/{id}/snooze",
    "/v1/jobs/{id}/progress",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/",
];

/// Trees served outside the spec, labelled by their root.
const TREES: &[&str] = &["/docs", "/ui"];

/// The route label of every path that is not one of [`ROUTES`].
pub const OTHER_ROUTE: &str = "other";

/// Auth, cross-site refusal, body limit, request metrics and the request
/// log line around every request.
pub(super) async fn guard<E: Endpoint>(
    ep: std::sync::Arc<E>,
    mut req: Request,
    config: &ApiConfig,
) -> poem::Result<Response> {
    let path = req.uri().path().to_string();
    if path == "/" && matches!(*req.method(), Method::GET | Method::HEAD) {
        // The front door of a web node is its dashboard (Swagger UI is at
        // /docs).
        return Ok(poem::web::Redirect::see_other("/ui").into_response());
    }
    let has_token = !config.tokens.is_empty() && authorized(&req, &config.tokens);
    if path.starts_with("/v1") && !config.tokens.is_empty() && !has_token {
        let mut resp =
            Problem::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token").into_response();
        resp.headers_mut()
            .insert("WWW-Authenticate", HeaderValue::from_static("Bearer"));
        record(req.method(), &path, resp.status());
        return Ok(resp);
    }
    if changes_state(req.method()) && !has_token && cross_site(&req) {
        // A page of another site posting to this node (a form, a fetch):
        // the browser says so, and no token vouches for the request.
        record(req.method(), &path, StatusCode::FORBIDDEN);
        return Ok(Problem::new(
            StatusCode::FORBIDDEN,
            "cross-site requests may not change state; send them from this server's own pages, \
             or with a bearer token",
        )
        .into_response());
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let declared = req
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        // Built only when refused: most requests never need it.
        let too_large = || {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over the limit of {} bytes",
                    config.body_limit
                ),
            )
            .into_response()
        };
        if declared.is_some_and(|n| n > config.body_limit) {
            record(req.method(), &path, StatusCode::PAYLOAD_TOO_LARGE);
            return Ok(too_large());
        }
        match req.take_body().into_bytes_limit(config.body_limit).await {
            Ok(bytes) => req.set_body(bytes),
            Err(_) => {
                record(req.method(), &path, StatusCode::PAYLOAD_TOO_LARGE);
                return Ok(too_large());
            }
        }
    }
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let mut resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => problem::catch_all(e).await,
    };
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(allowed) = super::spec::allowed_methods(route_template(&path))
        && let Ok(value) = HeaderValue::from_str(allowed)
    {
        resp.headers_mut().insert("Allow", value);
    }
    if resp.status() == StatusCode::SERVICE_UNAVAILABLE
        && !resp.headers().contains_key("retry-after")
    {
        resp.headers_mut()
            .insert("Retry-After", HeaderValue::from(RETRY_AFTER_SECS));
    }
    // One line per request at debug (`RUST_LOG=weir=debug`): at thousands of
    // enqueues a second, an info line each would cost more than the work.
    tracing::debug!(
        %method,
        path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    record(&method, &path, resp.status());
    Ok(resp)
}

/// Methods that may change state (everything but GET, HEAD, OPTIONS and
/// TRACE).
fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Whether a browser says the request comes from a page of another origin.
/// `Sec-Fetch-Site` is trusted when present (`same-origin` and `none`, a
/// user's own navigation, pass); else an `Origin` whose host and port are
/// not the request's `Host` is cross-site. Requests with neither header
/// come from programs, not from pages, and pass.
fn cross_site(req: &Request) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = header("origin") else {
        return false;
    };
    let host = header("host").or_else(|| req.uri().authority().map(|a| a.as_str()));
    match (origin.split_once("://"), host) {
        (Some((_, authority)), Some(host)) => !authority.eq_ignore_ascii_case(host),
        // `Origin: null` (a sandboxed page, a file) or no host to compare.
        _ => true,
    }
}

/// Constant-time comparison of the presented token with each configured one.
fn authorized(req: &Request, tokens: &[String]) -> bool {
    let Some(presented) = bearer(req) else {
        return false;
    };
    let mut ok = false;
    for token in tokens {
        ok |= constant_time_eq(presented.as_bytes(), token.as_bytes());
    }
    ok
}

/// The bearer token the request presents, if any.
pub(super) fn bearer(req: &Request) -> Option<&str> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts a request by method, route template and status: each label
/// takes a bounded set of values, whatever clients send.
fn record(method: &Method, path: &str, status: StatusCode) {
    crate::metrics::http_request(method_label(method), route_template(path), status.as_str());
}

/// The method's name if it is a standard one, else `OTHER`.
pub fn method_label(method: &Method) -> &'static str {
    const KNOWN: &[Method] = &[
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|m| *m == method)
        .map_or("OTHER", |m| match *m {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::OPTIONS => "OPTIONS",
            Method::TRACE => "TRACE",
            _ => "CONNECT",
        })
}

/// The template of [`ROUTES`] that `path` matches (`/v1/jobs/<uuid>/cancel`
/// → `/v1/jobs/{id}/cancel`), the root of a tree of `TREES`, or
/// [`OTHER_ROUTE`].
pub fn route_template(path: &str) -> &'static str {
    let matches = |template: &str| {
        let mut got = path.split('/');
        let mut want = template.split('/');
        loop {
            match (got.next(), want.next()) {
                (None, None) => return true,
                (Some(g), Some(w)) if w.starts_with('{') => {
                    if g.is_empty() {
                        return false;
                    }
                }
                (Some(g), Some(w)) if g == w => {}
                _ => return false,
            }
        }
    };
    if let Some(route) = ROUTES.iter().find(|t| matches(t)) {
        return route;
    }
    TREES
        .iter()
        .find(|t| path == **t || path.strip_prefix(**t).is_some_and(|r| r.starts_with('/')))
        .copied()
        .unwrap_or(OTHER_ROUTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_template_or_other() {
        let id = "0190a5e4-7b3c-7d2e-9f10-2a3b4c5d6e7f";
        assert_eq!(route_template("/v1/jobs"), "/v1/jobs");
        assert_eq!(route_template("/v1/jobs/batch"), "/v1/jobs/batch");
        assert_eq!(route_template(&format!("/v1/jobs/{id}")), "/v1/jobs/{id}");
        assert_eq!(
            route_template(&format!("/v1/jobs/{id}/cancel")),
            "/v1/jobs/{id}/cancel"
        );
        assert_eq!(
            route_template("/v1/queues/mail/pause"),
            "/v1/queues/{name}/pause"
        );
        assert_eq!(
            route_template(&format!("/v1/workflows/{id}/events")),
            "/v1/workflows/{id}/events"
        );
        assert_eq!(route_template("/ui/app.js"), "/ui");
        assert_eq!(route_template("/docs"), "/docs");
        for other in [
            "/v1/jobs/x/whatever",
            "/v1/nope",
            "/v1/jobs/",
            "/uix",
            "/v1/queues/x/y",
            "",
        ] {
            assert_eq!(route_template(other), OTHER_ROUTE, "{other}");
        }
    }

    #[test]
    fn every_path_of_the_spec_is_a_route() {
        let spec: serde_json::Value = serde_json::from_str(&super::super::spec_json()).unwrap();
        for path in spec["paths"].as_object().unwrap().keys() {
            assert!(ROUTES.contains(&path.as_str()), "{path} is not in ROUTES");
        }
    }

    #[test]
    fn unknown_methods_are_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
