//! The HTTP side of `/api/graphql`: requests in (JSON, multipart with files, a GET's query
//! string, a WebSocket upgrade) and the GraphQL response out.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{UploadValue, Variables};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::Value;

use kiln_core::App;
use kiln_hooks::Hooks;

use super::cache::Cache;
use super::call::Call;
use crate::error::{ApiError, ApiResult, MSG_GENERIC_400, MSG_TOO_LARGE};
use crate::extract::Ctx;
use crate::json::RawJson;

/// `GET /api/graphql`: a WebSocket upgrade, or a query (`query`, `variables` as JSON,
/// `operationName`). Mutations need a POST: a link must not change data.
pub async fn get(
    State(app): State<App>,
    hooks: Option<Extension<Arc<Hooks>>>,
    Extension(cache): Extension<Arc<Cache>>,
    ctx: Ctx,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let hooks = hooks.map(|h| h.0);
    if let Ok(ws) = ws {
        return Ok(super::ws::upgrade(app, hooks, cache, ctx, ws));
    }
    let bad = || ApiError::bad_request(MSG_GENERIC_400);
    let mut request = async_graphql::Request::new(ctx.query("query").ok_or_else(bad)?);
    if let Some(vars) = ctx.query("variables").filter(|v| !v.is_empty()) {
        let vars: Value = serde_json::from_str(vars).map_err(|_| bad())?;
        request = request.variables(Variables::from_json(vars));
    }
    if let Some(name) = ctx.query("operationName").filter(|v| !v.is_empty()) {
        request = request.operation_name(name);
    }
    cache.parse(&mut request);
    // an unparsable query is answered by the executor, as for a POST
    if let Ok(doc) = request.parsed_query() {
        if doc
            .operations
            .iter()
            .any(|(_, op)| op.node.ty != OperationType::Query)
        {
            return Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Only queries may be sent with GET; send mutations with POST.",
            ));
        }
    }
    execute(app, hooks, &cache, ctx, request, Vec::new()).await
}

/// `POST /api/graphql`: `{"query", "variables", "operationName"}` as JSON, or a multipart body
/// with `operations`, `map` and the file parts.
pub async fn post(
    State(app): State<App>,
    hooks: Option<Extension<Arc<Hooks>>>,
    Extension(cache): Extension<Arc<Cache>>,
    ctx: Ctx,
    req: Request,
) -> ApiResult<Response> {
    let bad = || ApiError::bad_request(MSG_GENERIC_400);
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        let body = axum::body::to_bytes(req.into_body(), crate::MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, MSG_TOO_LARGE))?;
        let mut request: async_graphql::Request =
            serde_json::from_slice(&body).map_err(|_| bad())?;
        cache.parse(&mut request);
        return execute(app, hooks.map(|h| h.0), &cache, ctx, request, Vec::new()).await;
    }
    let (limit, file_cap) = upload_limits(&app);
    let mut parts = Vec::new();
    let fields = crate::extract::read_body(req, &app, limit, file_cap, Some(&mut parts)).await?;
    let text = |key: &str| fields.get(key).and_then(Value::as_str).ok_or_else(bad);
    let mut request: async_graphql::Request =
        serde_json::from_str(text("operations")?).map_err(|_| bad())?;
    let map: HashMap<String, Vec<String>> =
        serde_json::from_str(text("map")?).map_err(|_| bad())?;
    let mut files = Vec::new();
    for (part, paths) in map {
        let Some(at) = parts.iter().position(|u| u.key == part) else {
            return Err(bad());
        };
        let mut upload = Some(parts.swap_remove(at));
        for path in paths {
            let before = request.uploads.len();
            request.set_upload(
                &path,
                UploadValue {
                    filename: upload
                        .as_ref()
                        .map(|u| u.original_name.clone())
                        .unwrap_or_default(),
                    content_type: None,
                    // the file stays in Kiln's own upload (streamed to disk); this is a token
                    content: Default::default(),
                },
            );
            if request.uploads.len() > before {
                // a part mapped to several variables fills the first
                files.push(upload.take());
            }
        }
    }
    cache.parse(&mut request);
    execute(app, hooks.map(|h| h.0), &cache, ctx, request, files).await
}

/// Runs `request`, whose document the caller has taken from the cache ([`Cache::parse`]).
async fn execute(
    app: App,
    hooks: Option<Arc<Hooks>>,
    cache: &Cache,
    ctx: Ctx,
    mut request: async_graphql::Request,
    files: Vec<Option<kiln_core::files::Upload>>,
) -> ApiResult<Response> {
    if let Err(message) = super::call::mutation_limit(&app, &mut request) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
    }
    let schema = cache.schema(&app, ctx.req.is_superuser(), hooks.as_deref())?;
    let call = Call::new(app, ctx.req, hooks, files);
    let response = schema.execute(request.data(call)).await;
    let body = serde_json::to_vec(&response)
        .map_err(|e| crate::error::api(kiln_core::CoreError::Internal(e.to_string())))?;
    Ok(RawJson(body).into_response())
}

/// The body limit of a multipart request: that of the collection taking the most files.
fn upload_limits(app: &App) -> (usize, u64) {
    app.schema()
        .all()
        .iter()
        .map(|c| app.upload_limits(&c.name))
        .fold((crate::MAX_BODY_BYTES, 0), |(l, c), (l2, c2)| {
            (l.max(l2), c.max(c2))
        })
}
