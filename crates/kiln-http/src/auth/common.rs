//! What the auth endpoints share: reading the body, the MFA id a login continues, the answer
//! with the token and the record.

use crate::error::ApiResult;
use crate::extract::Ctx;
use crate::json::RawJson;
use kiln_core::records::{Record, RenderOptions};
use kiln_core::App;

/// A body value as text (`""` when absent).
pub(crate) fn text(body: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    body.get(key)
        .map(kiln_core::records::values::to_text)
        .unwrap_or_default()
}

/// The MFA id a login continues: `?mfaId=` or the body's `mfaId`.
pub(crate) fn mfa_id(
    ctx: &Ctx,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    ctx.query("mfaId")
        .map(str::to_owned)
        .filter(|s| !s.is_empty())
        .or_else(|| Some(text(body, "mfaId")).filter(|s| !s.is_empty()))
}

/// The answer of a sign-in (`method`: `password`, `oauth2`, `otp`, `passkey`; empty for a
/// refresh), through `onRecordAuthRequest` when a hook listens on the collection: it may refuse,
/// answer itself, or change the token, the meta and (by `onRecordEnrich`) the record shown.
pub(crate) async fn hooked_auth_response(
    app: &App,
    ctx: &Ctx,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    record: Record,
    token: String,
    meta: Option<serde_json::Value>,
    method: &'static str,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let Some(h) = hooks
        .map(|h| h.0)
        .filter(|h| h.watches_auth(&record.collection))
    else {
        return auth_response_with_meta(app, ctx, record, token, meta)
            .map(IntoResponse::into_response);
    };
    match h.auth_request(&record, token, meta, method, &ctx.req).await {
        kiln_hooks::AuthOutcome::Render { token, meta, patch } => {
            let body = auth_response_with_meta(app, ctx, record, token, meta)?;
            if patch.is_empty() {
                return Ok(body.into_response());
            }
            let mut v: serde_json::Value = serde_json::from_slice(&body.0).unwrap_or_default();
            if let Some(serde_json::Value::Object(m)) = v.get_mut("record") {
                patch.apply(m);
            }
            Ok(RawJson(serde_json::to_vec(&v).unwrap_or(body.0)).into_response())
        }
        kiln_hooks::AuthOutcome::Answered(res) => Ok(crate::hooks::answer(res)),
        kiln_hooks::AuthOutcome::Failed(e) => Err(crate::error::api(e)),
    }
}

/// `{"record": …, "token": …}`, the record shown to itself (its email is visible).
pub(crate) fn auth_response(
    app: &App,
    ctx: &Ctx,
    record: Record,
    token: String,
) -> ApiResult<RawJson> {
    auth_response_with_meta(app, ctx, record, token, None)
}

/// [`auth_response`] with OAuth2's `meta` first: `{"meta": …, "record": …, "token": …}`.
pub(crate) fn auth_response_with_meta(
    app: &App,
    ctx: &Ctx,
    record: Record,
    token: String,
    meta: Option<serde_json::Value>,
) -> ApiResult<RawJson> {
    let mut own = Ctx {
        req: ctx.req.clone(),
    };
    own.req.auth = Some(std::sync::Arc::new(record.clone()));
    // `fields` applies to the whole response here (`fields=token,record.name`), as in PocketBase.
    let fields = ctx.fields()?;
    let opts = RenderOptions {
        fields: None,
        ..RenderOptions::from_query(ctx.query("expand"), None).map_err(crate::error::api)?
    };
    let mut out = Vec::with_capacity(768);
    out.push(b'{');
    if let Some(m) = meta {
        out.extend_from_slice(b"\"meta\":");
        let _ = serde_json::to_writer(&mut out, &m);
        out.push(b',');
    }
    out.extend_from_slice(b"\"record\":");
    app.write_records(&mut [record], &own.req, &opts, &mut out)
        .map_err(crate::error::api)?;
    out.extend_from_slice(b",\"token\":");
    let _ = serde_json::to_writer(&mut out, &token);
    out.push(b'}');
    if let Some(f) = fields {
        let mut v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        f.apply(&mut v);
        out = serde_json::to_vec(&v).unwrap_or_default();
    }
    Ok(RawJson(out))
}

/// The hooks of the server, when the request hook `name` listens on `c`.
pub(crate) fn watching(
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    name: &str,
    c: &kiln_core::schema::collection::Collection,
) -> Option<std::sync::Arc<kiln_hooks::Hooks>> {
    hooks.map(|h| h.0).filter(|h| h.watches_named(name, c))
}

/// The hooks when `name` listens on `c` and `token` is a valid token of `kind` for a record of
/// `c`, with that record (PocketBase triggers a confirmation's hook once its token checks out).
pub(crate) fn token_record(
    app: &App,
    hooks: Option<axum::Extension<std::sync::Arc<kiln_hooks::Hooks>>>,
    name: &str,
    c: &kiln_core::schema::collection::Collection,
    token: &str,
    kind: kiln_core::auth::TokenKind,
) -> (Option<std::sync::Arc<kiln_hooks::Hooks>>, Option<Record>) {
    let Some(h) = watching(hooks, name, c) else {
        return (None, None);
    };
    match app.verify_record_token(token, kind) {
        Some(v) if v.collection.id == c.id => (Some(h), Some(v.record)),
        _ => (None, None),
    }
}
