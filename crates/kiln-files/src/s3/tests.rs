//! Unit tests of the S3 client that need no S3 server: configuration, URL building, response
//! parsing, and the bytes on the wire (a plain TCP listener records what the client sends).
//! The behaviour against a real S3 implementation is tested in `tests/s3.rs` (moto).

use super::limits::{GIB, MIB};
use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn config(endpoint: &str, path_style: bool) -> S3Config {
    S3Config {
        bucket: "my-bucket".into(),
        region: "us-east-1".into(),
        endpoint: endpoint.into(),
        access_key: "AKID".into(),
        secret: "SECRET".into(),
        force_path_style: path_style,
    }
}

fn store(endpoint: &str, path_style: bool) -> S3Store {
    S3Store::new(config(endpoint, path_style), S3Tuning::default()).unwrap()
}

#[test]
fn path_style_urls() {
    let s = store("http://127.0.0.1:9000", true);
    let t = s.target(Some("pbc_1/rec/a b+ü.png"), &[]).unwrap();
    assert_eq!(
        t.url.as_str(),
        "http://127.0.0.1:9000/my-bucket/pbc_1/rec/a%20b%2B%C3%BC.png"
    );
    assert_eq!(t.host, "127.0.0.1:9000");
    let t = s
        .target(None, &[("prefix", "a/b/"), ("list-type", "2")])
        .unwrap();
    assert_eq!(
        t.url.as_str(),
        "http://127.0.0.1:9000/my-bucket?list-type=2&prefix=a%2Fb%2F"
    );
    assert_eq!(t.url.path(), "/my-bucket");
    assert_eq!(t.url.query(), Some("list-type=2&prefix=a%2Fb%2F"));
}

#[test]
fn virtual_host_urls() {
    let s = store("https://s3.eu-west-1.amazonaws.com", false);
    let t = s.target(Some("k/$1.txt"), &[]).unwrap();
    assert_eq!(
        t.url.as_str(),
        "https://my-bucket.s3.eu-west-1.amazonaws.com/k/%241.txt"
    );
    assert_eq!(t.host, "my-bucket.s3.eu-west-1.amazonaws.com");
    let t = s.target(None, &[("delete", "")]).unwrap();
    assert_eq!(
        t.url.as_str(),
        "https://my-bucket.s3.eu-west-1.amazonaws.com/?delete="
    );
    assert_eq!(t.url.path(), "/");
    // A port stays in the host; a default port is dropped, as in the Host header.
    let s = store("http://localhost:4566", false);
    assert_eq!(
        s.target(Some("a"), &[]).unwrap().host,
        "my-bucket.localhost:4566"
    );
    let s = store("https://minio.example.com:443/", false);
    assert_eq!(
        s.target(Some("a"), &[]).unwrap().host,
        "my-bucket.minio.example.com"
    );
}

#[test]
fn endpoint_paths_and_schemes() {
    let s = store("minio.example.com/s3/", true);
    let t = s.target(Some("a/b"), &[]).unwrap();
    assert_eq!(t.url.as_str(), "https://minio.example.com/s3/my-bucket/a/b");
    let s = store("http://[::1]:9000", true);
    let t = s.target(Some("a"), &[]).unwrap();
    assert_eq!(t.host, "[::1]:9000");
    assert_eq!(t.url.as_str(), "http://[::1]:9000/my-bucket/a");
}

#[test]
fn refuses_bad_configurations() {
    let bad = |cfg: S3Config| match S3Store::new(cfg, S3Tuning::default()) {
        Err(StorageError::Config(msg)) => msg,
        other => panic!("expected a Config error, got {other:?}"),
    };
    let ok = config("http://127.0.0.1:9000", true);
    assert!(bad(S3Config {
        endpoint: String::new(),
        ..ok.clone()
    })
    .contains("endpoint is required"));
    assert!(bad(S3Config {
        endpoint: "ftp://x".into(),
        ..ok.clone()
    })
    .contains("http://"));
    assert!(bad(S3Config {
        endpoint: "http://".into(),
        ..ok.clone()
    })
    .contains("not a URL"));
    assert!(bad(S3Config {
        endpoint: "http://u:p@h".into(),
        ..ok.clone()
    })
    .contains("credentials"));
    assert!(bad(S3Config {
        endpoint: "http://h/?a=b".into(),
        ..ok.clone()
    })
    .contains("query"));
    assert!(bad(S3Config {
        region: " ".into(),
        ..ok.clone()
    })
    .contains("region is required"));
    assert!(bad(S3Config {
        bucket: String::new(),
        ..ok.clone()
    })
    .contains("bucket is required"));
    assert!(bad(S3Config {
        bucket: "a/b".into(),
        ..ok.clone()
    })
    .contains("bucket name"));
    assert!(bad(S3Config {
        secret: String::new(),
        ..ok.clone()
    })
    .contains("secret"));
    assert!(bad(S3Config {
        bucket: "My_Bucket".into(),
        force_path_style: false,
        ..ok.clone()
    })
    .contains("path-style"));
    assert!(S3Store::new(
        S3Config {
            bucket: "My_Bucket".into(),
            ..ok.clone()
        },
        S3Tuning::default()
    )
    .is_ok());
    let tuned = |tuning: S3Tuning| S3Store::new(ok.clone(), tuning).map(drop);
    assert!(tuned(S3Tuning {
        list_page_size: 0,
        ..S3Tuning::default()
    })
    .is_err());
    assert!(tuned(S3Tuning {
        list_page_size: 1001,
        ..S3Tuning::default()
    })
    .is_err());
    assert!(tuned(S3Tuning {
        part_size: MIB,
        ..S3Tuning::default()
    })
    .is_err());
    assert!(tuned(S3Tuning {
        multipart_threshold: 6 * GIB,
        ..S3Tuning::default()
    })
    .is_err());
    assert!(tuned(S3Tuning {
        idle_timeout: Duration::ZERO,
        ..S3Tuning::default()
    })
    .is_err());
}

