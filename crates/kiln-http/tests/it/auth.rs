//! Authentication: password login (01, 06, 23), auth-methods (60), refresh (61, 62),
//! impersonation (69), bearer tokens, forged tokens, password changes revoking tokens, email
//! visibility, and secrets never leaving the server.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::support::*;

const JWT_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
const E401: &str = r#"{"data":{},"message":"The request requires valid record authorization token.","status":401}"#;
const E403: &str = r#"{"data":{},"message":"The authorized record is not allowed to perform this action.","status":403}"#;
const AUTH_FAILED: &str = r#"{"data":{},"message":"Failed to authenticate.","status":400}"#;
/// What must never appear in a response.
const SECRETS: &[&str] = &[
    "tokenKey",
    r#""password":""#,
    "argon2",
    "passwordConfirm",
    "oldPassword",
];

fn j(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token as PocketBase issues it: HS256 header, payload keys in alphabetical order, `exp` about
/// `duration` seconds from now.
fn check_token(token: &Value, collection_id: &str, id: &str, refreshable: bool, duration: i64) {
    let token = token.as_str().expect("token string");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "three parts: {token}");
    assert_eq!(parts[0], JWT_HEADER);
    let p = jwt_payload(token);
    let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["collectionId", "exp", "id", "refreshable", "type"]);
    assert_eq!(
        (
            p["collectionId"].clone(),
            p["id"].clone(),
            p["refreshable"].clone(),
            p["type"].clone()
        ),
        (
            json!(collection_id),
            json!(id),
            json!(refreshable),
            json!("auth")
        )
    );
    let exp = p["exp"].as_i64().unwrap();
    assert!(
        (exp - (now() + duration)).abs() <= 5,
        "exp {exp} vs now+{duration}"
    );
}

fn posts_total(n: i64) -> impl Fn(&Value) {
    move |v| assert_eq!(v["totalItems"], json!(n), "posts visible")
}

