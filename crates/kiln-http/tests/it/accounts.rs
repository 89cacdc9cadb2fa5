//! Account flows and their attack surface: single-use tokens, token types that do not cross,
//! answers that do not reveal accounts, brute force against the rate limit, MFA sessions,
//! settings validation, PocketBase bcrypt imports and passkey endpoints refusing bad input.
//! (Mail delivery itself is tested end to end in tests/sdk/accounts.test.mjs with a real SMTP
//! server; here SMTP is off, so sends fail in the background and must not change answers.)

use serde_json::{json, Value};

use kiln_core::auth::TokenKind;

use crate::support::*;

async fn alice() -> (TestApp, String, String) {
    let mut t = TestApp::new().await;
    let (id, token) = t
        .create_user("alice", "alice@example.com", "alicepass123", "Alice", false)
        .await;
    (t, id, token)
}

fn record(t: &TestApp, id: &str) -> kiln_core::records::Record {
    let c = t.app.collection("users").unwrap();
    t.app.find_record(&c, id).unwrap().unwrap()
}

#[tokio::test]
async fn password_reset_token_is_single_use_and_ends_sessions() {
    let (t, id, session) = alice().await;
    let rec = record(&t, &id);
    let reset = t
        .app
        .new_record_token(
            &rec,
            TokenKind::PasswordReset,
            &[("email", json!("alice@example.com"))],
            None,
        )
        .unwrap();
    let body = json!({"token": reset, "password": "brandnew123", "passwordConfirm": "brandnew123"});

    let (s, v) = t.request("POST", "/api/collections/users/confirm-password-reset", Some(json!({"token": reset, "password": "brandnew123", "passwordConfirm": "other123456"})), None).await;
    assert_eq!(
        (s, v["data"]["passwordConfirm"]["code"].clone()),
        (400, json!("validation_values_mismatch"))
    );
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/confirm-password-reset",
            Some(json!({"token": reset, "password": "short", "passwordConfirm": "short"})),
            None,
        )
        .await;
    assert_eq!(
        v["data"]["password"]["params"],
        json!({"max": 255, "min": 8}),
        "{s} {v}"
    );

    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/confirm-password-reset",
            Some(body.clone()),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/confirm-password-reset",
            Some(body),
            None,
        )
        .await;
    assert_eq!(
        (s, v["data"]["token"]["code"].clone()),
        (400, json!("validation_invalid_token")),
        "reuse of a reset token"
    );
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-refresh",
            None,
            Some(&session),
        )
        .await;
    assert_eq!(s, 401, "a session from before the reset is over");
    assert!(
        record(&t, &id).get("verified").unwrap().as_bool().unwrap(),
        "the reset proved the email"
    );
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(json!({"identity":"alice@example.com","password":"brandnew123"})),
            None,
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn token_types_do_not_cross() {
    let (t, id, session) = alice().await;
    let rec = record(&t, &id);
    let verify = t
        .app
        .new_record_token(
            &rec,
            TokenKind::Verification,
            &[("email", json!("alice@example.com"))],
            None,
        )
        .unwrap();
    // A verification token is no bearer token: the request is a guest's.
    let (s, v) = t
        .request("GET", "/api/collections/users/records", None, Some(&verify))
        .await;
    assert_eq!((s, v["totalItems"].clone()), (200, json!(0)));
    // An auth token is no reset or verification token.
    let (s, v) = t.request("POST", "/api/collections/users/confirm-password-reset", Some(json!({"token": session, "password": "brandnew123", "passwordConfirm": "brandnew123"})), None).await;
    assert_eq!(
        (s, v["data"]["token"]["code"].clone()),
        (400, json!("validation_invalid_token"))
    );
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/confirm-verification",
            Some(json!({"token": session})),
            None,
        )
        .await;
    assert_eq!(
        (s, v["data"]["token"]["code"].clone()),
        (400, json!("validation_invalid_token_claims"))
    );
    // A forged verification token (signed with a wrong key) changes nothing.
    let parts: Vec<&str> = verify.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], parts[1], "AAAA".repeat(10));
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/confirm-verification",
            Some(json!({"token": forged})),
            None,
        )
        .await;
    assert_eq!(
        (s, v["data"]["token"]["code"].clone()),
        (400, json!("validation_invalid_token"))
    );
    assert!(!record(&t, &id).get("verified").unwrap().as_bool().unwrap());
    // The real one verifies, and again is harmless (as in PocketBase).
    for _ in 0..2 {
        let (s, _) = t
            .request(
                "POST",
                "/api/collections/users/confirm-verification",
                Some(json!({"token": verify})),
                None,
            )
            .await;
        assert_eq!(s, 204);
    }
    assert!(record(&t, &id).get("verified").unwrap().as_bool().unwrap());
}

