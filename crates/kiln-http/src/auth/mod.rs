//! `/api/collections/{collection}/auth-*`: authentication of auth collection records. Every
//! handler takes a `Ctx` even when it needs no auth: the extractor applies the rate limits.

mod common;
mod confirm_email_change;
mod confirm_password_reset;
mod confirm_verification;
mod impersonate;
mod methods;
mod oauth2_redirect;
mod passkey_auth_begin;
mod passkey_register_begin;
mod passkey_register_finish;
mod refresh;
mod request_email_change;
mod request_otp;
mod request_password_reset;
mod request_verification;
mod with_oauth2;
mod with_otp;
mod with_passkey;
mod with_password;

use axum::routing::{get, post};
use axum::Router;

use kiln_core::App;

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/api/collections/{collection}/auth-methods",
            get(methods::handler),
        )
        .route(
            "/api/collections/{collection}/auth-with-password",
            post(with_password::handler),
        )
        .route(
            "/api/collections/{collection}/auth-refresh",
            post(refresh::handler),
        )
        .route(
            "/api/collections/{collection}/impersonate/{id}",
            post(impersonate::handler),
        )
        .route(
            "/api/collections/{collection}/request-verification",
            post(request_verification::handler),
        )
        .route(
            "/api/collections/{collection}/confirm-verification",
            post(confirm_verification::handler),
        )
        .route(
            "/api/collections/{collection}/request-password-reset",
            post(request_password_reset::handler),
        )
        .route(
            "/api/collections/{collection}/confirm-password-reset",
            post(confirm_password_reset::handler),
        )
        .route(
            "/api/collections/{collection}/request-email-change",
            post(request_email_change::handler),
        )
        .route(
            "/api/collections/{collection}/confirm-email-change",
            post(confirm_email_change::handler),
        )
        .route(
            "/api/collections/{collection}/request-otp",
            post(request_otp::handler),
        )
        .route(
            "/api/collections/{collection}/auth-with-otp",
            post(with_otp::handler),
        )
        .route(
            "/api/collections/{collection}/auth-with-oauth2",
            post(with_oauth2::handler),
        )
        .route(
            "/api/oauth2-redirect",
            get(oauth2_redirect::get).post(oauth2_redirect::post),
        )
        .route(
            "/api/collections/{collection}/passkeys/register-begin",
            post(passkey_register_begin::handler),
        )
        .route(
            "/api/collections/{collection}/passkeys/register-finish",
            post(passkey_register_finish::handler),
        )
        .route(
            "/api/collections/{collection}/auth-with-passkey-begin",
            post(passkey_auth_begin::handler),
        )
        .route(
            "/api/collections/{collection}/auth-with-passkey",
            post(with_passkey::handler),
        )
}
