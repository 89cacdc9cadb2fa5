//! `GET /api/backups/{key}?token=`: downloads a backup with a superuser's file token.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams(key): PathParams<String>,
    ctx: Ctx,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let token = ctx.query("token").unwrap_or("");
    let store = match app.backup_for_download(&key, token, ctx.req.ip).await {
        Ok(store) => store,
        Err(kiln_core::CoreError::Backup(kiln_core::backups::BackupError::Missing)) => {
            return Err(crate::error::ApiError::not_found())
        }
        Err(e) => return Err(api(e)),
    };
    let files = crate::public::PublicDir::from_store(store);
    let mut res = match files.serve_key(&method, &key, &headers).await {
        Some(res) => res,
        None => return Err(crate::error::ApiError::not_found()),
    };
    let disposition = format!("attachment; filename=\"{key}\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res.into_response())
}
