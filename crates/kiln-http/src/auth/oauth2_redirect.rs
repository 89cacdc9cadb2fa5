//! `GET|POST /api/oauth2-redirect`: the provider's redirect in the SDK's all-in-one OAuth2 flow.
//! The code goes to the realtime client named by `state` (topic `@oauth2`); the browser window
//! gets a short page it can close (Kiln has no dashboard to redirect to).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use kiln_core::App;

use super::common::text;
use crate::extract::{BodyMap, Ctx};

const DONE: &str = "<!doctype html><meta charset=utf-8><title>Signed in</title><p>Auth completed. You can close this window and go back to the app.</p><script>window.close()</script>";
const FAILED: &str = "<!doctype html><meta charset=utf-8><title>Sign-in failed</title><p>Failed to authenticate. You can close this window and go back to the app to try again.</p>";

fn page(ok: bool) -> Response {
    let (status, body) = if ok {
        (StatusCode::OK, DONE)
    } else {
        (StatusCode::BAD_REQUEST, FAILED)
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

pub async fn get(State(app): State<App>, ctx: Ctx) -> Response {
    let q = |k: &str| ctx.query(k).unwrap_or("").to_owned();
    page(
        app.oauth2_redirect(&q("state"), &q("code"), &q("error"))
            .await,
    )
}

/// Providers that answer with `response_mode=form_post` (Apple).
pub async fn post(State(app): State<App>, BodyMap(body): BodyMap) -> Response {
    page(
        app.oauth2_redirect(
            &text(&body, "state"),
            &text(&body, "code"),
            &text(&body, "error"),
        )
        .await,
    )
}
