//! `POST /api/collections/{collection}/auth-with-password`

use axum::extract::State;

use kiln_core::records::values::to_text;
use kiln_core::App;

use crate::error::{api, ApiResult};
use crate::extract::{PathParams, BodyMap, Ctx};
use crate::json::RawJson;

pub async fn handler(State(app): State<App>, PathParams(collection): PathParams<String>, ctx: Ctx, BodyMap(body): BodyMap) -> ApiResult<RawJson> {
    let c = app.records_collection(&collection).map_err(api)?;
    let field = |k: &str| body.get(k).map(to_text).unwrap_or_default();
    let identity_field = field("identityField");
    let result = app
        .auth_with_password(&c, &field("identity"), &field("password"), Some(identity_field.as_str()), &ctx.req)
        .await
        .map_err(api)?;
    super::auth_response(&app, &ctx, result.record, result.token)
}
