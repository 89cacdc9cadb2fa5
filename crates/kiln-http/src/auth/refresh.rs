//! `POST /api/collections/{collection}/auth-refresh`

use axum::extract::{Path, State};
use serde_json::Value;

use kiln_core::{App, CoreError};

use crate::error::{api, ApiResult};
use crate::extract::Ctx;
use crate::json::Json;

pub async fn handler(State(app): State<App>, Path(collection): Path<String>, ctx: Ctx) -> ApiResult<Json<Value>> {
    let c = app.records_collection(&collection).map_err(api)?;
    let Some(auth) = ctx.req.auth.clone() else { return Err(api(CoreError::AuthRequired)) };
    if auth.collection.id != c.id {
        return Err(api(CoreError::NotAllowed));
    }
    let record = (*auth).clone();
    let token = app.new_auth_token(&record, None, true).map_err(api)?;
    Ok(Json(super::auth_response(&app, &ctx, record, token)?))
}
