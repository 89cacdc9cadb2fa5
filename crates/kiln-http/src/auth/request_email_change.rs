//! `POST /api/collections/{collection}/request-email-change` (authenticated)

use axum::extract::State;
use axum::http::StatusCode;

use kiln_core::App;

use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::common::{text, watching};
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};
use crate::hooks::around;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<Response> {
    let c = app.auth_collection(&collection).map_err(api)?;
    let new_email = text(&body, "newEmail");
    let Some(h) = watching(hooks, HOOK, &c) else {
        app.request_email_change(&c, &ctx.req, &new_email)
            .await
            .map_err(api)?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    // the form holds before PocketBase triggers the hook; its `e.newEmail` is where the mail goes
    let record = app
        .email_change_form(&c, &ctx.req, &new_email)
        .map_err(api)?;
    let fields = json!({ "newEmail": new_email });
    let flow_c = c.clone();
    let req = ctx.req.clone();
    around(
        h,
        HOOK,
        Some(&c),
        &ctx,
        Some(&record),
        fields,
        move |f| async move {
            let new_email = f["newEmail"].as_str().unwrap_or(&new_email).to_owned();
            app.request_email_change(&flow_c, &req, &new_email)
                .await
                .map_err(api)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
    .await
}

const HOOK: &str = "onRecordRequestEmailChangeRequest";
