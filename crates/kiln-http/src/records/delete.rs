//! `DELETE /api/collections/{collection}/records/{id}`

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use kiln_core::App;
use kiln_hooks::Hooks;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};

pub async fn handler(
    State(app): State<App>,
    PathParams((collection, id)): PathParams<(String, String)>,
    hooks: Option<Extension<Arc<Hooks>>>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let c = app.records_collection(&collection).map_err(api)?;
    if let Some(h) = crate::hooks::for_records(&hooks, &c) {
        let out = h.delete_record(c, id, ctx.req).await;
        return crate::hooks::outcome(out, |_, _| Ok(StatusCode::NO_CONTENT.into_response()));
    }
    app.delete_record(&c, &id, &ctx.req).await.map_err(api)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
