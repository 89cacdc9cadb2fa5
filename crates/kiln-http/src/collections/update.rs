//! `PATCH /api/collections/{collection}`

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use kiln_hooks::migrate::Automigrate;
use serde_json::Value;

use kiln_core::App;

use super::hooks::{collection_of, fields, watching, UPDATE};
use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, JsonBody, PathParams};
use crate::hooks::hooked;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
    auto: Option<Extension<Arc<Automigrate>>>,
    hooks: Option<Extension<Arc<kiln_hooks::Hooks>>>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    require_superuser(&ctx)?;
    let old = app.collection(&collection).ok();
    // the hooks see the collection as the request would leave it
    let h = match &old {
        Some(c) => watching(hooks, &UPDATE, &c.to_json(false)),
        None => None,
    };
    let fields = match (&h, &old) {
        (Some(_), Some(c)) => {
            let mut merged = c.to_json(false);
            if let (Value::Object(m), Value::Object(patch)) = (&mut merged, &body) {
                m.extend(patch.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            fields(merged, &UPDATE)
        }
        _ => Value::Null,
    };
    let own = Ctx {
        req: ctx.req.clone(),
    };
    hooked(
        h,
        UPDATE[0],
        None,
        &ctx,
        None,
        fields,
        move |f| async move {
            let body = collection_of(&f, body);
            let c = app
                .update_collection(&collection, &body)
                .await
                .map_err(api)?;
            super::automigrate::changed(&app, auto, old.as_deref(), Some(&c)).await;
            own.json(c.to_json(false)).map(IntoResponse::into_response)
        },
    )
    .await
}
