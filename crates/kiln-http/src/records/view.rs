//! `GET /api/collections/{collection}/records/{id}`

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use kiln_core::records::RuleKind;
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
    let record = app
        .find_record_with_rule(&c, &id, &ctx.req, RuleKind::View)
        .map_err(api)?;
    if let Some(h) = hooks.as_ref().map(|h| &h.0).filter(|h| h.watches_reads(&c)) {
        let out = h.view_record(&record, &ctx.req).await;
        return crate::hooks::read_outcome(out, |patches| {
            let body = super::common::render_one(&app, &ctx, record)?;
            Ok(crate::hooks::patched(body.0, patches, false).into_response())
        });
    }
    super::common::render_one(&app, &ctx, record).map(IntoResponse::into_response)
}