#[test]
fn debug_hides_the_secret() {
    let cfg = config("http://h", true);
    assert!(!format!("{cfg:?}").contains("SECRET"));
    assert!(!format!("{:?}", S3Store::new(cfg, S3Tuning::default()).unwrap()).contains("SECRET"));
}

#[test]
fn parses_content_range() {
    assert_eq!(parse_content_range("bytes 0-9/443"), Some((0, 9, 443)));
    assert_eq!(
        parse_content_range("bytes 442-442/443"),
        Some((442, 442, 443))
    );
    assert_eq!(parse_content_range("bytes */443"), None);
    assert_eq!(parse_content_range("bytes 5-4/443"), None);
    assert_eq!(parse_content_range("bytes 0-443/443"), None);
    assert_eq!(parse_content_range(""), None);
}

#[test]
fn maps_404s() {
    let s3 = |status, code: &str| StorageError::S3 {
        status,
        code: code.into(),
        message: String::new(),
    };
    assert_eq!(not_found_or(s3(404, "NoSuchKey")), StorageError::NotFound);
    assert_eq!(not_found_or(s3(404, "")), StorageError::NotFound);
    assert_eq!(
        not_found_or(s3(404, "NoSuchBucket")),
        s3(404, "NoSuchBucket")
    );
    assert_eq!(
        not_found_or(s3(403, "AccessDenied")),
        s3(403, "AccessDenied")
    );
}

/// One HTTP/1.1 request as received: head (lower-cased header names) and body.
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Received {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the end of the head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let mut chunk = vec![0u8; 65536];
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed in the body");
        body.extend_from_slice(&chunk[..n]);
    }
    Received {
        request_line,
        headers,
        body,
    }
}

#[tokio::test]
async fn put_file_streams_with_a_content_length_and_a_valid_signature() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let received = read_request(&mut socket).await;
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        received
    });
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("upload.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &data).unwrap();

    let s = store(&format!("http://127.0.0.1:{port}"), true);
    s.put_file("pbc_1/rec 1/photo.png", &src, "image/png")
        .await
        .unwrap();
    let got = server.await.unwrap();

    assert_eq!(
        got.request_line,
        "PUT /my-bucket/pbc_1/rec%201/photo.png HTTP/1.1"
    );
    assert_eq!(got.header("content-length"), Some("300000"));
    assert_eq!(got.header("transfer-encoding"), None, "must not be chunked");
    assert_eq!(got.header("x-amz-content-sha256"), Some("UNSIGNED-PAYLOAD"));
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(
        got.header("host").map(str::to_owned),
        Some(format!("127.0.0.1:{port}"))
    );
    assert!(got.body == data, "body differs");

    // Recompute the signature from what arrived: the signed headers must be the sent ones.
    let auth = got.header("authorization").unwrap();
    let signed_names = auth
        .split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    assert_eq!(
        signed_names,
        "content-type;host;x-amz-content-sha256;x-amz-date"
    );
    let headers: Vec<(&str, &str)> = signed_names
        .split(';')
        .map(|n| (n, got.header(n).unwrap()))
        .collect();
    let amz_date = got.header("x-amz-date").unwrap();
    let again = sigv4::Signer {
        access_key: "AKID",
        secret: "SECRET",
        region: "us-east-1",
        service: "s3",
    }
    .sign(&sigv4::Request {
        method: "PUT",
        canonical_uri: "/my-bucket/pbc_1/rec%201/photo.png",
        canonical_query: "",
        headers: &headers,
        payload_hash: "UNSIGNED-PAYLOAD",
        amz_date,
    });
    assert_eq!(auth, again.authorization);
    assert!(auth.starts_with(&format!(
        "AWS4-HMAC-SHA256 Credential=AKID/{}/us-east-1/s3/aws4_request, ",
        &amz_date[..8]
    )));
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let _ = read_request(&mut socket).await;
        // Never answer; keep the socket open until the client gives up.
        let mut rest = Vec::new();
        let _ = socket.read_to_end(&mut rest).await;
    });
    let tuning = S3Tuning {
        idle_timeout: Duration::from_millis(300),
        // One attempt: this server answers one connection only.
        retries: 0,
        ..S3Tuning::default()
    };
    let s = S3Store::new(config(&format!("http://127.0.0.1:{port}"), true), tuning).unwrap();
    let started = Instant::now();
    match s.head("a").await {
        Err(StorageError::Network(msg)) => assert!(msg.contains("no progress"), "{msg}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    server.abort();
}

#[tokio::test]
async fn a_stalled_download_ends_with_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let _ = read_request(&mut socket).await;
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\ncontent-type: text/plain\r\n\r\n0123456789")
            .await
            .unwrap();
        // The other 90 bytes never come.
        tokio::time::sleep(Duration::from_secs(10)).await;
    });
    let tuning = S3Tuning {
        idle_timeout: Duration::from_millis(300),
        ..S3Tuning::default()
    };
    let s = S3Store::new(config(&format!("http://127.0.0.1:{port}"), true), tuning).unwrap();
    let object = s.get("a", None).await.unwrap();
    assert_eq!(object.meta.size, 100);
    assert_eq!(object.meta.content_type, "text/plain");
    match object.into_bytes().await {
        Err(StorageError::Io(msg)) => assert!(msg.contains("stalled"), "{msg}"),
        other => panic!("expected a stall error, got {other:?}"),
    }
    server.abort();
}

