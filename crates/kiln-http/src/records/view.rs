//! `GET /api/collections/{collection}/records/{id}`

use axum::extract::State;
use serde_json::Value;

use kiln_core::records::RuleKind;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{Ctx, PathParams};
use crate::json::Json;

pub async fn handler(State(app): State<App>, PathParams((collection, id)): PathParams<(String, String)>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let c = app.records_collection(&collection).map_err(api)?;
    let record = app.find_record_with_rule(&c, &id, &ctx.req, RuleKind::View).map_err(api)?;
    Ok(Json(super::render_one(&app, &ctx, record)?))
}
