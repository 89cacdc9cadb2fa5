//! The app's `pb_hooks` in the API. Their routes (`routerAdd`): a request whose method and path
//! one of them takes goes to the hooks' runtimes instead of Kiln's own routes (the hooks run
//! first, so an app can also replace a route); without hook routes this layer is not installed
//! at all. And the records writes of collections record hooks listen on, which the records
//! handlers hand to the hooks (`for_records`, `outcome`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use kiln_core::records::model::Record;
use kiln_core::schema::collection::Collection;
use kiln_core::CoreError;
use kiln_hooks::{
    HookRequest, HookResponse, Hooks, Middlewares, Patch, ReadOutcome, RecordOutcome,
};

use crate::caller::Caller;
use crate::error::{api, ApiError};
use crate::json::RawJson;
use crate::MAX_BODY_BYTES;

pub(crate) async fn middleware(
    State(hooks): State<Arc<Hooks>>,
    req: Request,
    next: Next,
) -> Response {
    let Some((index, params)) = hooks.find_route(req.method().as_str(), req.uri().path()) else {
        return next.run(req).await;
    };
    let (parts, bytes) = match read(req).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    match hooks
        .call_route(index, params, hook_request(&parts, &bytes))
        .await
    {
        Ok(out) => answer_for(out, parts.headers.get(header::ACCEPT_ENCODING)),
        Err(e) => route_error(e),
    }
}

/// `routerUse`'s middlewares around every request (Kiln's own routes and the hooks' alike):
/// the request goes on where their last `e.next()` is called.
pub(crate) async fn global(State(hooks): State<Arc<Hooks>>, req: Request, next: Next) -> Response {
    let (parts, bytes) = match read(req).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let info = hook_request(&parts, &bytes);
    let accept = parts.headers.get(header::ACCEPT_ENCODING).cloned();
    let req = Request::from_parts(parts, Body::from(bytes));
    let downstream: Arc<std::sync::Mutex<Option<Response>>> = Arc::default();
    let slot = downstream.clone();
    let go: kiln_hooks::Next = Box::new(move |_| {
        Box::pin(async move {
            let res = next.run(req).await;
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(res);
            Value::Null
        })
    });
    let out = hooks.call_middlewares(info, go).await;
    let passed = downstream.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (out, passed) {
        // the request went on: its answer stands (a hook cannot answer twice), as the
        // middlewares asked (compressed, not logged)
        (Ok(Middlewares::WentOn(asked)), Some(res)) => shaped(res, &asked, accept.as_ref()).await,
        (Ok(_), Some(res)) => res,
        (Ok(Middlewares::Answered(out)), None) => answer_for(out, accept.as_ref()),
        (Ok(Middlewares::WentOn(_)), None) => StatusCode::OK.into_response(),
        (Err(e), _) => route_error(e),
    }
}

/// The largest answer `$apis.gzip()` compresses after the fact (a bigger or streamed one goes
/// out as it is).
const MAX_GZIP: u64 = 8 << 20;

/// `res` as `routerUse`'s middlewares asked: not logged on success, gzip-compressed when the
/// client takes it and the answer is whole, small enough and not compressed already.
async fn shaped(mut res: Response, asked: &HookResponse, accept: Option<&HeaderValue>) -> Response {
    if asked.skip_log {
        res.extensions_mut()
            .insert(crate::request_log::SkipSuccessLog);
    }
    let takes_gzip = takes_gzip(accept);
    let whole = axum::body::HttpBody::size_hint(res.body())
        .exact()
        .is_some_and(|n| n > 0 && n <= MAX_GZIP);
    let streamed = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if !asked.gzip
        || !takes_gzip
        || !whole
        || streamed
        || res.headers().contains_key(header::CONTENT_ENCODING)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_GZIP as usize).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    Response::from_parts(parts, Body::from(gzipped(&bytes)))
}

