//! PocketBase's default security headers, added to every response that does not set its own.

use axum::http::header::{self, HeaderName, HeaderValue};
use axum::response::Response;

/// A response extension: the body may be shown inside a frame of another page (stored files,
/// as PocketBase serves them), so no `X-Frame-Options`.
#[derive(Debug, Clone, Copy)]
pub struct Embeddable;

const COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");

/// `X-Content-Type-Options: nosniff`, `X-Frame-Options: SAMEORIGIN` (unless [`Embeddable`]),
/// `X-XSS-Protection: 1; mode=block` and `Cross-Origin-Opener-Policy: same-origin`, as
/// PocketBase 0.40 sends them.
pub async fn security_headers(mut res: Response) -> Response {
    let embeddable = res.extensions().get::<Embeddable>().is_some();
    let h = res.headers_mut();
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    if !embeddable {
        h.entry(header::X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("SAMEORIGIN"));
    }
    h.entry(header::X_XSS_PROTECTION)
        .or_insert(HeaderValue::from_static("1; mode=block"));
    h.entry(COOP)
        .or_insert(HeaderValue::from_static("same-origin"));
    res
}