#[tokio::test]
async fn confirm_errors_match_the_transcripts() {
    let (t, _, session) = alice().await;
    // Transcript 64.
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/confirm-verification",
            Some(json!({"token": "bad"})),
            None,
        )
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"data":{"token":{"code":"validation_invalid_token_claims","message":"Missing email token claim."}},"message":"An error occurred while validating the submitted data.","status":400})
        )
    );
    // Transcript 66.
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/confirm-password-reset",
            Some(json!({"token":"bad","password":"newpass12345","passwordConfirm":"newpass12345"})),
            None,
        )
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"data":{"token":{"code":"validation_invalid_token","message":"Invalid or expired token."}},"message":"An error occurred while validating the submitted data.","status":400})
        )
    );
    // Transcript 68.
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/confirm-email-change",
            Some(json!({"token":"bad","password":"alicepass123"})),
            None,
        )
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"data":{"password":{"code":"validation_invalid_password","message":"Missing or invalid auth record password."},"token":{"code":"validation_invalid_token_payload","message":"Invalid token payload - newEmail must be set."}},"message":"An error occurred while validating the submitted data.","status":400})
        )
    );
    // Transcript 67 (no SMTP: the synchronous send fails).
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/request-email-change",
            Some(json!({"newEmail":"alice2@example.com"})),
            Some(&session),
        )
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"data":{},"message":"Failed to request email change.","status":400})
        )
    );
    // Transcript 70.
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/request-otp",
            Some(json!({"email":"alice@example.com"})),
            None,
        )
        .await;
    assert_eq!(
        (s, v["message"].clone()),
        (
            403,
            json!("The collection is not configured to allow OTP authentication.")
        )
    );
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/_superusers/request-verification",
            Some(json!({"email":"x@example.com"})),
            None,
        )
        .await;
    assert_eq!(
        (s, v["message"].clone()),
        (400, json!("All superusers are verified by default."))
    );
}

#[tokio::test]
async fn request_endpoints_do_not_reveal_accounts() {
    let (t, _, _) = alice().await;
    t.su_ok(
        "PATCH",
        "/api/collections/users",
        json!({"otp": {"enabled": true}}),
    )
    .await;
    for path in ["request-verification", "request-password-reset"] {
        let known = t
            .request(
                "POST",
                &format!("/api/collections/users/{path}"),
                Some(json!({"email":"alice@example.com"})),
                None,
            )
            .await;
        let unknown = t
            .request(
                "POST",
                &format!("/api/collections/users/{path}"),
                Some(json!({"email":"nobody@example.com"})),
                None,
            )
            .await;
        assert_eq!(known.0, 204, "{path}");
        assert_eq!(
            known, unknown,
            "{path}: same answer for a known and an unknown email"
        );
        let (s, v) = t
            .request(
                "POST",
                &format!("/api/collections/users/{path}"),
                Some(json!({"email":"not-an-email"})),
                None,
            )
            .await;
        assert_eq!(
            (s, v["data"]["email"]["code"].clone()),
            (400, json!("validation_is_email"))
        );
    }
    let (s1, known) = t
        .request(
            "POST",
            "/api/collections/users/request-otp",
            Some(json!({"email":"alice@example.com"})),
            None,
        )
        .await;
    let (s2, unknown) = t
        .request(
            "POST",
            "/api/collections/users/request-otp",
            Some(json!({"email":"nobody@example.com"})),
            None,
        )
        .await;
    assert_eq!((s1, s2), (200, 200));
    let shape = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(shape(&known), shape(&unknown));
    assert_eq!(
        known["otpId"].as_str().unwrap().len(),
        unknown["otpId"].as_str().unwrap().len()
    );
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-otp",
            Some(json!({"otpId": unknown["otpId"], "password": "12345678"})),
            None,
        )
        .await;
    assert_eq!(
        (s, v["message"].clone()),
        (400, json!("Invalid or expired OTP."))
    );
}

