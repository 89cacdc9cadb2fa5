//! The sign-in and account endpoints of each auth collection, as far as its options enable them.

use serde_json::{json, Map, Value};

use kiln_core::schema::collection::Collection;

use super::parts::{names, op, param_ref, schema_ref};

/// A JSON body with `props` (all of `required` required).
fn form(props: Value, required: &[&str]) -> Value {
    json!({
        "required": true,
        "content": { "application/json": { "schema": {
            "type": "object", "properties": props, "required": required,
        } } },
    })
}

/// `204 No Content`.
fn done() -> Value {
    json!({ "204": { "description": "Done (also when no account has that address: the answer does not tell)." } })
}

/// Adds the auth endpoints of `c` (an auth collection).
pub(crate) fn add(c: &Collection, paths: &mut Map<String, Value>) {
    let Some(opts) = &c.auth else { return };
    let tag = c.name.clone();
    let base = format!("/api/collections/{}", c.name);
    let record = names(c)[0].clone();
    let signed_in = json!({ "200": {
        "description": "Signed in: a token and the record (an MFA id instead, with 401, when a second factor is required).",
        "content": { "application/json": { "schema": {
            "type": "object",
            "properties": {
                "token": { "type": "string" },
                "record": schema_ref(&record),
                "meta": { "type": "object", "description": "OAuth2: the provider's user and tokens" },
            },
            "required": ["token", "record"],
        } } },
    } });
    let mut add = |path: &str,
                   method: &str,
                   id: &str,
                   summary: &str,
                   params: Vec<Value>,
                   body: Option<Value>,
                   ok: Value,
                   errs: &[&str]| {
        let entry = paths
            .entry(format!("{base}/{path}"))
            .or_insert_with(|| json!({}));
        entry[method] = op(
            &tag,
            &format!("{id}_{}", c.name),
            summary,
            "",
            params,
            body,
            ok,
            errs,
        );
    };
    add(
        "auth-methods",
        "get",
        "auth_methods",
        "The sign-in methods this collection offers",
        vec![param_ref("fields")],
        None,
        json!({ "200": { "description": "Password, OAuth2 (with each provider's authorization URL), OTP and MFA options.", "content": { "application/json": { "schema": { "type": "object" } } } } }),
        &[],
    );
    add(
        "auth-refresh",
        "post",
        "auth_refresh",
        "A new token for the signed-in record",
        vec![param_ref("expand"), param_ref("fields")],
        None,
        signed_in.clone(),
        &["401", "403", "404"],
    );
    if opts.password_auth.enabled {
        add(
            "auth-with-password",
            "post",
            "auth_with_password",
            "Sign in with an identity and a password",
            vec![param_ref("expand"), param_ref("fields")],
            Some(form(
                json!({
                    "identity": { "type": "string", "description": format!("one of: {}", opts.password_auth.identity_fields.join(", ")) },
                    "password": { "type": "string", "writeOnly": true },
                    "identityField": { "type": "string" },
                    "mfaId": { "type": "string", "description": "the MFA id of a first factor, for the second" },
                }),
                &["identity", "password"],
            )),
            signed_in.clone(),
            &["400", "401"],
        );
        add(
            "request-password-reset",
            "post",
            "request_password_reset",
            "Email a password reset link",
            vec![],
            Some(form(
                json!({ "email": { "type": "string", "format": "email" } }),
                &["email"],
            )),
            done(),
            &["400"],
        );
        add(
            "confirm-password-reset",
            "post",
            "confirm_password_reset",
            "Set a new password with the reset token",
            vec![],
            Some(form(
                json!({ "token": { "type": "string" }, "password": { "type": "string", "writeOnly": true }, "passwordConfirm": { "type": "string", "writeOnly": true } }),
                &["token", "password", "passwordConfirm"],
            )),
            json!({ "204": { "description": "The password is set; every session of the record ends." } }),
            &["400"],
        );
    }
    if opts.oauth2.enabled {
        add(
            "auth-with-oauth2",
            "post",
            "auth_with_oauth2",
            "Sign in (or up) with an OAuth2 provider's code",
            vec![param_ref("expand"), param_ref("fields")],
            Some(form(
                json!({
                    "provider": { "type": "string" }, "code": { "type": "string" },
                    "codeVerifier": { "type": "string" }, "redirectURL": { "type": "string" },
                    "createData": { "type": "object", "description": "fields of the record a sign-up creates" },
                    "mfaId": { "type": "string" },
                }),
                &["provider", "code", "redirectURL"],
            )),
            signed_in.clone(),
            &["400", "401"],
        );
    }
    if opts.otp.enabled {
        add(
            "request-otp",
            "post",
            "request_otp",
            "Email a one-time password",
            vec![],
            Some(form(
                json!({ "email": { "type": "string", "format": "email" } }),
                &["email"],
            )),
            json!({ "200": { "description": "The id to sign in with (an id also when no account has the address).", "content": { "application/json": { "schema": { "type": "object", "properties": { "otpId": { "type": "string" } }, "required": ["otpId"] } } } } }),
            &["400", "429"],
        );
        add(
            "auth-with-otp",
            "post",
            "auth_with_otp",
            "Sign in with a one-time password",
            vec![param_ref("expand"), param_ref("fields")],
            Some(form(
                json!({ "otpId": { "type": "string" }, "password": { "type": "string", "writeOnly": true }, "mfaId": { "type": "string" } }),
                &["otpId", "password"],
            )),
            signed_in,
            &["400", "401", "429"],
        );
    }
    add(
        "request-verification",
        "post",
        "request_verification",
        "Email a verification link",
        vec![],
        Some(form(
            json!({ "email": { "type": "string", "format": "email" } }),
            &["email"],
        )),
        done(),
        &["400"],
    );
    add(
        "confirm-verification",
        "post",
        "confirm_verification",
        "Mark the record verified with the verification token",
        vec![],
        Some(form(json!({ "token": { "type": "string" } }), &["token"])),
        json!({ "204": { "description": "Verified." } }),
        &["400"],
    );
    add(
        "request-email-change",
        "post",
        "request_email_change",
        "Email a confirmation link to a new address (signed in)",
        vec![],
        Some(form(
            json!({ "newEmail": { "type": "string", "format": "email" } }),
            &["newEmail"],
        )),
        json!({ "204": { "description": "Sent." } }),
        &["400", "401", "403"],
    );
    add(
        "confirm-email-change",
        "post",
        "confirm_email_change",
        "Set the new email with the confirmation token and the password",
        vec![],
        Some(form(
            json!({ "token": { "type": "string" }, "password": { "type": "string", "writeOnly": true } }),
            &["token", "password"],
        )),
        json!({ "204": { "description": "The email is changed; every session of the record ends." } }),
        &["400"],
    );
}
