//! Bad input: oversized bodies, hostile filters, broken query strings and bodies, unknown routes.
//! Nothing may crash, and every error is PocketBase's envelope `{data, message, status}` (checked
//! by the runner for every response >= 400).

use serde_json::{json, Value};

use crate::support::*;

const E400: &str =
    r#"{"data":{},"message":"Something went wrong while processing your request.","status":400}"#;

fn j(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn list(filter: &str) -> String {
    format!("/api/collections/posts/records?filter={}", enc(filter))
}

/// A JSON object of about `mib` MiB.
fn big_json(mib: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity((mib << 20) + 32);
    b.extend_from_slice(br#"{"title":"x","body":""#);
    b.resize(b.len() + (mib << 20), b'a');
    b.extend_from_slice(br#""}"#);
    b
}

#[tokio::test]
async fn oversized_bodies() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new(
            "40 MiB record body",
            "POST",
            "/api/collections/posts/records",
        )
        .user("alice")
        .raw(big_json(40), Some("application/json"))
        .client_error()
        .unchanged("posts"),
        Scenario::new("33 MiB collection body", "POST", "/api/collections")
            .su()
            .raw(big_json(33), Some("application/json"))
            .client_error(),
        Scenario::new(
            "40 MiB multipart body",
            "POST",
            "/api/collections/posts/records",
        )
        .su()
        .raw(
            {
                let mut b =
                    b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n".to_vec();
                b.resize(b.len() + (40 << 20), b'a');
                b.extend_from_slice(b"\r\n--B--\r\n");
                b
            },
            Some("multipart/form-data; boundary=B"),
        )
        .client_error()
        .unchanged("posts"),
        Scenario::new("still serving", "GET", "/api/health")
            .body_eq(json!({"message":"API is healthy.","code":200,"data":{}})),
    ])
    .await;
}