#[tokio::test]
async fn login_refresh_impersonate() {
    let t = TestApp::with_posts().await;
    let (alice, su_id) = (t.id("alice"), t.id("su"));
    let (a1, a2, a3, a4) = (alice.clone(), alice.clone(), alice.clone(), alice.clone());
    let alice_token = t.user_token("alice");
    let parts: Vec<String> = alice_token.split('.').map(str::to_owned).collect();
    let mut bob_claims = jwt_payload(&alice_token);
    bob_claims["id"] = json!(t.id("bob"));
    let forged_none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    let tampered = format!("{}.{}.{}", parts[0], b64(&bob_claims.to_string()), parts[2]);
    let other_sig = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        b64("not the signature at all, 32 by")
    );
    t.run(vec![
        Scenario::new("01 superuser login", "POST", "/api/collections/_superusers/auth-with-password")
            .json(json!({"identity":SU_EMAIL,"password":SU_PASSWORD}))
            .not_contains(SECRETS)
            .check(move |v| {
                assert_eq!(without(&v["record"], &["id", "created", "updated"]), json!({"collectionId":"pbc_3142635823","collectionName":"_superusers","email":"admin@example.com","emailVisibility":false,"verified":true}));
                check_token(&v["token"], "pbc_3142635823", &su_id, true, 86_400);
            }),
        Scenario::new("06 user login", "POST", "/api/collections/users/auth-with-password")
            .json(json!({"identity":"alice@example.com","password":ALICE_PASSWORD}))
            .not_contains(SECRETS)
            .check(move |v| {
                assert_shape(&v["record"], &alice_shape());
                assert_eq!(v["record"]["id"], json!(a1));
                check_token(&v["token"], "_pb_users_auth_", &a1, true, 432_000);
            }),
        Scenario::new("own hidden email shown on login", "POST", "/api/collections/users/auth-with-password")
            .json(json!({"identity":"bob@example.com","password":BOB_PASSWORD}))
            .check(|v| assert_eq!((v["record"]["email"].clone(), v["record"]["emailVisibility"].clone()), (json!("bob@example.com"), json!(false)))),
        Scenario::new("23 wrong password", "POST", "/api/collections/users/auth-with-password")
            .json(json!({"identity":"alice@example.com","password":"wrong"}))
            .status(400)
            .body_eq(j(AUTH_FAILED)),
        Scenario::new("unknown identity", "POST", "/api/collections/users/auth-with-password")
            .json(json!({"identity":"nobody@example.com","password":"whatever123"}))
            .status(400)
            .body_eq(j(AUTH_FAILED)),
        Scenario::new("superuser password on users", "POST", "/api/collections/users/auth-with-password")
            .json(json!({"identity":SU_EMAIL,"password":SU_PASSWORD}))
            .status(400)
            .body_eq(j(AUTH_FAILED)),
        Scenario::new("empty body", "POST", "/api/collections/users/auth-with-password").json(json!({})).status(400).contains(&[r#""identity":{"code":"validation_required""#, r#""password":{"code":"validation_required""#]),
        Scenario::new("login on a base collection", "POST", "/api/collections/posts/auth-with-password")
            .json(json!({"identity":"alice@example.com","password":ALICE_PASSWORD}))
            .status(404),
        Scenario::new("login on a missing collection", "POST", "/api/collections/nope/auth-with-password").json(json!({})).status(404),
        Scenario::new("60 auth-methods", "GET", "/api/collections/users/auth-methods")
            .body_eq(j(r#"{"password":{"identityFields":["email"],"enabled":true},"oauth2":{"providers":[],"enabled":false},"mfa":{"enabled":false,"duration":0},"otp":{"enabled":false,"duration":0},"authProviders":[],"usernamePassword":false,"emailPassword":true}"#)),
        Scenario::new("auth-methods with the SDK's fields", "GET", "/api/collections/users/auth-methods?fields=mfa,otp,password,oauth2")
            .body_eq(j(r#"{"password":{"identityFields":["email"],"enabled":true},"oauth2":{"providers":[],"enabled":false},"mfa":{"enabled":false,"duration":0},"otp":{"enabled":false,"duration":0}}"#)),
        Scenario::new("auth-methods with a bad fields modifier", "GET", "/api/collections/users/auth-methods?fields=mfa:nope").status(400),
        Scenario::new("auth-methods of a base collection", "GET", "/api/collections/posts/auth-methods").status(404),
        Scenario::new("61 refresh", "POST", "/api/collections/users/auth-refresh")
            .user("alice")
            .not_contains(SECRETS)
            .check(move |v| {
                assert_shape(&v["record"], &alice_shape());
                check_token(&v["token"], "_pb_users_auth_", &a2, true, 432_000);
            }),
        Scenario::new("62 refresh without a token", "POST", "/api/collections/users/auth-refresh").status(401).body_eq(j(E401)),
        Scenario::new("refresh in another auth collection", "POST", "/api/collections/_superusers/auth-refresh").user("alice").status(403),
        Scenario::new("69 impersonate", "POST", format!("/api/collections/users/impersonate/{alice}"))
            .su()
            .json(json!({"duration":3600}))
            .not_contains(SECRETS)
            .check(move |v| {
                assert_shape(&v["record"], &alice_shape());
                check_token(&v["token"], "_pb_users_auth_", &a3, false, 3600);
            }),
        Scenario::new("impersonate with the default duration", "POST", format!("/api/collections/users/impersonate/{alice}"))
            .su()
            .check(move |v| check_token(&v["token"], "_pb_users_auth_", &a4, false, 432_000)),
        Scenario::new("impersonate as a user", "POST", format!("/api/collections/users/impersonate/{alice}")).user("bob").json(json!({})).status(403).body_eq(j(E403)),
        Scenario::new("impersonate as a guest", "POST", format!("/api/collections/users/impersonate/{alice}")).json(json!({})).status(401).body_eq(j(E401)),
        Scenario::new("impersonate a missing record", "POST", "/api/collections/users/impersonate/doesnotexist123").su().json(json!({})).status(404),
        Scenario::new("bearer prefix", "GET", "/api/collections/posts/records").token(Token::Raw(format!("Bearer {alice_token}"))).check(posts_total(3)),
        Scenario::new("alg:none forged token is a guest", "GET", "/api/collections/posts/records").token(Token::Raw(forged_none)).check(posts_total(2)),
        Scenario::new("tampered payload is a guest", "GET", "/api/collections/posts/records").token(Token::Raw(tampered)).check(posts_total(2)),
        Scenario::new("wrong signature is a guest", "GET", "/api/collections/posts/records").token(Token::Raw(other_sig)).check(posts_total(2)),
        Scenario::new("garbage bearer is a guest", "GET", "/api/collections/posts/records").token(Token::Raw("Bearer ...".into())).check(posts_total(2)),
        Scenario::new("forged token cannot reach superuser routes", "GET", "/api/collections")
            .token(Token::Raw(format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&json!({"collectionId":"pbc_3142635823","exp":4102444800i64,"id":t.id("su"),"refreshable":true,"type":"auth"}).to_string()))))
            .status(401)
            .body_eq(j(E401)),
    ])
    .await;

    // The impersonation token authenticates requests.
    let su = t.superuser_token();
    let (status, v) = t
        .request(
            "POST",
            &format!("/api/collections/users/impersonate/{alice}"),
            Some(json!({"duration":3600})),
            Some(&su),
        )
        .await;
    assert_eq!(status, 200);
    let imp = v["token"].as_str().unwrap().to_owned();
    let (status, v) = t
        .request("GET", "/api/collections/posts/records", None, Some(&imp))
        .await;
    assert_eq!(
        (status, v["totalItems"].clone()),
        (200, json!(3)),
        "impersonation token authenticates"
    );
    let (status, v) = t
        .request(
            "PATCH",
            &format!("/api/collections/posts/records/{}", t.id("draft")),
            Some(json!({"views+":1})),
            Some(&imp),
        )
        .await;
    assert_eq!(
        (status, v["views"].clone()),
        (200, json!(4)),
        "and acts as Alice"
    );
}

#[tokio::test]
async fn password_change_revokes_tokens() {
    let t = TestApp::with_posts().await;
    let (alice, bob) = (t.id("alice"), t.id("bob"));
    let old_alice = t.user_token("alice");
    let old_bob = t.user_token("bob");
    let me = format!("/api/collections/users/records/{alice}");
    t.run(vec![
        Scenario::new("wrong oldPassword", "PATCH", &me)
            .user("alice")
            .json(json!({"oldPassword":"wrong-pass","password":"newpass12345","passwordConfirm":"newpass12345"}))
            .status(400)
            .contains(&[r#""message":"Failed to update record.""#, r#""oldPassword":{"code":"validation_invalid_old_password","message":"Missing or invalid old password."}"#]),
        Scenario::new("passwordConfirm mismatch", "PATCH", &me)
            .user("alice")
            .json(json!({"oldPassword":ALICE_PASSWORD,"password":"newpass12345","passwordConfirm":"other1234567"}))
            .status(400)
            .contains(&[r#""passwordConfirm":{"code":"validation_values_mismatch","message":"Values don't match."}"#]),
        Scenario::new("password too short", "PATCH", &me)
            .user("alice")
            .json(json!({"oldPassword":ALICE_PASSWORD,"password":"short","passwordConfirm":"short"}))
            .status(400)
            .contains(&[r#""password":{"code":"validation_min_text_constraint""#]),
        Scenario::new("failed changes kept the token", "GET", "/api/collections/posts/records").user("alice").check(posts_total(3)),
        Scenario::new("change password", "PATCH", &me)
            .user("alice")
            .json(json!({"oldPassword":ALICE_PASSWORD,"password":"newpass12345","passwordConfirm":"newpass12345"}))
            .not_contains(SECRETS)
            .contains(&[r#""email":"alice@example.com""#]),
        Scenario::new("old token is now a guest", "GET", "/api/collections/posts/records").token(Token::Raw(old_alice.clone())).check(posts_total(2)),
        Scenario::new("old token cannot refresh", "POST", "/api/collections/users/auth-refresh").token(Token::Raw(old_alice)).status(401).body_eq(j(E401)),
        Scenario::new("old password refused", "POST", "/api/collections/users/auth-with-password")
            .json(json!({"identity":"alice@example.com","password":ALICE_PASSWORD}))
            .status(400)
            .body_eq(j(AUTH_FAILED)),
        Scenario::new("new password works", "POST", "/api/collections/users/auth-with-password")
            .json(json!({"identity":"alice@example.com","password":"newpass12345"}))
            .contains(&[r#""token":"eyJ"#]),
        Scenario::new("superuser sets a password without oldPassword", "PATCH", format!("/api/collections/users/records/{bob}"))
            .su()
            .json(json!({"password":"bobnewpass12","passwordConfirm":"bobnewpass12"}))
            .not_contains(SECRETS),
        Scenario::new("Bob's old token is now a guest", "GET", "/api/collections/posts/records").token(Token::Raw(old_bob)).check(posts_total(2)),
        Scenario::new("superuser still needs passwordConfirm", "PATCH", format!("/api/collections/users/records/{bob}"))
            .su()
            .json(json!({"password":"bobnewpass34","passwordConfirm":"nope"}))
            .status(400)
            .contains(&["passwordConfirm"]),
    ])
    .await;
}

#[tokio::test]
async fn email_visibility_and_secrets() {
    let t = TestApp::with_posts().await;
    t.su_ok(
        "PATCH",
        "/api/collections/users",
        json!({"listRule":"","viewRule":""}),
    )
    .await;
    let (alice, bob, bob_post) = (t.id("alice"), t.id("bob"), t.id("bob_post"));
    let bob_url = format!("/api/collections/users/records/{bob}");
    let alice_url = format!("/api/collections/users/records/{alice}");
    t.run(vec![
        Scenario::new("Bob's email hidden from Alice", "GET", &bob_url)
            .user("alice")
            .contains(&[r#""emailVisibility":false"#, r#""name":"Bob""#])
            .not_contains(&["bob@example.com", r#""email""#])
            .not_contains(SECRETS),
        Scenario::new("Bob's email hidden from guests", "GET", &bob_url)
            .not_contains(&["bob@example.com"]),
        Scenario::new("Bob sees his own email", "GET", &bob_url)
            .user("bob")
            .contains(&[r#""email":"bob@example.com""#]),
        Scenario::new("superusers see it", "GET", &bob_url)
            .su()
            .contains(&[r#""email":"bob@example.com""#])
            .not_contains(SECRETS),
        Scenario::new("public email shown to guests", "GET", &alice_url)
            .contains(&[r#""email":"alice@example.com""#]),
        Scenario::new(
            "list: only public emails",
            "GET",
            "/api/collections/users/records?sort=@rowid",
        )
        .user("alice")
        .contains(&["alice@example.com"])
        .not_contains(&["bob@example.com"])
        .not_contains(SECRETS),
        Scenario::new(
            "expand hides the email too",
            "GET",
            format!("/api/collections/posts/records/{bob_post}?expand=author"),
        )
        .user("alice")
        .check(|v| {
            assert_eq!(v["expand"]["author"]["name"], json!("Bob"));
            assert!(v["expand"]["author"].get("email").is_none());
        }),
        Scenario::new(
            "superuser list never shows secrets",
            "GET",
            "/api/collections/users/records",
        )
        .su()
        .not_contains(SECRETS)
        .total(2),
        Scenario::new(
            "hidden fields are not filterable by clients",
            "GET",
            format!(
                "/api/collections/users/records?filter={}",
                enc("tokenKey != ''")
            ),
        )
        .user("alice")
        .status(400),
        Scenario::new(
            "hidden fields are filterable by superusers",
            "GET",
            format!(
                "/api/collections/users/records?filter={}",
                enc("tokenKey != ''")
            ),
        )
        .su()
        .total(2)
        .not_contains(SECRETS),
        Scenario::new(
            "fields=* still hides secrets",
            "GET",
            format!("{alice_url}?fields=*"),
        )
        .su()
        .not_contains(SECRETS),
        Scenario::new("a user cannot set tokenKey", "PATCH", &alice_url)
            .user("alice")
            .json(json!({"tokenKey":"x".repeat(50)}))
            .not_contains(SECRETS),
        Scenario::new(
            "token still valid after the tokenKey attempt",
            "GET",
            "/api/collections/posts/records",
        )
        .user("alice")
        .check(posts_total(3)),
    ])
    .await;
}

/// PocketBase adds `emailVisibility = true` to client filters on an auth collection's `email`
/// (core/record_field_resolver_runner.go), so hidden emails cannot be probed by filtering.
#[tokio::test]
async fn hidden_emails_not_filterable() {
    let t = TestApp::with_posts().await;
    t.su_ok(
        "PATCH",
        "/api/collections/users",
        json!({"listRule":"","viewRule":""}),
    )
    .await;
    let users = |f: &str| format!("/api/collections/users/records?filter={}", enc(f));
    t.run(vec![
        Scenario::new("public email", "GET", users("email = 'alice@example.com'")).total(1),
        Scenario::new(
            "hidden email (guest)",
            "GET",
            users("email = 'bob@example.com'"),
        )
        .total(0),
        Scenario::new(
            "hidden email (owner)",
            "GET",
            users("email = 'bob@example.com'"),
        )
        .user("bob")
        .total(0),
        Scenario::new(
            "hidden email (superuser)",
            "GET",
            users("email = 'bob@example.com'"),
        )
        .su()
        .total(1),
        Scenario::new(
            "through a relation",
            "GET",
            format!(
                "/api/collections/posts/records?filter={}",
                enc("author.email = 'bob@example.com'")
            ),
        )
        .user("alice")
        .total(0),
        Scenario::new(
            "through a relation (superuser)",
            "GET",
            format!(
                "/api/collections/posts/records?filter={}",
                enc("author.email = 'bob@example.com'")
            ),
        )
        .su()
        .total(1),
    ])
    .await;
}

/// PocketBase's auth-refresh only renews tokens whose payload says `refreshable: true`; an
/// impersonation token comes back unchanged (apis/record_auth_refresh.go).
#[tokio::test]
async fn impersonation_token_not_refreshable() {
    let t = TestApp::with_posts().await;
    let r = t
        .send(
            "POST",
            &format!("/api/collections/users/impersonate/{}", t.id("alice")),
            Some(json!({"duration":3600})),
            &Token::Superuser,
        )
        .await;
    let imp = r.json["token"].as_str().unwrap().to_owned();
    let same = imp.clone();
    t.run(vec![Scenario::new(
        "refresh an impersonation token",
        "POST",
        "/api/collections/users/auth-refresh",
    )
    .token(Token::Raw(imp))
    .check(move |v| {
        assert_eq!(
            jwt_payload(v["token"].as_str().unwrap())["refreshable"],
            json!(false)
        );
        assert_eq!(v["token"], json!(same), "the same token is returned");
    })])
    .await;
}

/// Without manage access a user may not change `verified` or `email` directly
/// (forms/record_upsert.go: validators.Equal on the original value).
#[tokio::test]
async fn user_cannot_set_verified_or_email() {
    let t = TestApp::with_posts().await;
    let me = format!("/api/collections/users/records/{}", t.id("alice"));
    t.run(vec![
        Scenario::new("verified", "PATCH", &me)
            .user("alice")
            .json(json!({"verified":true}))
            .status(400)
            .contains(&[r#""verified":{"code":"validation_values_mismatch""#]),
        Scenario::new("email", "PATCH", &me)
            .user("alice")
            .json(json!({"email":"new@example.com"}))
            .status(400)
            .contains(&[r#""email":{"code":"validation_values_mismatch""#]),
        Scenario::new("unchanged", "GET", &me)
            .user("alice")
            .contains(&[r#""verified":false"#, r#""email":"alice@example.com""#]),
    ])
    .await;
}

/// PocketBase's messages for auth routes: the form validation message, and the auth collection
/// context errors (apis/record_auth*.go, apis/middlewares.go).
#[tokio::test]
async fn auth_error_messages() {
    let t = TestApp::with_posts().await;
    let ctx404 =
        json!({"data":{},"message":"Missing or invalid auth collection context.","status":404});
    t.run(vec![
        Scenario::new("empty body", "POST", "/api/collections/users/auth-with-password")
            .json(json!({}))
            .status(400)
            .body_eq(j(r#"{"data":{"identity":{"code":"validation_required","message":"Cannot be blank."},"password":{"code":"validation_required","message":"Cannot be blank."}},"message":"An error occurred while validating the submitted data.","status":400}"#)),
        Scenario::new("login on a base collection", "POST", "/api/collections/posts/auth-with-password")
            .json(json!({"identity":"alice@example.com","password":ALICE_PASSWORD}))
            .status(404)
            .body_eq(ctx404.clone()),
        Scenario::new("auth-methods of a base collection", "GET", "/api/collections/posts/auth-methods").status(404).body_eq(ctx404.clone()),
        Scenario::new("impersonate in a base collection", "POST", format!("/api/collections/posts/impersonate/{}", t.id("hello"))).su().json(json!({})).status(404).body_eq(ctx404),
        Scenario::new("refresh in another auth collection", "POST", "/api/collections/_superusers/auth-refresh")
            .user("alice")
            .status(403)
            .body_eq(json!({"data":{},"message":"The request requires auth record from users collection.","status":403})),
    ])
    .await;
}

/// A P-256 key in Apple's .p8 form (PKCS#8 PEM), made for this test only.
const APPLE_TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbXwhya2y/9VyXjZd\nLG6kBmuj5Guf1hG69eD8ngNb6/uhRANCAAQHMMVT9Yrxtn+j6wEbkHRm4h4LFDdJ\nIUK+W3rnPMJCw1dI1YkADqWwU69krGcrCseBiUymPwX0C9YDcjSZ+O2n\n-----END PRIVATE KEY-----";

/// `POST /api/settings/apple/generate-client-secret` as PocketBase 0.40.6 answers it.
#[tokio::test]
async fn apple_client_secret_is_an_es256_jwt() {
    let t = TestApp::with_posts().await;
    let url = "/api/settings/apple/generate-client-secret";
    let r = t
        .send("POST", url, Some(json!({"clientId":"com.example.app","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":APPLE_TEST_KEY,"duration":3600})), &Token::Superuser)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let parts: Vec<&str> = r.json["secret"].as_str().unwrap().split('.').collect();
    assert_eq!(parts.len(), 3);
    use base64::Engine;
    let dec = |s: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        dec(parts[0]),
        json!({"alg":"ES256","kid":"KEY1234567","typ":"JWT"})
    );
    let claims = dec(parts[1]);
    assert_eq!(
        (
            claims["iss"].clone(),
            claims["sub"].clone(),
            claims["aud"].clone()
        ),
        (
            json!("TEAM123456"),
            json!("com.example.app"),
            json!(["https://appleid.apple.com"])
        )
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    let r = t
        .send("POST", url, Some(json!({"clientId":"com.x","teamId":"short","keyId":"KEY1234567","privateKey":"nope","duration":99999999})), &Token::Superuser)
        .await;
    assert_eq!(
        r.json,
        json!({"data":{
        "duration":{"code":"validation_max_less_equal_than_required","message":"Must be no greater than 15777000.","params":{"threshold":15777000}},
        "privateKey":{"code":"validation_match_invalid","message":"Must be in a valid format."},
        "teamId":{"code":"validation_length_invalid","message":"The length must be exactly 10.","params":{"max":10,"min":10}}},
        "message":"Invalid client secret data.","status":400})
    );
    let r = t
        .send("POST", url, Some(json!({"clientId":"com.x","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----","duration":5})), &Token::Superuser)
        .await;
    assert_eq!(r.status, 400);
    assert!(r.json["message"]
        .as_str()
        .unwrap()
        .starts_with("Failed to generate client secret. Raw error: \n"));
    let r = t
        .send("POST", url, Some(json!({})), &Token::User("alice"))
        .await;
    assert_eq!(r.status, 403);
}
