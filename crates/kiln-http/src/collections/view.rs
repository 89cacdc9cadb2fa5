//! `GET /api/collections/{collection}`

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};
use crate::hooks::hooked;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
) -> ApiResult<Response> {
    require_superuser(&ctx)?;
    let c = app.collection(&collection).map_err(api)?.to_json(false);
    let h = super::hooks::watching(hooks, &[VIEW], &c);
    let own = Ctx { req: ctx.req.clone() };
    let fields = json!({ "collection": c });
    hooked(h, VIEW, None, &ctx, None, fields, move |f| async move {
        own.json(super::hooks::collection_of(&f, Value::Null))
            .map(IntoResponse::into_response)
    })
    .await
}

const VIEW: &str = "onCollectionViewRequest";
