//! `PATCH /api/collections/{collection}/records/{id}`

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use kiln_core::App;
use kiln_hooks::Hooks;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams, RecordBody};

pub async fn handler(
    State(app): State<App>,
    PathParams((collection, id)): PathParams<(String, String)>,
    hooks: Option<Extension<Arc<Hooks>>>,
    mut ctx: Ctx,
    RecordBody { body, uploads }: RecordBody,
) -> ApiResult<Response> {
    let c = crate::records::common::write_collection(&app, &collection)?;
    ctx.req.body = body.clone();
    if let Some(h) = crate::hooks::for_records(&hooks, &c) {
        let out = h.update_record(c, id, ctx.req.clone(), body, uploads).await;
        return crate::hooks::outcome(out, |r, patch| {
            let id = r.id().to_owned();
            let body = super::common::render_one(&app, &ctx, r)?;
            Ok(crate::hooks::patched(body.0, vec![(id, patch)], false).into_response())
        });
    }
    let record = app
        .update_record_with_files(&c, &id, &ctx.req, body, uploads)
        .await
        .map_err(api)?;
    super::common::render_one(&app, &ctx, record).map(IntoResponse::into_response)
}
