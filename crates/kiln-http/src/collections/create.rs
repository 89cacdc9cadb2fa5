//! `POST /api/collections`

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use kiln_hooks::migrate::Automigrate;

use kiln_core::App;

use super::hooks::{collection_of, fields, watching, CREATE};
use crate::error::{api, ApiResult};
use crate::extract::{require_superuser, Ctx, JsonBody};
use crate::hooks::hooked;

pub async fn handler(
    State(app): State<App>,
    auto: Option<Extension<Arc<Automigrate>>>,
    hooks: Option<Extension<Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    require_superuser(&ctx)?;
    let h = watching(hooks, &CREATE, &body);
    let fields = fields(body.clone(), &CREATE);
    let own = Ctx {
        req: ctx.req.clone(),
    };
    hooked(
        h,
        CREATE[0],
        None,
        &ctx,
        None,
        fields,
        move |f| async move {
            let body = collection_of(&f, body);
            let c = app.create_collection(&body).await.map_err(api)?;
            super::automigrate::changed(&app, auto, None, Some(&c)).await;
            own.json(c.to_json(false)).map(IntoResponse::into_response)
        },
    )
    .await
}
