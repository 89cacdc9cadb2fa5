//! `POST /api/collections/{collection}/auth-refresh`

use axum::extract::State;
use serde_json::{json, Value};

use axum::http::{header, HeaderMap};
use kiln_core::auth::token;
use kiln_core::{App, CoreError};

use super::common::{hooked_auth_response, watching};
use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::hooks::around;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    headers: HeaderMap,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
) -> ApiResult<axum::response::Response> {
    let c = app.auth_collection(&collection).map_err(api)?;
    let Some(auth) = ctx.req.auth.clone() else {
        return Err(api(CoreError::AuthRequired));
    };
    if auth.collection.id != c.id {
        // PocketBase names the token's own collection here.
        return Err(api(CoreError::WrongAuthCollection(
            auth.collection.name.clone(),
        )));
    }
    let record = (*auth).clone();
    let Some(h) = watching(hooks.clone(), HOOK, &c) else {
        return refresh(app, record, headers, hooks, ctx).await;
    };
    let own = Ctx {
        req: ctx.req.clone(),
    };
    let shown = record.clone();
    around(
        h,
        HOOK,
        Some(&c),
        &ctx,
        Some(&shown),
        json!({}),
        move |_| refresh(app, record, headers, hooks, own),
    )
    .await
}

const HOOK: &str = "onRecordAuthRefreshRequest";

async fn refresh(
    app: App,
    record: kiln_core::records::Record,
    headers: HeaderMap,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
) -> ApiResult<axum::response::Response> {
    // A non-refreshable token (impersonation) is returned as it is, never renewed.
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let sent = sent.strip_prefix("Bearer ").unwrap_or(sent).trim();
    let refreshable = token::claims_unverified(sent)
        .and_then(|c| c.get("refreshable").and_then(Value::as_bool))
        .unwrap_or(false);
    let token = if refreshable {
        app.new_auth_token(&record, None, true).map_err(api)?
    } else {
        sent.to_owned()
    };
    hooked_auth_response(&app, &ctx, hooks, record, token, None, "").await
}
