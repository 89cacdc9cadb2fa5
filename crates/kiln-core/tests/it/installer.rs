//! The first-superuser link (PocketBase's installer): a token only while no superuser exists,
//! not refreshable, and the installer account gone once a real superuser is created.

use serde_json::json;

use kiln_core::auth::installer::INSTALLER_EMAIL;
use kiln_core::RequestInfo;
use kiln_test::{object, TestCore};

#[tokio::test]
async fn the_installer_token_creates_the_first_superuser_and_then_dies() {
    let t = TestCore::open().await;
    assert_eq!(
        t.app.installer_token().await.unwrap(),
        None,
        "a superuser exists"
    );
    t.app.superuser_delete("root@example.com").await.unwrap();

    let token = t.app.installer_token().await.unwrap().expect("a token");
    let installer = t
        .app
        .auth_from_token(&token)
        .expect("the token authenticates");
    assert_eq!(installer.get_str("email"), INSTALLER_EMAIL);
    // asked again (a restart within the half hour): the same account, a new token
    let again = t.app.installer_token().await.unwrap().expect("a token");
    assert_eq!(t.app.auth_from_token(&again).unwrap().id(), installer.id());
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["refreshable"], json!(false), "{claims}");

    let as_installer = RequestInfo {
        auth: Some(installer.clone()),
        ..RequestInfo::default()
    };
    let su = t.get("_superusers");
    t.app
        .create_record(
            &su,
            &as_installer,
            object(json!({"email": "first@example.com", "password": "a-long-password", "passwordConfirm": "a-long-password"})),
        )
        .await
        .unwrap();
    assert!(
        t.app.auth_from_token(&token).is_none(),
        "the installer is gone on {}",
        t.engine()
    );
    assert_eq!(t.app.installer_token().await.unwrap(), None);
    let emails = t
        .list("_superusers", &t.superuser(), "", "", "email")
        .unwrap();
    assert_eq!(emails, ["first@example.com"], "on {}", t.engine());
}
