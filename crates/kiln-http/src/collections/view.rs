//! `GET /api/collections/{collection}`

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, PathParams};
use crate::hooks::around;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
) -> ApiResult<Response> {
    require_superuser(&ctx)?;
    let c = app.collection(&collection).map_err(api)?.to_json(false);
    let h = super::hooks::watching(hooks, &[VIEW], &c);
    let Some(h) = h else {
        return ctx.json(c).map(IntoResponse::into_response);
    };
    let own = Ctx {
        req: ctx.req.clone(),
    };
    let fields = json!({ "collection": c });
    around(h, VIEW, None, &ctx, None, fields, move |f| async move {
        own.json(super::hooks::collection_of(&f, c))
            .map(IntoResponse::into_response)
    })
    .await
}

const VIEW: &str = "onCollectionViewRequest";
