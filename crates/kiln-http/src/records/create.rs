//! `POST /api/collections/{collection}/records`

use axum::extract::State;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{PathParams, BodyMap, Ctx};
use crate::json::RawJson;

pub async fn handler(State(app): State<App>, PathParams(collection): PathParams<String>, mut ctx: Ctx, BodyMap(body): BodyMap) -> ApiResult<RawJson> {
    let c = crate::records::write_collection(&app, &collection)?;
    ctx.req.body = body.clone();
    let record = app.create_record(&c, &ctx.req, body).await.map_err(api)?;
    super::render_one(&app, &ctx, record)
}