/// Request hook `name` (an account flow's, `onRecordRequestPasswordResetRequest`, …, or
/// `onRealtimeSubscribeRequest`) around `flow`, where PocketBase triggers it: the event carries
/// the collection, `record` and `fields`; the last `e.next()` runs the flow with the fields as
/// the hooks left them, and its answer stands. A hook may also refuse (its error is the
/// answer) or answer itself.
pub(crate) async fn around<F, Fut>(
    hooks: Arc<Hooks>,
    name: &'static str,
    c: Option<&Collection>,
    ctx: &crate::extract::Ctx,
    record: Option<&Record>,
    fields: Value,
    flow: F,
) -> crate::error::ApiResult<Response>
where
    F: FnOnce(Value) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::error::ApiResult<Response>> + Send + 'static,
{
    let done: Arc<std::sync::Mutex<Option<crate::error::ApiResult<Response>>>> = Default::default();
    let slot = done.clone();
    let next: kiln_hooks::Next = Box::new(move |fields| {
        Box::pin(async move {
            let out = flow(fields).await;
            let after = flow_outcome(&out);
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
            after
        })
    });
    let out = hooks
        .around_request(name, c, &ctx.req, record, fields, next)
        .await;
    let ran = done.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (out, ran) {
        // the flow ran: its answer stands (a hook cannot answer twice, and what failed after
        // the flow, a hook's code or its budget, does not undo it)
        (out, Some(res)) => {
            if let Err(e) = out {
                tracing::warn!(target: "kiln_hooks", hook = name, "after the flow: {e}");
            }
            res
        }
        (Ok(Some(res)), None) => Ok(answer(res)),
        (Ok(None), None) => Ok(StatusCode::OK.into_response()),
        (Err(e), None) => Err(api(e)),
    }
}

/// What `e.next()` returns to the hooks after a flow: `{"ok": true}`, or the flow's error for
/// the hooks to throw (as PocketBase's `e.Next()` returns it).
pub(crate) fn flow_outcome(out: &Result<Response, ApiError>) -> Value {
    match out {
        Ok(r) if r.status().is_success() => serde_json::json!({ "ok": true }),
        Ok(r) => {
            serde_json::json!({ "ok": false, "error": { "status": r.status().as_u16(), "message": "", "data": {} } })
        }
        Err(e) => failed_outcome(e),
    }
}

/// [`flow_outcome`] of a flow that failed with `e`.
pub(crate) fn failed_outcome(e: &ApiError) -> Value {
    serde_json::json!({
        "ok": false,
        "error": { "status": e.status.as_u16(), "message": e.message, "data": e.data },
    })
}

/// [`around`] when `hooks` is set (the hook listens and PocketBase would trigger it for this
/// request), else just `flow`.
pub(crate) async fn hooked<F, Fut>(
    hooks: Option<Arc<Hooks>>,
    name: &'static str,
    c: Option<&Collection>,
    ctx: &crate::extract::Ctx,
    record: Option<&Record>,
    fields: Value,
    flow: F,
) -> crate::error::ApiResult<Response>
where
    F: FnOnce(Value) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::error::ApiResult<Response>> + Send + 'static,
{
    match hooks {
        Some(h) => around(h, name, c, ctx, record, fields, flow).await,
        None => flow(Value::Null).await,
    }
}

/// The request's head and its body, read whole (413 past the API's limit).
async fn read(req: Request) -> Result<(axum::http::request::Parts, axum::body::Bytes), Response> {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => Ok((parts, bytes)),
        Err(_) => Err(
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large.")
                .into_response(),
        ),
    }
}

/// An error of Kiln's a hook let through: a failed write's field errors under PocketBase's
/// generic message, as its router answers an error that is no API error.
fn route_error(e: CoreError) -> Response {
    match e {
        CoreError::Validation { errors, .. } => {
            ApiError::bad_request(crate::error::MSG_GENERIC_400)
                .with_errors(errors)
                .into_response()
        }
        e => api(e).into_response(),
    }
}