#[tokio::test]
async fn otp_attempts_are_limited_per_code() {
    let (t, id, _) = alice().await;
    t.su_ok(
        "PATCH",
        "/api/collections/users",
        json!({"otp": {"enabled": true}}),
    )
    .await;
    // With SMTP off a requested code is deleted when its mail fails; store one directly.
    let v = t
        .su_ok("POST", "/api/collections/_otps/records", json!({"collectionRef": "_pb_users_auth_", "recordRef": id, "password": "12345678", "sentTo": "alice@example.com"}))
        .await;
    let otp = v["id"].clone();
    let mut statuses = vec![];
    for _ in 0..6 {
        let (s, _) = t
            .request(
                "POST",
                "/api/collections/users/auth-with-otp",
                Some(json!({"otpId": otp, "password": "00000000"})),
                None,
            )
            .await;
        statuses.push(s);
    }
    assert_eq!(
        statuses,
        [400, 400, 400, 400, 400, 429],
        "five guesses, then no more"
    );
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-otp",
            Some(json!({"otpId": otp, "password": "12345678"})),
            None,
        )
        .await;
    assert_eq!(s, 429, "not even the right code gets through now");
}

#[tokio::test]
async fn brute_force_hits_the_default_rate_limit() {
    let (t, _, _) = alice().await;
    let attempt = |pw: &'static str| {
        t.request(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(json!({"identity":"alice@example.com","password":pw})),
            None,
        )
    };
    let mut statuses = vec![];
    for _ in 0..20 {
        statuses.push(attempt("wrong-guess").await.0);
    }
    assert!(statuses.iter().all(|s| *s == 400), "{statuses:?}");
    // The 21st attempt in the minute is refused before the password is even checked.
    let r = t
        .send_raw(
            "POST",
            "/api/collections/users/auth-with-password",
            json!({"identity":"alice@example.com","password":"alicepass123"})
                .to_string()
                .into_bytes(),
            Some("application/json"),
            &Token::None,
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.json["message"].clone()),
        (429, json!("Too Many Requests."))
    );
    assert!(r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|s| (1..=60).contains(&s)));
    // Superusers are never limited.
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(json!({"identity":"alice@example.com","password":"alicepass123"})),
            Some(&t.superuser_token()),
        )
        .await;
    assert_eq!(s, 200);
    // Other routes are not affected by the auth rule.
    let (s, _) = t
        .request("GET", "/api/collections/users/auth-methods", None, None)
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn mfa_sessions() {
    let (t, id, _) = alice().await;
    let (s, v) = t.request("PATCH", "/api/collections/users", Some(json!({"mfa": {"enabled": true}, "otp": {"enabled": false}, "oauth2": {"enabled": false}, "passwordAuth": {"enabled": true}})), Some(&t.superuser_token())).await;
    assert_eq!(
        (s, v["data"]["mfa"]["enabled"]["code"].clone()),
        (400, json!("validation_mfa_not_enough_auths")),
        "MFA needs two methods"
    );
    t.su_ok(
        "PATCH",
        "/api/collections/users",
        json!({"mfa": {"enabled": true}, "otp": {"enabled": true}}),
    )
    .await;
    let login = json!({"identity":"alice@example.com","password":"alicepass123"});
    let r = t
        .send(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(login.clone()),
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 401);
    let mfa = r.json["mfaId"].as_str().unwrap().to_owned();
    assert_eq!(
        r.json.as_object().unwrap().len(),
        1,
        "the body is exactly {{mfaId}}: {}",
        r.text
    );
    // The same method twice is not a second factor.
    let (s, v) = t
        .request(
            "POST",
            &format!("/api/collections/users/auth-with-password?mfaId={mfa}"),
            Some(login.clone()),
            None,
        )
        .await;
    assert_eq!(
        (s, v["message"].clone()),
        (400, json!("A different authentication method is required."))
    );
    let (s, v) = t.request("POST", "/api/collections/users/auth-with-password", Some(json!({"identity":"alice@example.com","password":"alicepass123","mfaId":"nosuchmfa000000"})), None).await;
    assert_eq!(
        (s, v["message"].clone()),
        (400, json!("Invalid or expired MFA session."))
    );
    // A wrong password never reaches the MFA step.
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(json!({"identity":"alice@example.com","password":"nope-nope"})),
            None,
        )
        .await;
    assert_eq!(s, 400);
    // The MFA session of one account is useless for another.
    let mut t = t;
    t.create_user("bob", "bob@example.com", "bobpass1234", "Bob", false)
        .await;
    t.su_ok(
        "PATCH",
        "/api/collections/users",
        json!({"mfa": {"rule": "email = 'alice@example.com'"}}),
    )
    .await;
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(json!({"identity":"bob@example.com","password":"bobpass1234"})),
            None,
        )
        .await;
    assert_eq!(s, 200, "mfa.rule does not match bob: one factor is enough");
    let _ = id;
}

