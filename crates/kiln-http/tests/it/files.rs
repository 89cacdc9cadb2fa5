//! File fields at the HTTP layer: nothing is left behind by failed writes, temporary uploads
//! are always removed, and file URLs cannot reach outside a record's files. (Uploads through
//! the SDK, thumbnails, tokens and S3 run end to end in tests/sdk/files.test.mjs and s3.test.mjs.)

use serde_json::json;

use crate::support::*;

const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde, 0, 0, 0, 12, b'I', b'D', b'A', b'T',
    0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0, 0, 0x03, 0x01, 0x01, 0, 0x18, 0xdd, 0x8d, 0xb0, 0, 0, 0,
    0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82,
];

/// A multipart body with text fields and file parts `(field, filename, bytes)`.
fn multipart(texts: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (Vec<u8>, String) {
    let boundary = "----kilnFileBoundary0123456789";
    let mut body = Vec::new();
    for (k, v) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (k, name, bytes) in files {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn app_with_docs() -> TestApp {
    let t = TestApp::new().await;
    t.su_ok(
        "POST",
        "/api/collections",
        json!({"name": "docs", "type": "base", "listRule": "", "viewRule": "", "createRule": "title != 'blocked'", "updateRule": "", "deleteRule": "",
               "fields": [{"name": "title", "type": "text"},
                          {"name": "cover", "type": "file", "maxSelect": 1, "maxSize": 1024, "mimeTypes": ["image/png"]},
                          {"name": "files", "type": "file", "maxSelect": 3, "maxSize": 4096}]}),
    )
    .await;
    t
}

async fn upload(t: &TestApp, texts: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Resp {
    let (body, ct) = multipart(texts, files);
    t.send_raw(
        "POST",
        "/api/collections/docs/records",
        body,
        Some(&ct),
        &Token::None,
        &[],
    )
    .await
}

#[tokio::test]
async fn failed_writes_leave_no_blob_and_no_temporary_file() {
    let t = app_with_docs().await;
    let storage = t.app.data_dir().join("storage");
    let tmp = t.app.data_dir().join(".tmp");
    // The createRule refuses: the blob stored before the transaction is removed again.
    let r = upload(&t, &[("title", "blocked")], &[("files", "a.txt", b"hello")]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // A type the field does not allow, a file over maxSize, too many files: nothing stored.
    let r = upload(
        &t,
        &[("title", "spoof")],
        &[(
            "cover",
            "evil.png",
            b"<html><script>alert(1)</script></html>",
        )],
    )
    .await;
    assert_eq!(
        (r.status, r.json["data"]["cover"]["code"].clone()),
        (400, json!("validation_invalid_mime_type")),
        "{}",
        r.text
    );
    let big = vec![b'x'; 5000];
    let r = upload(&t, &[("title", "big")], &[("files", "big.txt", &big)]).await;
    assert_eq!(
        (r.status, r.json["data"]["files"]["code"].clone()),
        (400, json!("validation_file_size_limit")),
        "{}",
        r.text
    );
    let r = upload(
        &t,
        &[("title", "many")],
        &[
            ("files", "1.txt", b"1"),
            ("files", "2.txt", b"2"),
            ("files", "3.txt", b"3"),
            ("files", "4.txt", b"4"),
        ],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.json["data"]["files"],
        json!({"code":"validation_too_many_files","message":"The maximum allowed files is 3.","params":{"maxSelect":3}})
    );
    assert_eq!(t.count("docs"), 0);
    assert_eq!(
        files_under(&storage),
        Vec::<std::path::PathBuf>::new(),
        "no orphan blob"
    );
    assert_eq!(
        files_under(&tmp),
        Vec::<std::path::PathBuf>::new(),
        "no temporary upload left"
    );

    // A good upload stores exactly its blob; its temporary file is gone too.
    let r = upload(
        &t,
        &[("title", "ok")],
        &[("cover", "dot.png", PNG_1X1), ("files", "a.txt", b"hello")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(files_under(&storage).len(), 2);
    assert_eq!(files_under(&tmp), Vec::<std::path::PathBuf>::new());
}

#[tokio::test]
async fn file_urls_cannot_leave_the_record() {
    let t = app_with_docs().await;
    let r = upload(&t, &[("title", "ok")], &[("files", "a.txt", b"hello")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let name = r.json["files"][0].as_str().unwrap().to_owned();
    let ok = t
        .send(
            "GET",
            &format!("/api/files/docs/{id}/{name}"),
            None,
            &Token::None,
        )
        .await;
    assert_eq!((ok.status, ok.text.as_str()), (200, "hello"));
    for path in [
        format!("/api/files/docs/{id}/..%2F..%2F..%2Fdata.db"),
        format!("/api/files/docs/{id}/%2e%2e%2fdata.db"),
        format!("/api/files/docs/{id}/{name}%00.png"),
        format!("/api/files/docs/..%2F{id}/{name}"),
        "/api/files/docs/nosuchrecord00/x.txt".to_string(),
        format!("/api/files/nosuchcollection/{id}/{name}"),
        format!("/api/files/_superusers/{id}/{name}"),
    ] {
        let r = t.send("GET", &path, None, &Token::None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
}

#[tokio::test]
async fn file_parts_sent_to_other_endpoints_are_ignored_and_cleaned_up() {
    let t = app_with_docs().await;
    let (body, ct) = multipart(
        &[("identity", SU_EMAIL), ("password", SU_PASSWORD)],
        &[("avatar", "a.txt", b"not for here")],
    );
    let r = t
        .send_raw(
            "POST",
            "/api/collections/_superusers/auth-with-password",
            body,
            Some(&ct),
            &Token::None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        files_under(&t.app.data_dir().join(".tmp")),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        files_under(&t.app.data_dir().join("storage")),
        Vec::<std::path::PathBuf>::new()
    );
}

#[tokio::test]
async fn updates_replace_and_remove_blobs_after_commit() {
    let t = app_with_docs().await;
    let r = upload(
        &t,
        &[("title", "ok")],
        &[("files", "a.txt", b"A"), ("files", "b.txt", b"B")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let names: Vec<String> = r.json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let storage = t.app.data_dir().join("storage");
    assert_eq!(files_under(&storage).len(), 2);
    // `files-` removes one blob; a JSON body cannot invent names the record never had.
    let r = t
        .send(
            "PATCH",
            &format!("/api/collections/docs/records/{id}"),
            Some(json!({"files-": [names[0]]})),
            &Token::None,
        )
        .await;
    assert_eq!(r.json["files"], json!([names[1]]));
    let r = t
        .send(
            "PATCH",
            &format!("/api/collections/docs/records/{id}"),
            Some(json!({"files": [names[1], "../../data.db", "other.txt"]})),
            &Token::None,
        )
        .await;
    assert_eq!(
        r.json["files"],
        json!([names[1]]),
        "unknown names are dropped"
    );
    assert_eq!(files_under(&storage).len(), 1);
    let r = t
        .send(
            "DELETE",
            &format!("/api/collections/docs/records/{id}"),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        files_under(&storage),
        Vec::<std::path::PathBuf>::new(),
        "the record's files went with it"
    );
}

#[tokio::test]
async fn a_body_over_the_collections_limit_is_refused_midway() {
    let t = app_with_docs().await;
    // docs allows 1 KiB + 3 × 4 KiB of files: the body limit is the 32 MiB floor.
    let big = vec![b'z'; 33 << 20];
    let r = upload(&t, &[("title", "huge")], &[("files", "huge.txt", &big)]).await;
    assert_eq!(
        (r.status, r.json["message"].clone()),
        (413, json!("Request entity too large."))
    );
    assert_eq!(
        files_under(&t.app.data_dir().join(".tmp")),
        Vec::<std::path::PathBuf>::new(),
        "the partial upload is removed"
    );
    assert_eq!(t.count("docs"), 0);
}

#[tokio::test]
async fn a_single_file_field_given_several_files_stores_only_the_one_it_keeps() {
    let t = app_with_docs().await;
    let png2 = [PNG_1X1, b"trailing"].concat();
    let r = upload(
        &t,
        &[("title", "two covers")],
        &[("cover", "one.png", PNG_1X1), ("cover", "two.png", &png2)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cover = r.json["cover"].as_str().unwrap().to_owned();
    assert!(cover.starts_with("two_"), "{cover}");
    let stored = files_under(&t.app.data_dir().join("storage"));
    assert_eq!(
        stored.len(),
        1,
        "no orphan blob for the dropped upload: {stored:?}"
    );
    assert!(stored[0].ends_with(&cover));
}

#[tokio::test]
async fn a_chosen_id_that_is_not_a_record_id_is_refused_before_files_are_stored() {
    let t = app_with_docs().await;
    let r = upload(
        &t,
        &[("title", "bad id"), ("id", "../../x")],
        &[("files", "a.txt", b"A")],
    )
    .await;
    assert_eq!(
        (r.status, r.json["data"]["id"]["code"].clone()),
        (400, json!("validation_invalid_format")),
        "{}",
        r.text
    );
    assert_eq!(
        files_under(&t.app.data_dir().join("storage")),
        Vec::<std::path::PathBuf>::new()
    );
}

/// PocketBase's default security headers on every answer; a stored file may be framed by
/// another page (no `X-Frame-Options`), as PocketBase serves it.
#[tokio::test]
async fn security_headers_as_pocketbase_sends_them() {
    let t = app_with_docs().await;
    let r = upload(&t, &[("title", "ok")], &[("files", "a.txt", b"hello")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let h = |r: &Resp, k: &str| r.headers.get(k).map(|v| v.to_str().unwrap().to_owned());
    for (k, v) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "SAMEORIGIN"),
        ("x-xss-protection", "1; mode=block"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        assert_eq!(h(&r, k).as_deref(), Some(v), "{k} on a JSON answer");
    }
    let missing = t.send("GET", "/api/nothing", None, &Token::None).await;
    assert_eq!(
        h(&missing, "x-frame-options").as_deref(),
        Some("SAMEORIGIN")
    );
    let id = r.json["id"].as_str().unwrap();
    let name = r.json["files"][0].as_str().unwrap();
    let file = t
        .send(
            "GET",
            &format!("/api/files/docs/{id}/{name}"),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(file.status, 200);
    assert_eq!(h(&file, "x-frame-options"), None);
    assert_eq!(
        h(&file, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        h(&file, "cross-origin-opener-policy").as_deref(),
        Some("same-origin")
    );
}
