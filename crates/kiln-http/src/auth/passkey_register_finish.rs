//! `POST /api/collections/{collection}/passkeys/register-finish` (authenticated): stores the
//! verified credential; answers the new `_passkeys` record.

use axum::extract::State;
use serde_json::Value;

use kiln_core::records::RenderOptions;
use kiln_core::App;

use super::common::text;
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};
use crate::json::RawJson;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<RawJson> {
    let c = app.auth_collection(&collection).map_err(api)?;
    let credential = body.get("credential").cloned().unwrap_or(Value::Null);
    let record = app
        .passkey_register_finish(
            &c,
            &ctx.req,
            &text(&body, "challengeId"),
            &text(&body, "name"),
            &credential,
        )
        .await
        .map_err(api)?;
    let mut out = Vec::with_capacity(512);
    app.write_records(&mut [record], &ctx.req, &RenderOptions::default(), &mut out)
        .map_err(api)?;
    Ok(RawJson(out))
}
