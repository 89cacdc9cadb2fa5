//! `POST /api/batch`: record creates, upserts, updates and deletes in one transaction.
//!
//! The body is `{"requests": [{"method", "url", "headers", "body"}, …]}`, as JSON or as multipart
//! form data with that JSON in `@jsonPayload` and each write's files under `requests.N.field`
//! (or `requests[N].field`). Every write runs as the batch's requester, with context `batch`.
//! The answer lists each write's status and body, or names the first write that failed with its
//! own error response; then nothing was written.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use kiln_core::files::Upload;
use kiln_core::records::{BatchAction, BatchError, BatchWrite, RenderOptions};
use kiln_core::{App, RequestInfo};

use crate::error::{api, ApiError, ApiResult, MSG_GENERIC_400};
use crate::extract::{header_key, parse_query, read_body, Ctx};
use crate::json::RawJson;

pub fn router() -> Router<App> {
    Router::new().route(
        "/api/batch",
        // The limit is the settings' `batch.maxBodySize` (BatchBody).
        post(handler).layer(DefaultBodyLimit::disable()),
    )
}

/// PocketBase's limit when `batch.maxBodySize` is 0.
const DEFAULT_MAX_BODY: usize = 128 << 20;
/// PocketBase's time limit when `batch.timeout` is 0.
const DEFAULT_TIMEOUT_SECS: u64 = 3;
/// The longest `url` of a write.
const MAX_URL_CHARS: usize = 2000;

#[derive(Deserialize)]
struct Form {
    #[serde(default)]
    requests: Option<Vec<Item>>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: Option<HashMap<String, String>>,
    #[serde(default)]
    body: Option<Map<String, Value>>,
}

/// The batch's form and its files; refused while batches are disabled.
struct BatchBody {
    items: Vec<Item>,
    uploads: Vec<Upload>,
}

fn forbidden() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "Batch requests are not allowed.")
}

impl FromRequest<App> for BatchBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (enabled, max_requests, max_body) = {
            let s = app.settings();
            (s.batch.enabled, s.batch.max_requests, s.batch.max_body_size)
        };
        if !enabled || max_requests <= 0 {
            return Err(forbidden());
        }
        let limit = usize::try_from(max_body)
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_MAX_BODY);
        let unreadable = || ApiError::bad_request("Failed to read the submitted batch data.");
        let mut uploads = Vec::new();
        let body = read_body(req, app, limit, limit as u64, Some(&mut uploads))
            .await
            .map_err(|e| {
                if e.status == StatusCode::BAD_REQUEST {
                    unreadable()
                } else {
                    e
                }
            })?;
        let form: Form = serde_json::from_value(Value::Object(body)).map_err(|_| unreadable())?;
        let items = form.requests.unwrap_or_default();
        validate(&items, max_requests as usize)?;
        Ok(BatchBody { items, uploads })
    }
}

/// The form's checks, with PocketBase's codes: at least one write and at most `max`, each with a
/// known method and a URL.
fn validate(items: &[Item], max: usize) -> ApiResult<()> {
    let error = |code: &str, message: String| json!({"code": code, "message": message});
    let requests = if items.is_empty() {
        error("validation_required", "Cannot be blank.".into())
    } else if items.len() > max {
        json!({
            "code": "validation_length_too_long",
            "message": format!("The length must be no more than {max}."),
            "params": {"max": max, "min": 0},
        })
    } else {
        let mut each = Map::new();
        for (i, item) in items.iter().enumerate() {
            let mut fields = Map::new();
            match item.method.as_deref().unwrap_or("") {
                "" => {
                    fields.insert(
                        "method".into(),
                        error("validation_required", "Cannot be blank.".into()),
                    );
                }
                "GET" | "POST" | "PUT" | "PATCH" | "DELETE" => {}
                _ => {
                    fields.insert(
                        "method".into(),
                        error("validation_in_invalid", "Must be a valid value.".into()),
                    );
                }
            }
            let url = item.url.as_deref().unwrap_or("");
            if url.is_empty() {
                fields.insert(
                    "url".into(),
                    error("validation_required", "Cannot be blank.".into()),
                );
            } else if url.chars().count() > MAX_URL_CHARS {
                fields.insert(
                    "url".into(),
                    error(
                        "validation_length_too_long",
                        format!("The length must be no more than {MAX_URL_CHARS}."),
                    ),
                );
            }
            if !fields.is_empty() {
                each.insert(i.to_string(), Value::Object(fields));
            }
        }
        if each.is_empty() {
            return Ok(());
        }
        Value::Object(each)
    };
    let mut e = ApiError::bad_request("Invalid batch request data.");
    e.data.insert("requests".into(), requests);
    Err(e)
}

