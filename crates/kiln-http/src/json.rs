//! JSON responses written straight to bytes, with PocketBase's content type.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Bytes already encoded as JSON.
pub struct RawJson(pub Vec<u8>);

impl IntoResponse for RawJson {
    fn into_response(self) -> Response {
        let mut r = self.0.into_response();
        r.headers_mut().reserve(RESPONSE_HEADERS);
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }
}

/// Room for the headers a JSON answer ends with (its type and length, CORS, the security
/// headers, a request id): made once, where the map would otherwise grow twice on the way out.
const RESPONSE_HEADERS: usize = 12;

/// A JSON response body.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => RawJson(bytes).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "response serialization failed");
                axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}