#[tokio::test]
async fn settings_are_validated_and_secrets_stay_hidden() {
    let t = TestApp::new().await;
    let before = t.su_ok("GET", "/api/settings", Value::Null).await;
    assert_eq!(before["rateLimits"]["enabled"], json!(true));
    assert!(before["smtp"].get("password").is_none());
    let (s, v) = t
        .request("PATCH", "/api/settings", Some(json!({"meta": {"appURL": "not a url", "senderAddress": "x"}, "smtp": {"enabled": true, "host": ""}, "rateLimits": {"rules": [{"label": "bad label!", "maxRequests": 0, "duration": 1}]}})), Some(&t.superuser_token()))
        .await;
    assert_eq!(
        (s, v["message"].clone()),
        (
            400,
            json!("An error occurred while saving the new settings.")
        )
    );
    for (a, b) in [
        ("meta", "appURL"),
        ("meta", "senderAddress"),
        ("smtp", "host"),
    ] {
        assert!(v["data"][a][b]["code"].is_string(), "{a}.{b}: {v}");
    }
    assert!(
        v["data"]["rateLimits"]["rules"]["0"]["label"]["code"].is_string(),
        "{v}"
    );
    assert_eq!(
        t.su_ok("GET", "/api/settings", Value::Null).await,
        before,
        "nothing changed"
    );
    let after = t
        .su_ok(
            "PATCH",
            "/api/settings",
            json!({"smtp": {"password": "s3cret", "username": "u"}}),
        )
        .await;
    assert!(!after.to_string().contains("s3cret"));
    assert_eq!(t.app.settings().smtp.password, "s3cret");
    let (s, _) = t.request("GET", "/api/settings", None, None).await;
    assert_eq!(s, 401);
    let mut t = t;
    let (_, user) = t
        .create_user("u", "u@example.com", "upass12345", "U", false)
        .await;
    let (s, _) = t
        .request(
            "PATCH",
            "/api/settings",
            Some(json!({"meta": {"appName": "x"}})),
            Some(&user),
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn pocketbase_bcrypt_hashes_log_in_and_are_kept() {
    let (t, id, _) = alice().await;
    let bcrypt = bcrypt_hash("imported-pw-1");
    let (id2, h) = (id.clone(), bcrypt.clone());
    t.app
        .db()
        .write(move |c| {
            c.execute(
                "UPDATE users SET password = ?1 WHERE id = ?2",
                &[h.into(), id2.into()],
            )
        })
        .await
        .unwrap();
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(json!({"identity":"alice@example.com","password":"wrong-pw-1"})),
            None,
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(json!({"identity":"alice@example.com","password":"imported-pw-1"})),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        record(&t, &id).get_str("password"),
        bcrypt,
        "kept, so PocketBase can still verify it"
    );
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-password",
            Some(json!({"identity":"alice@example.com","password":"imported-pw-1"})),
            None,
        )
        .await;
    assert_eq!(s, 200, "and still logs in");
}

