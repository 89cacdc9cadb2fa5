//! `POST /api/collections/{collection}/auth-with-oauth2`

use axum::extract::State;
use serde_json::{json, Map, Value};

use kiln_core::auth::oauth2::OAuth2Request;
use kiln_core::App;

use super::common::{hooked_auth_response, mfa_id, text, watching};
use crate::error::{api, ApiResult};
use crate::extract::{BodyMap, Ctx, PathParams};
use crate::hooks::hooked;

pub async fn handler(
    State(app): State<App>,
    PathParams(collection): PathParams<String>,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    ctx: Ctx,
    BodyMap(body): BodyMap,
) -> ApiResult<axum::response::Response> {
    let c = app.auth_collection(&collection).map_err(api)?;
    let mfa = mfa_id(&ctx, &body);
    let redirect = Some(text(&body, "redirectURL"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| text(&body, "redirectUrl"));
    let create_data = match body.get("createData") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let r = OAuth2Request {
        provider: &text(&body, "provider"),
        code: &text(&body, "code"),
        code_verifier: &text(&body, "codeVerifier"),
        redirect_url: &redirect,
        create_data,
        mfa_id: mfa.as_deref(),
    };
    let found = app.oauth2_identify(&c, &r, &ctx.req).await.map_err(api)?;
    let h = watching(hooks.clone(), HOOK, &c);
    let fields = match &h {
        Some(_) => json!({
            "providerName": found.provider(), "oAuth2User": found.user_json(),
            "createData": r.create_data, "isNewRecord": found.existing.is_none(),
        }),
        None => Value::Null,
    };
    let shown = found.existing.clone();
    let own = Ctx {
        req: ctx.req.clone(),
    };
    let flow_c = c.clone();
    let create_data = r.create_data;
    hooked(
        h,
        HOOK,
        Some(&c),
        &ctx,
        shown.as_ref(),
        fields,
        move |f| async move {
            // the hooks may have changed what a new account is made of
            let create_data = match f.get("createData") {
                Some(Value::Object(m)) => m.clone(),
                Some(_) => Map::new(),
                None => create_data,
            };
            let login = app
                .oauth2_sign_in(&flow_c, found, &create_data, mfa.as_deref(), &own.req)
                .await
                .map_err(api)?;
            hooked_auth_response(
                &app,
                &own,
                hooks,
                login.result.record,
                login.result.token,
                Some(login.meta),
                "oauth2",
            )
            .await
        },
    )
    .await
}

const HOOK: &str = "onRecordAuthWithOAuth2Request";
