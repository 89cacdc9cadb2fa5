//! A write acknowledged to a client survives `kill -9` of the server.

use crate::support::{json_str, run, Server};

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(run(&[
        "superuser",
        "upsert",
        "admin@example.com",
        "Passw0rd!2345",
        "--dir",
        d
    ])
    .status
    .success());
    let server = Server::start(dir.path());
    let (status, body) = server.request(
        "POST",
        "/api/collections/_superusers/auth-with-password",
        Some(r#"{"identity":"admin@example.com","password":"Passw0rd!2345"}"#),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let token = json_str(&body, "token");
    let (status, body) = server.request(
        "POST",
        "/api/collections",
        Some(r#"{"name":"notes","type":"base","listRule":"","viewRule":"","createRule":"","fields":[{"name":"text","type":"text"}]}"#),
        Some(&token),
    );
    assert_eq!(status, 200, "{body}");
    let mut ids = Vec::new();
    for i in 0..200 {
        let (status, body) = server.request(
            "POST",
            "/api/collections/notes/records",
            Some(&format!(r#"{{"text":"n{i}"}}"#)),
            None,
        );
        assert_eq!(status, 200, "{body}");
        ids.push(json_str(&body, "id"));
    }
    server.kill9();

    let server = Server::start(dir.path());
    let (status, body) = server.request(
        "GET",
        "/api/collections/notes/records?perPage=1&fields=id",
        None,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["totalItems"], 200, "{body}");
    let last = ids.last().unwrap();
    let (status, _) = server.request(
        "GET",
        &format!("/api/collections/notes/records/{last}"),
        None,
        None,
    );
    assert_eq!(status, 200);
}