#[tokio::test]
async fn hostile_filters() {
    let t = TestApp::with_posts().await;
    let deep = format!("{}views>0{}", "(".repeat(1000), ")".repeat(1000));
    let deeper = format!("{}views>0{}", "(".repeat(5_000), ")".repeat(5_000));
    let long = format!("title='{}'", "a".repeat(10_000));
    let exprs = |n: usize| vec!["views>0"; n].join("||");
    t.run(vec![
        // PocketBase's fexpr recurses without a limit; Kiln bounds the nesting (64) instead of the stack.
        Scenario::new(
            "50 nested parentheses are fine",
            "GET",
            list(&format!("{}views>0{}", "(".repeat(50), ")".repeat(50))),
        )
        .su()
        .total(3),
        Scenario::new(
            "1000 nested parentheses (Kiln's nesting limit)",
            "GET",
            list(&deep),
        )
        .status(400)
        .body_eq(j(E400)),
        Scenario::new(
            "5000 nested parentheses (and the length limit)",
            "GET",
            list(&deeper),
        )
        .su()
        .status(400)
        .body_eq(j(E400)),
        Scenario::new("10k-char filter", "GET", list(&long))
            .status(400)
            .body_eq(j(E400)),
        Scenario::new(
            "3500-byte limit: just over",
            "GET",
            list(&format!("title='{}'", "a".repeat(3494))),
        )
        .su()
        .status(400),
        Scenario::new(
            "3500-byte limit: at it",
            "GET",
            list(&format!("title='{}'", "a".repeat(3492))),
        )
        .su()
        .total(0),
        Scenario::new("200 expressions", "GET", list(&exprs(200)))
            .su()
            .total(3),
        Scenario::new("201 expressions", "GET", list(&exprs(201)))
            .su()
            .status(400)
            .body_eq(j(E400)),
        Scenario::new(
            "deeply nested functions",
            "GET",
            list(
                "geoDistance(geoDistance(geoDistance(geoDistance(1,2,3,4),2,3,4),2,3,4),2,3,4) > 0",
            ),
        )
        .su()
        .status(400),
        Scenario::new("unterminated string", "GET", list("title = 'abc"))
            .status(400)
            .body_eq(j(E400)),
        Scenario::new(
            "SQL in a string is a value",
            "GET",
            list(r"title = 'x\' OR 1=1 --'"),
        )
        .su()
        .total(0),
        Scenario::new(
            "doubled quote is not an escape",
            "GET",
            list("title = 'x'' OR 1=1 --'"),
        )
        .su()
        .status(400),
        Scenario::new(
            "SQL as an identifier",
            "GET",
            list("title = 1; DROP TABLE posts"),
        )
        .su()
        .status(400),
        Scenario::new("posts survived", "GET", "/api/collections/posts/records")
            .su()
            .total(3),
        Scenario::new(
            "NUL in a filter",
            "GET",
            "/api/collections/posts/records?filter=title%3D%27a%00b%27",
        )
        .su()
        .no_server_error(),
        Scenario::new("unicode in a filter", "GET", list("title ~ 'ü日本'"))
            .su()
            .total(0),
        Scenario::new(
            "8 sort terms",
            "GET",
            format!(
                "/api/collections/posts/records?sort={}",
                ["-views"; 8].join(",")
            ),
        )
        .su()
        .total(3),
        Scenario::new(
            "9 sort terms",
            "GET",
            format!(
                "/api/collections/posts/records?sort={}",
                ["-views"; 9].join(",")
            ),
        )
        .su()
        .status(400)
        .body_eq(j(E400)),
        Scenario::new(
            "long sort",
            "GET",
            format!(
                "/api/collections/posts/records?sort={}",
                "-views,".repeat(2000)
            ),
        )
        .su()
        .status(400),
        Scenario::new(
            "hostile sort",
            "GET",
            format!(
                "/api/collections/posts/records?sort={}",
                enc("views;DROP TABLE posts")
            ),
        )
        .su()
        .status(400),
        Scenario::new(
            "deep expand",
            "GET",
            "/api/collections/posts/records?expand=author.a.b.c.d.e.f.g.h.i.j",
        )
        .su()
        .total(3),
        Scenario::new(
            "many expands",
            "GET",
            format!(
                "/api/collections/posts/records?expand={}",
                vec!["author"; 500].join(",")
            ),
        )
        .su()
        .total(3),
        Scenario::new(
            "garbage fields",
            "GET",
            "/api/collections/posts/records?fields=:::,,,((",
        )
        .su()
        .no_server_error(),
        Scenario::new(
            "excerpt with a huge max",
            "GET",
            "/api/collections/posts/records?fields=body:excerpt(99999999999999999999,true)",
        )
        .su()
        .no_server_error(),
    ])
    .await;
}

#[tokio::test]
async fn broken_query_strings() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new(
            "non-UTF-8 filter",
            "GET",
            "/api/collections/posts/records?filter=%FF%FE",
        )
        .status(400)
        .body_eq(j(E400)),
        Scenario::new(
            "non-UTF-8 sort",
            "GET",
            "/api/collections/posts/records?sort=%C0%AF",
        )
        .su()
        .status(400),
        Scenario::new(
            "lone % in a filter",
            "GET",
            "/api/collections/posts/records?filter=%",
        )
        .client_error(),
        Scenario::new(
            "bad escapes in an unrelated key",
            "GET",
            "/api/collections/posts/records?%zz=%G1&x",
        )
        .total(2),
        Scenario::new(
            "non-UTF-8 expand",
            "GET",
            "/api/collections/posts/records?expand=%FF",
        )
        .no_server_error(),
        Scenario::new(
            "non-UTF-8 fields",
            "GET",
            "/api/collections/posts/records?fields=%FF",
        )
        .no_server_error(),
        Scenario::new(
            "huge page",
            "GET",
            "/api/collections/posts/records?page=9223372036854775807",
        )
        .su()
        .no_server_error(),
        Scenario::new(
            "negative page",
            "GET",
            "/api/collections/posts/records?page=-5",
        )
        .su()
        .check(|v| assert_eq!(v["page"], json!(1))),
        Scenario::new(
            "negative perPage",
            "GET",
            "/api/collections/posts/records?perPage=-5",
        )
        .su()
        .check(|v| assert_eq!(v["perPage"], json!(30))),
        Scenario::new(
            "very long collection name",
            "GET",
            format!("/api/collections/{}/records", "x".repeat(10_000)),
        )
        .status(404)
        .body_eq(json!({"data":{},"message":"Missing collection context.","status":404})),
        Scenario::new(
            "very long record id",
            "GET",
            format!("/api/collections/posts/records/{}", "x".repeat(10_000)),
        )
        .su()
        .status(404),
        Scenario::new(
            "record id with SQL",
            "GET",
            format!("/api/collections/posts/records/{}", enc("x' OR '1'='1")),
        )
        .su()
        .status(404),
    ])
    .await;
}