#[tokio::test]
async fn s3_error_documents_become_s3_errors() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        for body in [
            "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>nope</Message></Error>",
            "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>",
            "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
        ] {
            let (mut socket, _) = listener.accept().await.unwrap();
            let request = read_request(&mut socket).await;
            let status = if body.contains("AccessDenied") { "403 Forbidden" } else { "404 Not Found" };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            assert!(request.request_line.starts_with("GET /my-bucket/k "), "{}", request.request_line);
        }
    });
    let s = store(&format!("http://127.0.0.1:{port}"), true);
    assert_eq!(s.get("k", None).await.unwrap_err(), StorageError::NotFound);
    assert_eq!(
        s.get("k", None).await.unwrap_err(),
        StorageError::S3 {
            status: 404,
            code: "NoSuchBucket".into(),
            message: "The specified bucket does not exist".into()
        }
    );
    assert_eq!(
        s.get("k", None).await.unwrap_err(),
        StorageError::S3 {
            status: 403,
            code: "AccessDenied".into(),
            message: "Access Denied".into()
        }
    );
    server.await.unwrap();
}

/// A server answering each connection with the next of `statuses`, keeping each request.
fn flaky_server(
    listener: TcpListener,
    statuses: Vec<&'static str>,
) -> tokio::task::JoinHandle<Vec<Received>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        for status in statuses {
            let (mut socket, _) = listener.accept().await.unwrap();
            seen.push(read_request(&mut socket).await);
            let body = if status.starts_with("200") {
                String::new()
            } else {
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".into()
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
        }
        seen
    })
}

fn quick_retries(port: u16) -> S3Store {
    let tuning = S3Tuning {
        retry_delay: Duration::from_millis(10),
        ..S3Tuning::default()
    };
    S3Store::new(config(&format!("http://127.0.0.1:{port}"), true), tuning).unwrap()
}

#[tokio::test]
async fn transient_failures_are_retried_with_the_whole_body() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = flaky_server(
        listener,
        vec![
            "503 Service Unavailable",
            "500 Internal Server Error",
            "200 OK",
            "429 Too Many Requests",
            "200 OK",
        ],
    );
    let s = quick_retries(port);
    s.put_bytes("a.txt", Bytes::from_static(b"hello"), "text/plain")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("f.bin");
    std::fs::write(&src, b"file body").unwrap();
    s.put_file("f.bin", &src, "application/octet-stream")
        .await
        .unwrap();
    let seen = server.await.unwrap();
    let bodies: Vec<&[u8]> = seen.iter().map(|r| r.body.as_slice()).collect();
    assert_eq!(
        bodies,
        [
            &b"hello"[..],
            b"hello",
            b"hello",
            b"file body",
            b"file body"
        ]
    );
}

#[tokio::test]
async fn retries_end_and_other_errors_are_not_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Two retries after the first attempt, then the error; a 403 is answered at once.
    let server = flaky_server(
        listener,
        vec![
            "503 Service Unavailable",
            "503 Service Unavailable",
            "503 Service Unavailable",
            "403 Forbidden",
        ],
    );
    let s = quick_retries(port);
    let err = s.head("k").await.unwrap_err();
    assert!(
        matches!(err, StorageError::S3 { status: 503, .. }),
        "{err:?}"
    );
    let err = s.delete("k").await.unwrap_err();
    assert!(
        matches!(err, StorageError::S3 { status: 403, .. }),
        "{err:?}"
    );
    assert_eq!(server.await.unwrap().len(), 4);
}
