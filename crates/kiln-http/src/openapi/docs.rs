//! `/api/docs`: Swagger UI (the swagger-ui-dist package, built into the dashboard's embedded
//! files by `crates/kiln-dashboard/ui/build.mjs`) showing `/api/openapi.json`, with try-it-out
//! against this server. Served even without the dashboard.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Swagger UI runs its own bundle, styles elements inline and shows `data:` icons; it only
/// talks to this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub(crate) async fn page(method: Method, headers: HeaderMap) -> Response {
    serve("apidocs.html", &method, &headers)
}

pub(crate) async fn asset(
    Path(path): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    serve(&path, &method, &headers)
}

fn serve(path: &str, method: &Method, headers: &HeaderMap) -> Response {
    // its page, its own bundle and the icon: nothing else of the dashboard's
    let allowed = path == "apidocs.html"
        || path == "favicon.svg"
        || (path.starts_with("assets/apidocs-") && !path.contains(".."));
    let Some(asset) = kiln_dashboard::asset(path).filter(|_| allowed) else {
        return ApiError::not_found().into_response();
    };
    let mut res = crate::dashboard::embedded(asset, method, headers);
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    res
}