/// A `$2a$10$` hash as PocketBase stores it.
fn bcrypt_hash(pw: &str) -> String {
    bcrypt::hash_with_salt(pw, 10, *b"kiln-test-salt16")
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA)
}

#[tokio::test]
async fn passkey_endpoints_refuse_bad_input() {
    let (t, _, session) = alice().await;
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/passkeys/register-begin",
            None,
            None,
        )
        .await;
    assert_eq!(s, 401);
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/passkeys/register-begin",
            None,
            Some(&session),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["publicKey"]["rp"]["id"],
        json!("localhost"),
        "from meta.appURL"
    );
    assert_eq!(
        v["publicKey"]["challenge"].as_str().unwrap().len(),
        43,
        "32 bytes"
    );
    let challenge = v["challengeId"].clone();
    let garbage = json!({"challengeId": challenge, "credential": {"rawId": "AAAA", "response": {"clientDataJSON": "e30", "attestationObject": "oA"}}});
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/passkeys/register-finish",
            Some(garbage.clone()),
            Some(&session),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/passkeys/register-finish",
            Some(garbage),
            Some(&session),
        )
        .await;
    assert_eq!(s, 400, "a challenge is single use");
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-passkey-begin",
            None,
            None,
        )
        .await;
    assert_eq!(
        (s, v["publicKey"]["allowCredentials"].clone()),
        (200, json!([]))
    );
    let body = json!({"challengeId": v["challengeId"], "credential": {"rawId": "AAAA", "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA"}}});
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-passkey",
            Some(body),
            None,
        )
        .await;
    assert_eq!(
        (s, v["message"].clone()),
        (400, json!("Failed to authenticate."))
    );
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/users/auth-with-passkey",
            Some(json!({"challengeId": "nope", "credential": null})),
            None,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(t.count("_passkeys"), 0);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_take_as_long() {
    let (t, _, _) = alice().await;
    let time = |identity: &'static str| {
        let t = &t;
        async move {
            let start = std::time::Instant::now();
            let (s, v) = t
                .request(
                    "POST",
                    "/api/collections/users/auth-with-password",
                    Some(json!({"identity": identity, "password": "wrong-guess-1"})),
                    None,
                )
                .await;
            assert_eq!(
                (s, v["message"].clone()),
                (400, json!("Failed to authenticate.")),
                "the same answer for both"
            );
            start.elapsed().as_secs_f64()
        }
    };
    let (mut known, mut unknown) = (vec![], vec![]);
    for _ in 0..4 {
        known.push(time("alice@example.com").await);
        unknown.push(time("nobody@example.com").await);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[1] + v[2]) / 2.0
    };
    let (k, u) = (median(&mut known), median(&mut unknown));
    // Both verify one argon2id hash (a fixed dummy for unknown accounts); a gap of the size of
    // a hash (tens of ms) would show as a ratio far from 1.
    assert!(
        u / k > 0.5 && u / k < 2.0,
        "known {k:.4}s vs unknown {u:.4}s"
    );
}

