//! `/api/collections/{collection}/auth-*`: authentication of auth collection records.

mod impersonate;
mod methods;
mod refresh;
mod with_password;

use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use kiln_core::records::Record;
use kiln_core::App;

use crate::error::ApiResult;
use crate::extract::Ctx;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/collections/{collection}/auth-methods", get(methods::handler))
        .route("/api/collections/{collection}/auth-with-password", post(with_password::handler))
        .route("/api/collections/{collection}/auth-refresh", post(refresh::handler))
        .route("/api/collections/{collection}/impersonate/{id}", post(impersonate::handler))
}

/// `{"record": …, "token": …}`, the record shown to itself (its email is visible).
pub(crate) fn auth_response(app: &App, ctx: &Ctx, record: Record, token: String) -> ApiResult<Value> {
    let mut own = Ctx { req: ctx.req.clone() };
    own.req.auth = Some(std::sync::Arc::new(record.clone()));
    let record = crate::records::render_one(app, &own, record)?;
    Ok(json!({"record": record, "token": token}))
}
