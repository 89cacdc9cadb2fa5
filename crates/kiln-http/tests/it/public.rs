//! Static files from `pb_public` (`--publicDir`, `--indexFallback`) as PocketBase serves them.

use axum::http::HeaderMap;
use kiln_http::public::PublicDir;

use crate::support::*;

async fn get(
    t: &TestApp,
    dir: &std::path::Path,
    fallback: bool,
    path: &str,
) -> (u16, HeaderMap, String) {
    get_with(t, dir, fallback, path, &[]).await
}

async fn get_with(
    t: &TestApp,
    dir: &std::path::Path,
    fallback: bool,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, String) {
    let options = kiln_http::HttpOptions {
        public: Some(PublicDir::new(dir, fallback)),
        ..Default::default()
    };
    let (status, headers, body) = t.call_with(options, "GET", path, headers).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn files_folders_redirects_and_the_index_fallback() {
    let t = TestApp::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>home</h1>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log(1)").unwrap();
    std::fs::write(dir.path().join("docs/index.html"), "<h1>docs</h1>").unwrap();
    std::fs::write(t.app.data_dir().join("secret.txt"), "data dir").unwrap();
    let p = dir.path();

    let (s, h, b) = get(&t, p, true, "/").await;
    assert_eq!(
        (s, h["content-type"].to_str().unwrap(), b.as_str()),
        (200, "text/html; charset=utf-8", "<h1>home</h1>")
    );
    let (s, h, b) = get(&t, p, true, "/app.js").await;
    assert_eq!(
        (s, h["content-type"].to_str().unwrap(), b.as_str()),
        (200, "text/javascript; charset=utf-8", "console.log(1)")
    );
    assert!(h.contains_key("etag") && h.contains_key("last-modified"));
    assert_eq!(get(&t, p, true, "/docs/").await.2, "<h1>docs</h1>");
    for (from, to) in [
        ("/docs", "/docs/"),
        ("/docs/index.html", "/docs/"),
        ("/app.js/", "/app.js"),
        ("//evil.example", "/evil.example/"),
    ] {
        let (s, h, _) = get(&t, p, true, from).await;
        if from == "//evil.example" {
            // not a folder here: the fallback answers, no redirect off the host
            assert_eq!(s, 200, "{from}");
            continue;
        }
        assert_eq!((s, h["location"].to_str().unwrap()), (301, to), "{from}");
    }
    // a missing path: the root index.html with the fallback, else PocketBase's 404
    assert_eq!(get(&t, p, true, "/some/spa/route").await.2, "<h1>home</h1>");
    let (s, _, b) = get(&t, p, false, "/some/spa/route").await;
    assert_eq!(
        (s, b.as_str()),
        (
            404,
            r#"{"data":{},"message":"File not found.","status":404}"#
        )
    );
    // nothing outside the folder
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/docs/../../secret.txt",
    ] {
        let (s, _, b) = get(&t, p, false, path).await;
        assert!(s == 404 || !b.contains("data dir"), "{path}: {s} {b}");
    }
    // byte ranges and unchanged files, as http.ServeContent answers them
    let (s, h, b) = get_with(&t, p, true, "/app.js", &[("range", "bytes=0-6")]).await;
    assert_eq!((s, b.as_str()), (206, "console"));
    assert_eq!(h["content-range"], "bytes 0-6/14");
    let (s, h, _) = get_with(&t, p, true, "/app.js", &[("range", "bytes=99-")]).await;
    assert_eq!(
        (s, h["content-range"].to_str().unwrap()),
        (416, "bytes */14")
    );
    let etag = get(&t, p, true, "/app.js").await.1["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let (s, _, b) = get_with(&t, p, true, "/app.js", &[("if-none-match", &etag)]).await;
    assert_eq!((s, b.as_str()), (304, ""));
    // the API is untouched
    let (s, _, b) = get(&t, p, true, "/api/health").await;
    assert_eq!(s, 200);
    assert!(b.contains("API is healthy."));
}
