//! `Idempotency-Key` on record creates and updates and on batches: the first request with a key
//! runs and its answer is kept; a retry with the same key and the same request (method, path,
//! query, body — a multipart body without its random boundary — and caller) gets that answer
//! again (`Idempotent-Replayed: true`) and changes nothing; the same key with another request is
//! a 422. A retry that arrives while the first is still running waits for its answer (up to
//! [`WAIT`], then a 409). An answer that says the request did not run to its end (a server
//! error, 429, 408) is not kept: a retry runs it. Once claimed, a request runs to its end even
//! if the client goes away. Keys belong to their caller: the signed-in record, or for guests the
//! client's address (guests behind one address share keys: theirs should be random).
//!
//! The request's body is read whole to fingerprint it, up to [`crate::MAX_BODY_BYTES`].

use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use kiln_core::idempotency::{fingerprint, Claim, MAX_KEY_LEN};
use kiln_core::App;

use crate::error::{api, ApiError, MSG_TOO_LARGE};

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// How long a retry waits for the first request with its key to finish.
const WAIT: Duration = Duration::from_secs(10);

/// The middleware, on the routes whose writes it covers.
pub async fn middleware(State(app): State<App>, req: Request, next: Next) -> Response {
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    if !matches!(*req.method(), Method::POST | Method::PATCH) {
        return next.run(req).await;
    }
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= MAX_KEY_LEN => k.to_owned(),
        _ => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                "The Idempotency-Key header must be 1 to {MAX_KEY_LEN} visible ASCII characters."
            ),
            )
            .into_response()
        }
    };
    match run(&app, key, req, next).await {
        Ok(res) | Err(res) => res,
    }
}

async fn run(app: &App, key: String, req: Request, next: Next) -> Result<Response, Response> {
    let scope = scope(&req);
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, crate::MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, MSG_TOO_LARGE).into_response())?;
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // a multipart body's boundary is random per send: a retry with the same parts must match
    let (content_type, body) = match multipart_boundary(content_type) {
        Some(b) => (
            "multipart/form-data".to_owned(),
            std::borrow::Cow::Owned(without(&bytes, b.as_bytes())),
        ),
        None => (
            content_type.to_owned(),
            std::borrow::Cow::Borrowed(&bytes[..]),
        ),
    };
    let fingerprint = fingerprint(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path().as_bytes(),
        parts.uri.query().unwrap_or("").as_bytes(),
        content_type.as_bytes(),
        &body,
    ]);
    drop(body);
    let started = Instant::now();
    let mut claim = app
        .idempotency_claim(&scope, &key, &fingerprint)
        .await
        .map_err(|e| api(e).into_response())?;
    loop {
        match claim {
            Claim::Run => break,
            Claim::Replay { status, body } => return Ok(replay(status, body)),
            Claim::Mismatch => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "This Idempotency-Key was used with another request.",
                )
                .into_response())
            }
            Claim::InProgress if started.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(25)).await;
                // read until the first request answers; claim again if it gave the key back
                claim = match app.idempotency_state(&scope, &key, &fingerprint) {
                    Ok(Some(c)) => c,
                    Ok(None) => app
                        .idempotency_claim(&scope, &key, &fingerprint)
                        .await
                        .map_err(|e| api(e).into_response())?,
                    Err(e) => return Err(api(e).into_response()),
                };
            }
            Claim::InProgress => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "A request with this Idempotency-Key is still in progress.",
                )
                .into_response())
            }
        }
    }
    // the write and the keeping of its answer run to their end even if the client goes away
    // (a retry must find the answer, not a key claimed for a day)
    let app = app.clone();
    let done = tokio::spawn(async move {
        let res = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        keep(&app, &scope, &key, res).await
    });
    done.await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Keeps the answer `res` for the key, or gives the key back when the answer says the request
/// did not run to its end (a server error, a rate limit, a timeout): a retry may run it then.
async fn keep(app: &App, scope: &str, key: &str, res: Response) -> Response {
    let (parts, body) = res.into_parts();
    // the answers of these routes are JSON documents of bounded size
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        let _ = app.idempotency_release(scope, key).await;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let not_run = parts.status.is_server_error()
        || parts.status == StatusCode::TOO_MANY_REQUESTS
        || parts.status == StatusCode::REQUEST_TIMEOUT;
    let kept = match not_run {
        true => app.idempotency_release(scope, key).await,
        false => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            app.idempotency_answer(scope, key, parts.status.as_u16(), text)
                .await
        }
    };
    if let Err(e) = kept {
        tracing::warn!(error = %e, "cannot keep the answer of an idempotent request");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

/// `bytes` with every occurrence of `pattern` taken out.
fn without(bytes: &[u8], pattern: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(pattern) {
            i += pattern.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Whose key it is: the signed-in record, or a guest's address.
fn scope(req: &Request) -> String {
    match req.extensions().get::<crate::caller::Caller>() {
        Some(crate::caller::Caller { auth: Some(r), .. }) => {
            format!("{}/{}", r.collection.id, r.id())
        }
        Some(crate::caller::Caller { ip: Some(ip), .. }) => format!("guest/{ip}"),
        _ => "guest".to_owned(),
    }
}

/// A kept answer, again.
fn replay(status: u16, body: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let h = res.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}
