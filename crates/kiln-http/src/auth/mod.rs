//! `/api/collections/{collection}/auth-*`: authentication of auth collection records.

mod impersonate;
mod methods;
mod refresh;
mod with_password;

use axum::routing::{get, post};
use axum::Router;


use kiln_core::records::Record;
use kiln_core::App;

use crate::error::ApiResult;
use crate::extract::Ctx;
use crate::json::RawJson;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/collections/{collection}/auth-methods", get(methods::handler))
        .route("/api/collections/{collection}/auth-with-password", post(with_password::handler))
        .route("/api/collections/{collection}/auth-refresh", post(refresh::handler))
        .route("/api/collections/{collection}/impersonate/{id}", post(impersonate::handler))
}

/// `{"record": …, "token": …}`, the record shown to itself (its email is visible).
pub(crate) fn auth_response(app: &App, ctx: &Ctx, record: Record, token: String) -> ApiResult<RawJson> {
    let mut own = Ctx { req: ctx.req.clone() };
    own.req.auth = Some(std::sync::Arc::new(record.clone()));
    let mut out = Vec::with_capacity(768);
    out.extend_from_slice(b"{\"record\":");
    crate::records::write_items(app, &own, &mut [record], &mut out)?;
    out.extend_from_slice(b",\"token\":");
    let _ = serde_json::to_writer(&mut out, &token);
    out.push(b'}');
    Ok(RawJson(out))
}
