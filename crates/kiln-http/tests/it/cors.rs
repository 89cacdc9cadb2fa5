//! Cross-origin requests as PocketBase 0.40.6 answers them (checked against the real binary):
//! `Vary: Origin` on every answer, the allowed origin echoed (`*` by default), and every
//! `OPTIONS` request a 204 preflight, before routing and without the security headers.

use axum::http::HeaderMap;
use kiln_http::cors::Cors;

use crate::support::*;

async fn call(
    t: &TestApp,
    cors: &[&str],
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap) {
    let options = kiln_http::HttpOptions {
        cors: Cors::new(cors.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    let (status, headers, _) = t.call_with(options, method, path, headers).await;
    (status, headers)
}

fn all(h: &HeaderMap, k: &str) -> Vec<String> {
    h.get_all(k)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_origin_by_default_and_preflights_before_routing() {
    let t = TestApp::new().await;
    let preflight = [
        ("origin", "http://app.test"),
        ("access-control-request-method", "POST"),
        (
            "access-control-request-headers",
            "content-type,authorization",
        ),
    ];
    for path in [
        "/api/health",
        "/api/collections/users/records",
        "/no/such/route",
    ] {
        let (status, h) = call(&t, &[], "OPTIONS", path, &preflight).await;
        assert_eq!(status, 204, "{path}");
        assert_eq!(all(&h, "access-control-allow-origin"), ["*"]);
        assert_eq!(
            all(&h, "access-control-allow-methods"),
            ["GET,HEAD,PUT,PATCH,POST,DELETE"]
        );
        assert_eq!(
            all(&h, "access-control-allow-headers"),
            ["content-type,authorization"]
        );
        assert_eq!(
            all(&h, "vary"),
            [
                "Origin",
                "Access-Control-Request-Method",
                "Access-Control-Request-Headers"
            ]
        );
        assert!(
            h.get("x-frame-options").is_none(),
            "no security headers on a preflight"
        );
    }
    let (status, h) = call(&t, &[], "OPTIONS", "/api/health", &[]).await;
    assert_eq!((status, all(&h, "vary")), (204, vec!["Origin".to_owned()]));
    assert!(h.get("access-control-allow-origin").is_none());

    let (status, h) = call(
        &t,
        &[],
        "GET",
        "/api/health",
        &[("origin", "http://app.test")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(all(&h, "access-control-allow-origin"), ["*"]);
    assert_eq!(all(&h, "vary"), ["Origin"]);
    let (_, h) = call(&t, &[], "GET", "/api/health", &[]).await;
    assert!(h.get("access-control-allow-origin").is_none());
    assert_eq!(all(&h, "vary"), ["Origin"]);
}

#[tokio::test]
async fn a_list_of_origins_allows_only_those() {
    let t = TestApp::new().await;
    let list = ["https://app.example.com", "https://*.corp.io"];
    let from = |o: &'static str| [("origin", o), ("access-control-request-method", "GET")];
    let (status, h) = call(
        &t,
        &list,
        "OPTIONS",
        "/api/health",
        &from("https://app.example.com"),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        all(&h, "access-control-allow-origin"),
        ["https://app.example.com"]
    );
    let (_, h) = call(
        &t,
        &list,
        "OPTIONS",
        "/api/health",
        &from("https://x.corp.io"),
    )
    .await;
    assert_eq!(
        all(&h, "access-control-allow-origin"),
        ["https://x.corp.io"]
    );
    for refused in ["https://evil.example", "http://app.example.com", "null"] {
        let (status, h) = call(&t, &list, "OPTIONS", "/api/health", &from(refused)).await;
        assert_eq!(status, 204, "{refused}");
        assert!(h.get("access-control-allow-origin").is_none(), "{refused}");
        assert!(h.get("access-control-allow-methods").is_none(), "{refused}");
        let (status, h) = call(&t, &list, "GET", "/api/health", &[("origin", refused)]).await;
        assert_eq!(
            status, 200,
            "the request itself is served; the browser hides the answer"
        );
        assert!(h.get("access-control-allow-origin").is_none(), "{refused}");
    }
}
