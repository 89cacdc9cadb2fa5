//! The dashboard at `/_/`: the embedded files, their encodings and caching, the strict
//! Content-Security-Policy, a folder instead of them (`--dashboardDir`), and turning it off.

use axum::http::HeaderMap;
use kiln_http::dashboard::DashboardSource;

use crate::support::*;

async fn get(
    t: &TestApp,
    source: DashboardSource,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, Vec<u8>) {
    let options = kiln_http::HttpOptions {
        dashboard: source,
        ..Default::default()
    };
    t.call_with(options, method, path, headers).await
}

fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn the_embedded_dashboard_with_its_encodings_caching_and_policy() {
    let t = TestApp::new().await;
    let e = || DashboardSource::Embedded;

    let (s, hd, body) = get(&t, e(), "GET", "/_/", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(h(&hd, "content-type"), "text/html; charset=utf-8");
    assert_eq!(h(&hd, "cache-control"), "no-cache");
    let csp = h(&hd, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(h(&hd, "x-frame-options"), "DENY");
    let html = String::from_utf8(body).unwrap();
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the index loads a script");
    assert!(
        script.starts_with("assets/app-") && script.ends_with(".js"),
        "{script}"
    );

    // the bundle: brotli, gzip or plain as the client takes it, cached for good
    let url = format!("/_/{script}");
    let (s, hd, plain) = get(&t, e(), "GET", &url, &[]).await;
    assert_eq!((s, h(&hd, "content-encoding")), (200, ""));
    assert_eq!(
        h(&hd, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(h(&hd, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(h(&hd, "vary"), "Accept-Encoding");
    let (_, hd_br, br) = get(
        &t,
        e(),
        "GET",
        &url,
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(h(&hd_br, "content-encoding"), "br");
    assert!(
        br.len() < plain.len() / 2,
        "{} vs {}",
        br.len(),
        plain.len()
    );
    let (_, hd_gz, gz) = get(&t, e(), "GET", &url, &[("accept-encoding", "gzip, br;q=0")]).await;
    assert_eq!(h(&hd_gz, "content-encoding"), "gzip");
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    assert_eq!(h(&hd_gz, "content-length"), gz.len().to_string());

    // revalidation and HEAD
    let etag = h(&hd, "etag").to_owned();
    let (s, _, body) = get(&t, e(), "GET", &url, &[("if-none-match", &etag)]).await;
    assert_eq!((s, body.len()), (304, 0));
    let (s, hd, body) = get(&t, e(), "HEAD", &url, &[]).await;
    assert_eq!((s, body.len()), (200, 0));
    assert_eq!(h(&hd, "content-length"), plain.len().to_string());

    // `/_` goes to `/_/`; what is not there is a 404 in the API's envelope
    let (s, hd, _) = get(&t, e(), "GET", "/_?x=1", &[]).await;
    assert_eq!((s, h(&hd, "location")), (308, "/_/?x=1"));
    for path in ["/_/nope.js", "/_/assets/../index.html", "/_/assets/"] {
        let (s, _, body) = get(&t, e(), "GET", path, &[]).await;
        assert_eq!(s, 404, "{path}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["status"], 404, "{path}");
    }
}

#[tokio::test]
async fn a_folder_instead_of_the_embedded_copy_and_no_dashboard() {
    let t = TestApp::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>dev</p>").unwrap();
    std::fs::write(dir.path().join("assets/app.js"), "1").unwrap();
    std::fs::write(t.app.data_dir().join("secret.txt"), "no").unwrap();
    let d = || DashboardSource::Dir(dir.path().to_owned());

    let (s, hd, body) = get(&t, d(), "GET", "/_/", &[]).await;
    assert_eq!((s, body.as_slice()), (200, b"<p>dev</p>".as_slice()));
    assert!(h(&hd, "content-security-policy").contains("script-src 'self'"));
    assert_eq!(h(&hd, "cache-control"), "no-cache");
    let (s, _, body) = get(&t, d(), "GET", "/_/assets/app.js", &[]).await;
    assert_eq!((s, body.as_slice()), (200, b"1".as_slice()));
    for path in ["/_/missing.js", "/_/../secret.txt", "/_/%2e%2e/secret.txt"] {
        let (s, _, body) = get(&t, d(), "GET", path, &[]).await;
        assert_eq!(s, 404, "{path}: {}", String::from_utf8_lossy(&body));
    }

    let (s, _, _) = get(&t, DashboardSource::Off, "GET", "/_/", &[]).await;
    assert_eq!(s, 404);
    // the API is unaffected
    let (s, _, _) = get(&t, DashboardSource::Off, "GET", "/api/health", &[]).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn only_failed_requests_for_the_dashboard_and_public_files_are_logged() {
    let t = TestApp::new().await;
    assert_eq!(t.send("GET", "/_/", None, &Token::None).await.status, 200);
    assert_eq!(
        t.send("GET", "/_/missing.js", None, &Token::None)
            .await
            .status,
        404
    );
    assert_eq!(
        t.send("GET", "/api/health", None, &Token::None)
            .await
            .status,
        200
    );
    t.app.flush_logs();
    let logs = t
        .su_ok("GET", "/api/logs?perPage=100", serde_json::Value::Null)
        .await;
    let urls: Vec<&str> = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["data"]["url"].as_str())
        .collect();
    assert!(urls.contains(&"/_/missing.js"), "{urls:?}");
    assert!(urls.contains(&"/api/health"), "{urls:?}");
    assert!(!urls.contains(&"/_/"), "{urls:?}");
}