/// A write's route, as PocketBase matches `METHOD url`: the collection and id segments as
/// written (not decoded), and the query string.
fn route<'u>(method: &str, url: &'u str) -> Option<(&'u str, BatchAction, Option<&'u str>)> {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let rest = path.strip_prefix("/api/collections/")?;
    let mut parts = rest.split('/');
    let collection = parts.next().filter(|c| !c.is_empty())?;
    if parts.next()? != "records" {
        return None;
    }
    let id = parts.next();
    if parts.next().is_some() || id == Some("") {
        return None;
    }
    let action = match (method.to_ascii_uppercase().as_str(), id) {
        ("PUT", None) => BatchAction::Upsert,
        ("POST", None) => BatchAction::Create,
        ("PATCH", Some(id)) => BatchAction::Update(id.to_owned()),
        ("DELETE", Some(id)) => BatchAction::Delete(id.to_owned()),
        _ => return None,
    };
    Some((collection, action, query))
}

/// One write as the core runs it, and how its record is shown.
struct Planned {
    write: BatchWrite,
    render: RenderOptions,
}

/// Reads one write: its route, its request as rules see it, its files, its rate limit.
fn plan(
    app: &App,
    base: &RequestInfo,
    index: usize,
    item: Item,
    uploads: Vec<Upload>,
) -> Result<Planned, ApiError> {
    let method = item.method.unwrap_or_default();
    let url = item.url.unwrap_or_default();
    let (collection, action, query) = route(&method, &url).ok_or_else(|| {
        // PocketBase's error passes through the previous write's handler, which makes it a 500.
        let status = if index == 0 {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError::new(status, MSG_GENERIC_400)
    })?;
    let query = parse_query(query);
    let render = RenderOptions::from_query(
        query.get("expand").map(String::as_str),
        query.get("fields").map(String::as_str),
    )
    .map_err(api)?;
    let body = item.body.unwrap_or_default();
    let tag = match &action {
        BatchAction::Create => "create",
        BatchAction::Update(_) => "update",
        BatchAction::Delete(_) => "delete",
        // Counted as what it will most likely be; the core decides against the transaction.
        BatchAction::Upsert => match body.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => "update",
            _ => "create",
        },
    };
    let path = url.split('?').next().unwrap_or("");
    crate::ratelimit::check_batch_write(
        app,
        base.auth.as_ref(),
        base.ip,
        &method.to_ascii_uppercase(),
        path,
        collection,
        tag,
    )?;
    // The write's own headers replace the batch's, except the authorization: every write runs
    // as the batch's requester.
    let mut headers = base.headers.clone();
    for (k, v) in item.headers.unwrap_or_default() {
        let k = header_key(&k);
        if k != "authorization" {
            headers.insert(k, v);
        }
    }
    Ok(Planned {
        write: BatchWrite {
            collection: collection.to_owned(),
            action,
            req: RequestInfo {
                auth: base.auth.clone(),
                method: method.to_ascii_uppercase(),
                context: "batch",
                query,
                headers,
                body,
                ip: base.ip,
            },
            uploads,
        },
        render,
    })
}