/// The request as the hooks' event shows it.
fn hook_request(parts: &axum::http::request::Parts, bytes: &[u8]) -> HookRequest {
    let caller = parts.extensions.get::<Caller>();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let list = headers
            .entry(name.as_str().to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let (Value::Array(list), Ok(v)) = (list, value.to_str()) {
            list.push(Value::String(v.to_owned()));
        }
    }
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let mut query = Map::new();
    for (k, v) in
        serde_urlencoded::from_str::<Vec<(String, String)>>(&raw_query).unwrap_or_default()
    {
        if let Value::Array(list) = query.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
            list.push(Value::String(v));
        }
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = if content_type.starts_with("application/json") {
        serde_json::from_slice(bytes).unwrap_or(Value::Null)
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    } else {
        Value::Null
    };
    let auth = caller
        .and_then(|c| c.auth.as_deref())
        .map(kiln_hooks::auth_value)
        .unwrap_or(Value::Null);
    let ip = caller
        .and_then(|c| c.ip)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    HookRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        raw_query,
        query,
        headers,
        body,
        auth,
        ip,
    }
}

/// A hook's own answer as a response.
pub(crate) fn answer(out: HookResponse) -> Response {
    answer_for(out, None)
}

/// [`answer`] to a request whose `Accept-Encoding` was `accept`: gzip-compressed when a hook
/// asked for it (`$apis.gzip()`) and the client takes it.
pub(crate) fn answer_for(out: HookResponse, accept: Option<&HeaderValue>) -> Response {
    let gzip = out.gzip && !out.body.is_empty() && takes_gzip(accept);
    let body = match gzip {
        true => gzipped(out.body.as_bytes()),
        false => out.body.into_bytes(),
    };
    let mut res = Response::new(Body::from(body));
    if gzip {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if out.skip_log {
        res.extensions_mut()
            .insert(crate::request_log::SkipSuccessLog);
    }
    *res.status_mut() =
        StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = match out.content_type.as_str() {
        "json" => Some(HeaderValue::from_static("application/json")),
        "" => None,
        other => HeaderValue::from_str(other).ok(),
    };
    if let Some(ct) = content_type {
        res.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    if let Some(location) = out.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    res
}

/// Whether an `Accept-Encoding` takes gzip.
fn takes_gzip(accept: Option<&HeaderValue>) -> bool {
    accept
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // writing to memory cannot fail
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// The hooks, when record hooks listen on `c` (its writes then run through them).
pub(crate) fn for_records<'a>(
    hooks: &'a Option<axum::Extension<Arc<Hooks>>>,
    c: &Collection,
) -> Option<&'a Arc<Hooks>> {
    hooks.as_ref().map(|h| &h.0).filter(|h| h.watches(c))
}

/// How a records read that hooks ran ended, as the API answers it (`render` answers as Kiln
/// would, with the hooks' patches).
pub(crate) fn read_outcome(
    out: ReadOutcome,
    render: impl FnOnce(Vec<(String, Patch)>) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    match out {
        ReadOutcome::Render(patches) => render(patches),
        ReadOutcome::Answered(res) => Ok(answer(res)),
        ReadOutcome::Failed(e) => Err(api(e)),
    }
}

/// A rendered record (`list`: a page, its records under `items`) with the hooks' patches applied
/// to the records of the same id.
pub(crate) fn patched(body: Vec<u8>, patches: Vec<(String, Patch)>, list: bool) -> RawJson {
    if patches.iter().all(|(_, p)| p.is_empty()) {
        return RawJson(body);
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&body) else {
        return RawJson(body);
    };
    let records: Vec<&mut Value> = match list {
        true => match v.get_mut("items") {
            Some(Value::Array(items)) => items.iter_mut().collect(),
            _ => Vec::new(),
        },
        false => vec![&mut v],
    };
    for record in records {
        let Value::Object(m) = record else { continue };
        let id = m
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some((_, p)) = patches.iter().find(|(pid, _)| *pid == id) {
            p.apply(m);
        }
    }
    RawJson(serde_json::to_vec(&v).unwrap_or(body))
}

/// How a records write that hooks ran ended, as the API answers it (`written` renders the
/// record the write made, with what `onRecordEnrich` changed of it).
pub(crate) fn outcome(
    out: RecordOutcome,
    written: impl FnOnce(Record, Patch) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    match out {
        RecordOutcome::Written(r, patch) => written(r, patch),
        RecordOutcome::Answered(res) => Ok(answer(res)),
        RecordOutcome::Failed(e) => Err(api(e)),
    }
}