#[tokio::test]
async fn superuser_ips_restrict_superuser_logins() {
    let t = TestApp::new().await;
    t.su_ok(
        "PATCH",
        "/api/settings",
        json!({"superuserIPs": ["10.0.0.0/8"]}),
    )
    .await;
    let login = json!({"identity": SU_EMAIL, "password": SU_PASSWORD});
    // Test requests carry no peer address, so they are outside 10.0.0.0/8.
    let (s, v) = t
        .request(
            "POST",
            "/api/collections/_superusers/auth-with-password",
            Some(login.clone()),
            None,
        )
        .await;
    assert_eq!(
        (s, v["message"].clone()),
        (403, json!("You are not allowed to perform this request."))
    );
    // A superuser token from outside the list is refused on every request, not only at login.
    let (s, _) = t
        .request("GET", "/api/settings", None, Some(&t.superuser_token()))
        .await;
    assert_eq!(s, 403);
    let mut clear = serde_json::Map::new();
    clear.insert("superuserIPs".into(), json!([]));
    t.app.update_settings(clear).await.unwrap();
    let (s, _) = t
        .request(
            "POST",
            "/api/collections/_superusers/auth-with-password",
            Some(login),
            None,
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn an_accounts_passkeys_and_links_go_with_it() {
    let (t, id, token) = alice().await;
    let su = t.superuser_token();
    for (collection, body) in [
        (
            "_passkeys",
            json!({"collectionRef": "_pb_users_auth_", "recordRef": id, "credentialId": "Y3JlZA", "publicKey": "cGs", "name": "laptop"}),
        ),
        (
            "_externalAuths",
            json!({"collectionRef": "_pb_users_auth_", "recordRef": id, "provider": "oidc", "providerId": "sub-1"}),
        ),
    ] {
        let (s, v) = t
            .request(
                "POST",
                &format!("/api/collections/{collection}/records"),
                Some(body),
                Some(&su),
            )
            .await;
        assert_eq!(s, 200, "{collection}: {v}");
    }
    let (s, _) = t
        .request(
            "DELETE",
            &format!("/api/collections/users/records/{id}"),
            None,
            Some(&token),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        t.count("_passkeys"),
        0,
        "a later record with the same id must not inherit the passkey"
    );
    assert_eq!(t.count("_externalAuths"), 0);
}

#[tokio::test]
async fn expired_otps_and_mfa_sessions_are_deleted() {
    let (t, id, _) = alice().await;
    let su = t.superuser_token();
    for (collection, body) in [
        (
            "_otps",
            json!({"collectionRef": "_pb_users_auth_", "recordRef": id, "password": "12345678"}),
        ),
        (
            "_mfas",
            json!({"collectionRef": "_pb_users_auth_", "recordRef": id, "method": "password"}),
        ),
    ] {
        let (s, v) = t
            .request(
                "POST",
                &format!("/api/collections/{collection}/records"),
                Some(body),
                Some(&su),
            )
            .await;
        assert_eq!(s, 200, "{collection}: {v}");
    }
    assert_eq!(
        t.app.delete_expired_auth_state().await.unwrap(),
        0,
        "fresh rows stay"
    );
    t.app
        .db()
        .write(|c| {
            c.execute("UPDATE _otps SET created = '2000-01-01 00:00:00.000Z'", &[])
                .map_err(kiln_core::CoreError::from)
        })
        .await
        .unwrap();
    t.app
        .db()
        .write(|c| {
            c.execute("UPDATE _mfas SET created = '2000-01-01 00:00:00.000Z'", &[])
                .map_err(kiln_core::CoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(t.app.delete_expired_auth_state().await.unwrap(), 2);
    assert_eq!((t.count("_otps"), t.count("_mfas")), (0, 0));
}