/// Hands each write the files sent under `requests.N.` or `requests[N].`, keyed by the rest.
fn split_uploads(uploads: Vec<Upload>, n: usize) -> Vec<Vec<Upload>> {
    let mut out: Vec<Vec<Upload>> = (0..n).map(|_| Vec::new()).collect();
    for mut u in uploads {
        let Some(rest) = u.key.strip_prefix("requests") else {
            continue;
        };
        let parsed = if let Some(r) = rest.strip_prefix('.') {
            r.split_once('.')
        } else if let Some(r) = rest.strip_prefix('[') {
            r.split_once("].")
        } else {
            None
        };
        let Some((i, key)) = parsed.and_then(|(i, k)| Some((i.parse::<usize>().ok()?, k))) else {
            continue;
        };
        if i < n {
            u.key = key.to_owned();
            out[i].push(u);
        }
    }
    out
}

/// The failure of write `index`: its own error response, nested as PocketBase nests it.
fn failed_at(index: usize, e: ApiError) -> ApiError {
    let response = json!({"data": e.data, "message": e.message, "status": e.status.as_u16()});
    let mut out = ApiError::bad_request("Batch transaction failed.");
    out.data.insert(
        "requests".into(),
        json!({ index.to_string(): {
            "code": "batch_request_failed",
            "message": "Batch request failed.",
            "response": response,
        }}),
    );
    out
}

async fn handler(
    State(app): State<App>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    batch: BatchBody,
) -> ApiResult<RawJson> {
    let BatchBody { items, uploads } = batch;
    let timeout = u64::try_from(app.settings().batch.timeout)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(DEFAULT_TIMEOUT_SECS);
    let mut files = split_uploads(uploads, items.len()).into_iter();
    let mut planned = Vec::with_capacity(items.len());
    let mut refused = None;
    for (i, item) in items.into_iter().enumerate() {
        match plan(&app, &ctx.req, i, item, files.next().unwrap_or_default()) {
            Ok(p) => planned.push(p),
            Err(e) => {
                refused = Some(failed_at(i, e));
                break;
            }
        }
    }
    let (writes, renders): (Vec<BatchWrite>, Vec<(RenderOptions, RequestInfo)>) = planned
        .into_iter()
        .map(|p| {
            let shown = RequestInfo {
                body: Map::new(),
                ..p.write.req.clone()
            };
            (p.write, (p.render, shown))
        })
        .unzip();
    let timeout = Duration::from_secs(timeout);
    let mut patches = Vec::new();
    let results = match hooks.as_ref().map(|h| &h.0) {
        Some(h) if h.watches_batch(&app, &writes) => h
            .run_batch(writes, refused.is_some(), timeout)
            .await
            .map(|(records, p)| {
                patches = p;
                records
            }),
        _ => {
            app.run_batch(writes, refused.is_some(), timeout, None)
                .await
        }
    };
    let results = match results {
        Ok(r) => r,
        Err(BatchError::Failed { index, error }) => return Err(failed_at(index, api(error))),
        Err(BatchError::Refused { .. }) => {
            return Err(refused.unwrap_or_else(|| ApiError::bad_request(MSG_GENERIC_400)))
        }
        Err(BatchError::Timeout) => return Err(ApiError::bad_request("Batch transaction failed.")),
        Err(BatchError::Store(e)) => return Err(api(e)),
    };
    let mut out = Vec::with_capacity(256 + 512 * results.len());
    out.push(b'[');
    for (i, (record, (render, req))) in results.into_iter().zip(renders).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match record {
            Some(r) => {
                out.extend_from_slice(b"{\"body\":");
                match patches.iter().position(|(id, _)| id == r.id()) {
                    // what onRecordEnrich changed of it
                    Some(at) => {
                        let mut body = Vec::with_capacity(512);
                        app.write_records(&mut [r], &req, &render, &mut body)
                            .map_err(api)?;
                        let patch = patches.swap_remove(at);
                        out.extend(crate::hooks::patched(body, vec![patch], false).0);
                    }
                    None => app
                        .write_records(&mut [r], &req, &render, &mut out)
                        .map_err(api)?,
                }
                out.extend_from_slice(b",\"status\":200}");
            }
            None => out.extend_from_slice(b"{\"body\":null,\"status\":204}"),
        }
    }
    out.push(b']');
    Ok(RawJson(out))
}