#[tokio::test]
async fn broken_bodies() {
    let t = TestApp::with_posts().await;
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!(
        "{{\"title\":{}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    t.run(vec![
        Scenario::new("100k nested arrays", "POST", "/api/collections/posts/records").su().raw(deep_json.clone(), Some("application/json")).status(400).unchanged("posts"),
        Scenario::new("deep value in an object", "POST", "/api/collections/posts/records").su().raw(deep_obj, Some("application/json")).client_error().unchanged("posts"),
        Scenario::new("100k nested arrays as a collection", "POST", "/api/collections").su().raw(deep_json, Some("application/json")).status(400),
        Scenario::new("not JSON", "POST", "/api/collections/posts/records").su().raw("\u{0}\u{1}garbage", Some("application/json")).status(400).body_eq(j(E400)),
        Scenario::new("invalid UTF-8 JSON", "POST", "/api/collections/posts/records").su().raw(vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}'], Some("application/json")).status(400),
        Scenario::new("string body", "POST", "/api/collections").su().raw(r#""posts""#, Some("application/json")).status(400),
        Scenario::new("array body", "POST", "/api/collections").su().raw("[]", Some("application/json")).status(400),
        Scenario::new("fields not a list", "POST", "/api/collections").su().json(json!({"name":"x","fields":"nope"})).status(400),
        Scenario::new("rule not a string", "POST", "/api/collections").su().json(json!({"name":"x","listRule":5})).status(400),
        Scenario::new("broken multipart", "POST", "/api/collections/posts/records").su().raw("--B\r\nnonsense", Some("multipart/form-data; boundary=B")).status(400).unchanged("posts"),
        Scenario::new("multipart without boundary", "POST", "/api/collections/posts/records").su().raw("x", Some("multipart/form-data")).status(400).unchanged("posts"),
        Scenario::new("broken urlencoded", "POST", "/api/collections/posts/records").su().raw("%%%=&&=%", Some("application/x-www-form-urlencoded")).client_error().unchanged("posts"),
        Scenario::new("empty JSON body", "POST", "/api/collections/posts/records").su().raw("", Some("application/json")).status(400).contains(&[r#""title":{"code":"validation_required""#]).unchanged("posts"),
        Scenario::new("wrong value types", "POST", "/api/collections/posts/records").su().json(json!({"title":{"a":1},"views":"many","featured":"maybe","loc":"nowhere","tags":{"x":[1]}})).no_server_error(),
        Scenario::new("nothing stored by bad bodies", "GET", "/api/collections/posts/records").su().total(3),
    ])
    .await;
}

#[tokio::test]
async fn unknown_routes() {
    let t = TestApp::new().await;
    // backups are made of a SQLite data dir only
    let can_backup = t.another_node().is_none();
    let not_found = json!({"data":{},"message":"File not found.","status":404});
    let wasnt = json!({"data":{},"message":"The requested resource wasn't found.","status":404});
    t.run(vec![
        Scenario::new("115 unknown api route", "GET", "/api/nope")
            .status(404)
            .body_eq(not_found.clone()),
        // Checked against PocketBase 0.40.6: only GET/HEAD fall through to its static file server.
        Scenario::new(
            "unknown nested route",
            "POST",
            "/api/collections/users/records/x/y/z",
        )
        .json(json!({}))
        .status(404)
        .body_eq(wasnt.clone()),
        Scenario::new(
            "unknown nested route (GET)",
            "GET",
            "/api/collections/users/records/x/y/z",
        )
        .status(404)
        .body_eq(not_found.clone()),
        Scenario::new("bare /api", "DELETE", "/api")
            .status(404)
            .body_eq(wasnt.clone()),
        Scenario::new("bare /api (GET)", "GET", "/api")
            .status(404)
            .body_eq(not_found),
        Scenario::new("114 wrong method", "PUT", "/api/collections/users/records")
            .json(json!({}))
            .status(404)
            .body_eq(wasnt.clone()),
        Scenario::new("wrong method on health", "PATCH", "/api/health")
            .status(404)
            .body_eq(wasnt.clone()),
        Scenario::new(
            "wrong method on auth",
            "GET",
            "/api/collections/users/auth-with-password",
        )
        .status(404)
        .body_eq(wasnt),
        Scenario::new("health", "GET", "/api/health")
            .body_eq(json!({"message":"API is healthy.","code":200,"data":{}})),
        // (no connection in these tests, so no IP)
        Scenario::new("health as superuser", "GET", "/api/health")
            .su()
            .body_eq(json!({"message":"API is healthy.","code":200,
                "data":{"canBackup":can_backup,"realIP":"","possibleProxyHeader":""}})),
        Scenario::new("health as superuser behind a proxy", "GET", "/api/health")
            .su()
            .header("fly-client-ip", "10.1.2.3")
            .body_eq(json!({"message":"API is healthy.","code":200,
                "data":{"canBackup":can_backup,"realIP":"","possibleProxyHeader":"Fly-Client-IP"}})),
    ])
    .await;
}

/// PocketBase answers a body over the limit with 413 (apis/middlewares_body_limit.go).
#[tokio::test]
async fn oversized_body_is_413() {
    let t = TestApp::with_posts().await;
    let e413 = json!({"data":{},"message":"Request entity too large.","status":413});
    t.run(vec![
        Scenario::new("collections", "POST", "/api/collections")
            .su()
            .raw(big_json(33), Some("application/json"))
            .status(413)
            .body_eq(e413.clone()),
        Scenario::new("records", "POST", "/api/collections/posts/records")
            .user("alice")
            .raw(big_json(40), Some("application/json"))
            .status(413)
            .body_eq(e413)
            .unchanged("posts"),
    ])
    .await;
}

/// PocketBase's search provider rejects unparsable paging parameters (tools/search/provider.go:
/// strconv.Atoi / strconv.ParseBool errors become 400).
#[tokio::test]
async fn unparsable_paging_is_400() {
    let t = TestApp::with_posts().await;
    let url = |q: &str| format!("/api/collections/posts/records?{q}");
    t.run(vec![
        Scenario::new("page=abc", "GET", url("page=abc"))
            .status(400)
            .body_eq(j(E400)),
        Scenario::new("perPage=1.5", "GET", url("perPage=1.5"))
            .status(400)
            .body_eq(j(E400)),
        Scenario::new(
            "perPage overflow",
            "GET",
            url("perPage=99999999999999999999"),
        )
        .status(400)
        .body_eq(j(E400)),
        Scenario::new("skipTotal=maybe", "GET", url("skipTotal=maybe"))
            .status(400)
            .body_eq(j(E400)),
    ])
    .await;
}

/// PocketBase decodes path segments to bytes and simply finds no such collection or record; the
/// answer is the usual JSON envelope (apis/record_crud.go).
#[tokio::test]
async fn non_utf8_path_segments() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new("collection", "GET", "/api/collections/%FF%FE/records")
            .status(404)
            .body_eq(json!({"data":{},"message":"Missing collection context.","status":404})),
        Scenario::new("record id", "GET", "/api/collections/posts/records/%FF")
            .su()
            .status(404)
            .body_eq(
                json!({"data":{},"message":"The requested resource wasn't found.","status":404}),
            ),
        Scenario::new("collections API", "GET", "/api/collections/%C0")
            .su()
            .status(404)
            .body_eq(
                json!({"data":{},"message":"The requested resource wasn't found.","status":404}),
            ),
    ])
    .await;
}
