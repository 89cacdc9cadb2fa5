//! The collections API (superusers only): auth (transcripts 20/21), view/list, create (03, 120,
//! 122), update with data-preserving migrations (121), delete, truncate (95), import (85) and
//! scaffolds (80).

use serde_json::{json, Value};

use crate::support::*;

/// Transcript 03's response without `created`/`updated`.
const POSTS_RESPONSE: &str = r#"{"id":"pbc_1125843985","listRule":"status = \"published\" || author = @request.auth.id","viewRule":"status = \"published\" || author = @request.auth.id","createRule":"@request.auth.id != \"\" && @request.body.author = @request.auth.id","updateRule":"author = @request.auth.id","deleteRule":null,"name":"posts","type":"base","fields":[{"autogeneratePattern":"[a-z0-9]{15}","help":"","hidden":false,"id":"text3208210256","max":15,"min":15,"name":"id","pattern":"^[a-z0-9]+$","presentable":false,"primaryKey":true,"required":true,"system":true,"type":"text"},{"autogeneratePattern":"","help":"","hidden":false,"id":"text724990059","max":100,"min":0,"name":"title","pattern":"","presentable":false,"primaryKey":false,"required":true,"system":false,"type":"text"},{"help":"","hidden":false,"id":"select2063623452","maxSelect":1,"name":"status","presentable":false,"required":false,"system":false,"type":"select","values":["draft","published"]},{"help":"","hidden":false,"id":"number300981383","max":null,"min":0,"name":"views","onlyInt":true,"presentable":false,"required":false,"system":false,"type":"number"},{"cascadeDelete":false,"collectionId":"_pb_users_auth_","help":"","hidden":false,"id":"relation3182418120","maxSelect":1,"minSelect":0,"name":"author","presentable":false,"required":false,"system":false,"type":"relation"},{"help":"","hidden":false,"id":"json1874629670","maxSize":0,"name":"tags","presentable":false,"required":false,"system":false,"type":"json"},{"help":"","hidden":false,"id":"file2366146245","maxSelect":1,"maxSize":1048576,"mimeTypes":[],"name":"cover","presentable":false,"protected":false,"required":false,"system":false,"thumbs":["100x100"],"type":"file"},{"help":"","hidden":false,"id":"file1554180325","maxSelect":1,"maxSize":0,"mimeTypes":[],"name":"secret","presentable":false,"protected":true,"required":false,"system":false,"thumbs":[],"type":"file"},{"help":"","hidden":false,"id":"geoPoint2287119580","name":"loc","presentable":false,"required":false,"system":false,"type":"geoPoint"},{"help":"","hidden":false,"id":"date3772055009","max":"","min":"","name":"published_at","presentable":false,"required":false,"system":false,"type":"date"},{"exceptDomains":[],"help":"","hidden":false,"id":"url1766001124","name":"site","onlyDomains":[],"presentable":false,"required":false,"system":false,"type":"url"},{"convertURLs":false,"help":"","hidden":false,"id":"editor3685223346","maxSize":0,"name":"body","presentable":false,"required":false,"system":false,"type":"editor"},{"help":"","hidden":false,"id":"bool1007901140","name":"featured","presentable":false,"required":false,"system":false,"type":"bool"},{"exceptDomains":[],"help":"","hidden":false,"id":"email1281549880","name":"contact","onlyDomains":[],"presentable":false,"required":false,"system":false,"type":"email"},{"hidden":false,"id":"autodate2990389176","name":"created","onCreate":true,"onUpdate":false,"presentable":false,"system":false,"type":"autodate"},{"hidden":false,"id":"autodate3332085495","name":"updated","onCreate":true,"onUpdate":true,"presentable":false,"system":false,"type":"autodate"}],"indexes":["CREATE INDEX idx_posts_status ON posts (status)"],"system":false}"#;

const SCAFFOLD_BASE: &str = r#"{"id":"","listRule":null,"viewRule":null,"createRule":null,"updateRule":null,"deleteRule":null,"name":"","type":"base","fields":[{"autogeneratePattern":"[a-z0-9]{15}","help":"","hidden":false,"id":"text3208210256","max":15,"min":15,"name":"id","pattern":"^[a-z0-9]+$","presentable":false,"primaryKey":true,"required":true,"system":true,"type":"text"}],"indexes":[],"created":"","updated":"","system":false}"#;
const SCAFFOLD_VIEW: &str = r#"{"id":"","listRule":null,"viewRule":null,"createRule":null,"updateRule":null,"deleteRule":null,"name":"","type":"view","fields":[],"indexes":[],"created":"","updated":"","system":false,"viewQuery":""}"#;

const E401: &str = r#"{"data":{},"message":"The request requires valid record authorization token.","status":401}"#;
const E403: &str = r#"{"data":{},"message":"The authorized record is not allowed to perform this action.","status":403}"#;
const E404: &str = r#"{"data":{},"message":"The requested resource wasn't found.","status":404}"#;

fn j(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

fn names_are(expected: &'static [&'static str]) -> impl Fn(&Value) {
    move |v| assert_eq!(names(v), expected)
}

/// The fields of a collection, as the API shows them.
async fn fields(t: &TestApp, c: &str) -> Vec<Value> {
    t.su_ok("GET", &format!("/api/collections/{c}"), Value::Null)
        .await["fields"]
        .as_array()
        .unwrap()
        .clone()
}

/// All records of a collection as the superuser sees them, in insertion order.
async fn rows(t: &TestApp, c: &str) -> Vec<Value> {
    t.su_ok(
        "GET",
        &format!("/api/collections/{c}/records?sort=@rowid"),
        Value::Null,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn superuser_auth_is_required() {
    let t = TestApp::with_posts().await;
    let endpoints: Vec<(&'static str, &str, Option<Value>)> = vec![
        ("GET", "/api/collections", None),
        (
            "POST",
            "/api/collections",
            Some(json!({"name":"x1","type":"base"})),
        ),
        ("GET", "/api/collections/posts", None),
        (
            "PATCH",
            "/api/collections/posts",
            Some(json!({"listRule":""})),
        ),
        ("DELETE", "/api/collections/posts", None),
        ("DELETE", "/api/collections/posts/truncate", None),
        (
            "PUT",
            "/api/collections/import",
            Some(json!({"collections":[{"name":"x2"}],"deleteMissing":true})),
        ),
        ("GET", "/api/collections/meta/scaffolds", None),
    ];
    let mut table = Vec::new();
    for (method, url, body) in endpoints {
        for (who, token, expected, status) in [
            ("guest", Token::None, E401, 401),
            ("user", Token::User("alice"), E403, 403),
        ] {
            let mut s = Scenario::new(
                format!("{who} {method} {url} (transcripts 20/21)"),
                method,
                url,
            )
            .token(token)
            .status(status)
            .body_eq(j(expected))
            .unchanged("posts");
            if let Some(b) = &body {
                s = s.json(b.clone());
            }
            table.push(s);
        }
    }
    table.push(
        Scenario::new("nothing changed", "GET", "/api/collections?perPage=50")
            .su()
            .check(names_are(&[
                "_mfas",
                "_otps",
                "_externalAuths",
                "_authOrigins",
                "_passkeys",
                "_superusers",
                "users",
                "posts",
            ]))
            .check(|v| {
                let posts = v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["name"] == "posts")
                    .unwrap();
                assert_eq!(
                    posts["listRule"],
                    json!("status = \"published\" || author = @request.auth.id")
                );
            }),
    );
    t.run(table).await;
}

#[tokio::test]
async fn view_list_and_create() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new("list all (transcript 02)", "GET", "/api/collections?perPage=50")
            .su()
            .check(names_are(&["_mfas", "_otps", "_externalAuths", "_authOrigins", "_passkeys", "_superusers", "users", "posts"]))
            .check(|v| {
                assert_eq!((v["page"].clone(), v["perPage"].clone(), v["totalItems"].clone(), v["totalPages"].clone()), (json!(1), json!(50), json!(8), json!(1)));
                let ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
                assert_eq!(ids, ["pbc_2279338944", "pbc_1638494021", "pbc_2281828961", "pbc_4275539003", "pbc_139908304", "pbc_3142635823", "_pb_users_auth_", POSTS_ID]);
                let users = &v["items"][6];
                assert_eq!(users["system"], json!(false));
                assert_eq!(users["listRule"], json!("id = @request.auth.id"));
                assert_eq!(users["createRule"], json!(""));
                assert_eq!(users["authRule"], json!(""));
                assert_eq!(users["manageRule"], Value::Null);
                assert_eq!(v["items"][5]["system"], json!(true));
            }),
        Scenario::new("filter name~'post'", "GET", format!("/api/collections?filter={}", enc("name~'post'")))
            .su()
            .check(names_are(&["posts"]))
            .total(1),
        Scenario::new("filter type='auth'", "GET", format!("/api/collections?filter={}", enc("type='auth'")))
            .su()
            .check(names_are(&["_superusers", "users"])),
        Scenario::new("filter system=false", "GET", format!("/api/collections?filter={}", enc("system=false")))
            .su()
            .check(names_are(&["users", "posts"])),
        Scenario::new("sort -created, perPage 2", "GET", "/api/collections?sort=-created&perPage=2")
            .su()
            .check(|v| {
                assert_eq!(names(v)[0], "posts");
                assert_eq!(v["items"].as_array().unwrap().len(), 2);
                assert_eq!((v["perPage"].clone(), v["totalItems"].clone(), v["totalPages"].clone()), (json!(2), json!(8), json!(4)));
            }),
        Scenario::new("page 4 of perPage 2", "GET", "/api/collections?sort=-created&perPage=2&page=4")
            .su()
            .check(|v| {
                assert_eq!(v["page"], json!(4));
                assert_eq!(v["items"].as_array().unwrap().len(), 2);
            }),
        Scenario::new("unknown filter field", "GET", "/api/collections?filter=nosuch%3D1")
            .su()
            .status(400)
            .body_eq(json!({"data":{},"message":"Something went wrong while processing your request.","status":400})),
        Scenario::new("view posts (transcripts 03/81)", "GET", "/api/collections/posts")
            .su()
            .check(|v| assert_eq!(without(v, &["created", "updated"]), j(POSTS_RESPONSE)))
            .check(|v| assert!(v["created"].as_str().unwrap().ends_with('Z'))),
        Scenario::new("view posts by id", "GET", format!("/api/collections/{POSTS_ID}"))
            .su()
            .contains(&[r#""name":"posts""#]),
        Scenario::new("view missing", "GET", "/api/collections/nope").su().status(404).body_eq(j(E404)),
        Scenario::new("duplicate name (transcript 122)", "POST", "/api/collections")
            .su()
            .json(json!({"name":"posts","type":"base","fields":[{"name":"x","type":"text"}]}))
            .status(400)
            .body_eq(j(r#"{"data":{"name":{"code":"validation_collection_name_exists","message":"Collection name must be unique (case insensitive)."}},"message":"Failed to create collection.","status":400}"#)),
        Scenario::new("duplicate name, other case", "POST", "/api/collections")
            .su()
            .json(json!({"name":"POSTS","type":"base"}))
            .status(400)
            .contains(&[r#""name":{"code":"validation_collection_name_exists""#]),
        Scenario::new("unknown field type (transcript 120)", "POST", "/api/collections")
            .su()
            .json(json!({"name":"posts","type":"base","fields":[{"name":"x","type":"nosuchtype"}]}))
            .status(400)
            .body_eq(json!({"data":{},"message":"Failed to load the submitted data due to invalid formatting.","status":400})),
        Scenario::new("unknown type", "POST", "/api/collections")
            .su()
            .json(json!({"name":"weirdtype","type":"weird"}))
            .status(400)
            .body_eq(json!({"data":{"type":{"code":"validation_in_invalid","message":"Must be a valid value."}},"message":"Failed to create collection.","status":400})),
        Scenario::new("missing name", "POST", "/api/collections")
            .su()
            .json(json!({"type":"base","fields":[{"name":"x","type":"text"}]}))
            .status(400)
            .contains(&[r#""message":"Failed to create collection.""#, r#""name":{"code":"validation_required""#]),
        Scenario::new("invalid index SQL", "POST", "/api/collections")
            .su()
            .json(json!({"name":"withidx","type":"base","fields":[{"name":"x","type":"text"}],"indexes":["CREATE INDEX oops"]}))
            .status(400)
            .contains(&[r#""indexes":{"0":{"code":"validation_invalid_index_expression""#]),
        Scenario::new("invalid index left nothing behind", "GET", "/api/collections/withidx").su().status(404),
        Scenario::new("create notes", "POST", "/api/collections")
            .su()
            .json(j(NOTES_SCHEMA))
            .check(|v| {
                assert!(v["id"].as_str().unwrap().starts_with("pbc_"));
                assert_eq!(v["fields"][0]["name"], json!("id"));
                assert_eq!(v["fields"][2]["maxSelect"], json!(3));
                assert_eq!(v["listRule"], json!(""));
                assert_eq!(v["deleteRule"], json!(""));
            }),
        Scenario::new("created collection serves records", "GET", "/api/collections/notes/records")
            .body_eq(json!({"items":[],"page":1,"perPage":30,"totalItems":0,"totalPages":0})),
        Scenario::new("list now has 9", "GET", "/api/collections").su().total(9),
    ])
    .await;
}

#[tokio::test]
async fn update_keeps_data() {
    let t = TestApp::with_posts().await;
    let (hello, draft) = (t.id("hello"), t.id("draft"));
    t.run(vec![
        Scenario::new("invalid rule (transcript 121)", "PATCH", "/api/collections/posts")
            .su()
            .json(json!({"listRule":"status = = 1"}))
            .status(400)
            .body_eq(j(r#"{"data":{"listRule":{"code":"validation_invalid_rule","message":"Invalid rule. Raw error: expected right operand (identifier, function text or number), got \"=\" (sign)."}},"message":"Failed to update collection.","status":400}"#)),
        Scenario::new("rule unknown field", "PATCH", "/api/collections/posts")
            .su()
            .json(json!({"viewRule":"nosuch = 1"}))
            .status(400)
            .contains(&[r#""viewRule":{"code":"validation_invalid_rule""#]),
        Scenario::new("invalid index SQL", "PATCH", "/api/collections/posts")
            .su()
            .json(json!({"indexes":["CREATE INDEX broken ON"]}))
            .status(400)
            .contains(&[r#""indexes":{"0":{"code":"validation_invalid_index_expression""#]),
        Scenario::new("nothing changed", "GET", "/api/collections/posts")
            .su()
            .check(|v| assert_eq!(without(v, &["created", "updated"]), j(POSTS_RESPONSE))),
        Scenario::new("missing collection", "PATCH", "/api/collections/nope").su().json(json!({})).status(404).body_eq(j(E404)),
        Scenario::new("system collection rename", "PATCH", "/api/collections/_superusers")
            .su()
            .json(json!({"name":"admins"}))
            .status(400)
            .contains(&[r#""name":{"code":"validation_collection_system_name_change""#]),
        Scenario::new("rename collection", "PATCH", "/api/collections/posts")
            .su()
            .json(json!({"name":"articles"}))
            .check(|v| assert_eq!((v["name"].clone(), v["id"].clone()), (json!("articles"), json!(POSTS_ID)))),
        Scenario::new("records under the new name", "GET", "/api/collections/articles/records").su().total(3),
        Scenario::new("old name is gone", "GET", "/api/collections/posts/records")
            .status(404)
            .body_eq(json!({"data":{},"message":"Missing collection context.","status":404})),
        Scenario::new("rules still apply (owner)", "GET", "/api/collections/articles/records").user("alice").total(3),
        Scenario::new("rules still apply (guest)", "GET", "/api/collections/articles/records").total(2),
    ])
    .await;

    // Rename a field (same id): the data follows.
    let mut f = fields(&t, "articles").await;
    f[1]["name"] = json!("headline");
    t.run(vec![
        Scenario::new(
            "rename field title -> headline",
            "PATCH",
            "/api/collections/articles",
        )
        .su()
        .json(json!({"fields": f}))
        .check(|v| {
            assert_eq!(
                (v["fields"][1]["name"].clone(), v["fields"][1]["id"].clone()),
                (json!("headline"), json!("text724990059"))
            )
        }),
        Scenario::new(
            "renamed field keeps data",
            "GET",
            "/api/collections/articles/records?sort=@rowid",
        )
        .su()
        .check(|v| {
            let heads: Vec<&Value> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| &i["headline"])
                .collect();
            assert_eq!(
                heads,
                [
                    &json!("Hello world"),
                    &json!("Draft post"),
                    &json!("Bob post")
                ]
            );
            assert!(v["items"][0].get("title").is_none());
        }),
    ])
    .await;

    // Add a field, then remove one.
    let mut f = fields(&t, "articles").await;
    f.push(json!({"name":"rating","type":"number"}));
    t.run(vec![Scenario::new(
        "add a field",
        "PATCH",
        "/api/collections/articles",
    )
    .su()
    .json(json!({"fields": f}))])
        .await;
    for r in rows(&t, "articles").await {
        assert_eq!(r["rating"], json!(0), "new number field is 0: {r}");
        assert!(r["headline"].is_string());
    }
    let f: Vec<Value> = fields(&t, "articles")
        .await
        .into_iter()
        .filter(|x| x["name"] != "site")
        .collect();
    t.run(vec![Scenario::new(
        "remove a field",
        "PATCH",
        "/api/collections/articles",
    )
    .su()
    .json(json!({"fields": f}))])
        .await;
    let r = rows(&t, "articles").await;
    assert!(r[0].get("site").is_none(), "removed field gone: {}", r[0]);
    assert_eq!(
        (
            r[0]["contact"].clone(),
            r[0]["views"].clone(),
            r[0]["tags"].clone()
        ),
        (json!("x@example.com"), json!(10), json!(["a", "b"]))
    );

    // Single -> multiple select and back: "a" becomes ["a"], a list keeps its last item.
    let set_max = |mut f: Vec<Value>, n: i64| {
        for x in f.iter_mut().filter(|x| x["name"] == "status") {
            x["maxSelect"] = json!(n);
        }
        json!({ "fields": f })
    };
    let f = fields(&t, "articles").await;
    t.run(vec![
        Scenario::new(
            "status maxSelect 1 -> 2",
            "PATCH",
            "/api/collections/articles",
        )
        .su()
        .json(set_max(f.clone(), 2)),
        Scenario::new(
            "single values became lists",
            "GET",
            format!("/api/collections/articles/records/{hello}"),
        )
        .su()
        .check(|v| assert_eq!(v["status"], json!(["published"]))),
        Scenario::new(
            "store two values",
            "PATCH",
            format!("/api/collections/articles/records/{draft}"),
        )
        .su()
        .json(json!({"status":["draft","published"]}))
        .check(|v| assert_eq!(v["status"], json!(["draft", "published"]))),
        Scenario::new(
            "status maxSelect 2 -> 1",
            "PATCH",
            "/api/collections/articles",
        )
        .su()
        .json(set_max(f, 1)),
        Scenario::new(
            "a list keeps its last item",
            "GET",
            format!("/api/collections/articles/records/{draft}"),
        )
        .su()
        .check(|v| assert_eq!(v["status"], json!("published"))),
        Scenario::new(
            "a one-item list became its value",
            "GET",
            format!("/api/collections/articles/records/{hello}"),
        )
        .su()
        .check(|v| assert_eq!(v["status"], json!("published"))),
    ])
    .await;

    // Changing a field's type is refused.
    let mut f = fields(&t, "articles").await;
    let i = f.iter().position(|x| x["name"] == "views").unwrap();
    f[i]["type"] = json!("text");
    t.run(vec![
        Scenario::new(
            "field type change refused",
            "PATCH",
            "/api/collections/articles",
        )
        .su()
        .json(json!({"fields": f}))
        .status(400)
        .contains(&[
            r#""message":"Failed to update collection.""#,
            "validation_field_type_change",
        ]),
        Scenario::new(
            "views still numbers",
            "GET",
            format!("/api/collections/articles/records/{hello}"),
        )
        .su()
        .check(|v| assert_eq!(v["views"], json!(10))),
    ])
    .await;
}

#[tokio::test]
async fn delete_and_truncate() {
    let mut t = TestApp::with_posts().await;
    t.add_notes().await;
    t.run(vec![
        Scenario::new(
            "system collection",
            "DELETE",
            "/api/collections/_superusers",
        )
        .su()
        .status(400)
        .contains(&[r#""data":{}"#, r#""message":"Failed to delete collection"#]),
        Scenario::new(
            "system collection still there",
            "GET",
            "/api/collections/_superusers",
        )
        .su(),
        Scenario::new("referenced collection", "DELETE", "/api/collections/users")
            .su()
            .status(400)
            .contains(&[r#""data":{}"#, r#""message":"Failed to delete collection"#])
            .unchanged("users"),
        Scenario::new("missing collection", "DELETE", "/api/collections/nope")
            .su()
            .status(404)
            .body_eq(j(E404)),
        Scenario::new("delete notes", "DELETE", "/api/collections/notes")
            .su()
            .status(204),
        Scenario::new("deleted: view", "GET", "/api/collections/notes")
            .su()
            .status(404),
        Scenario::new("deleted: records", "GET", "/api/collections/notes/records")
            .status(404)
            .body_eq(json!({"data":{},"message":"Missing collection context.","status":404})),
        Scenario::new("deleted: delete again", "DELETE", "/api/collections/notes")
            .su()
            .status(404),
        Scenario::new(
            "truncate posts (transcript 95)",
            "DELETE",
            "/api/collections/posts/truncate",
        )
        .su()
        .status(204)
        .count("posts", -3),
        Scenario::new("truncated", "GET", "/api/collections/posts/records")
            .su()
            .body_eq(json!({"items":[],"page":1,"perPage":30,"totalItems":0,"totalPages":0})),
        Scenario::new(
            "truncate missing",
            "DELETE",
            "/api/collections/nope/truncate",
        )
        .su()
        .status(404),
        Scenario::new("delete posts", "DELETE", "/api/collections/posts")
            .su()
            .status(204),
        Scenario::new(
            "users no longer referenced: truncate",
            "DELETE",
            "/api/collections/users/truncate",
        )
        .su()
        .status(204)
        .count("users", -2),
        Scenario::new("users: delete", "DELETE", "/api/collections/users")
            .su()
            .status(204),
        Scenario::new("only system collections remain", "GET", "/api/collections")
            .su()
            .check(names_are(&[
                "_mfas",
                "_otps",
                "_externalAuths",
                "_authOrigins",
                "_passkeys",
                "_superusers",
            ])),
    ])
    .await;
}

#[tokio::test]
async fn truncate_resolves_optional_references() {
    let t = TestApp::with_posts().await;
    let hello = t.id("hello");
    t.run(vec![
        Scenario::new(
            "truncate users (posts.author is optional)",
            "DELETE",
            "/api/collections/users/truncate",
        )
        .su()
        .status(204)
        .count("users", -2),
        Scenario::new(
            "posts kept, author cleared",
            "GET",
            format!("/api/collections/posts/records/{hello}"),
        )
        .su()
        .check(|v| {
            assert_eq!(
                (v["title"].clone(), v["author"].clone()),
                (json!("Hello world"), json!(""))
            )
        }),
    ])
    .await;
}

#[tokio::test]
async fn import_and_scaffolds() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new("import (transcript 85)", "PUT", "/api/collections/import")
            .su()
            .json(json!({"collections":[{"name":"imported","type":"base","fields":[{"name":"x","type":"text"}]}],"deleteMissing":false}))
            .status(204)
            .check(|v| assert_eq!(v, &Value::Null, "204 has no body")),
        Scenario::new("imported exists", "GET", "/api/collections/imported")
            .su()
            .check(|v| assert_eq!((v["fields"][0]["name"].clone(), v["fields"][1]["name"].clone()), (json!("id"), json!("x")))),
        Scenario::new("truncate imported (transcript 95)", "DELETE", "/api/collections/imported/truncate").su().status(204),
        Scenario::new("scaffolds (transcript 80)", "GET", "/api/collections/meta/scaffolds").su().check(|v| {
            let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["auth", "base", "view"]);
            assert_eq!(v["base"], j(SCAFFOLD_BASE));
            assert_eq!(v["view"], j(SCAFFOLD_VIEW));
            let auth = &v["auth"];
            let names: Vec<&str> = auth["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
            assert_eq!(names, ["id", "password", "tokenKey", "email", "emailVisibility", "verified"]);
            assert_eq!((auth["authRule"].clone(), auth["manageRule"].clone()), (json!(""), Value::Null));
            assert_eq!(auth["passwordAuth"], json!({"enabled":true,"identityFields":["email"]}));
            assert_eq!(auth["authToken"], json!({"duration":432000}));
            assert_eq!(auth["indexes"].as_array().unwrap().len(), 2);
        }),
    ])
    .await;

    // deleteMissing: every non-system collection not listed is dropped; listed ones keep data.
    let users = t.su_ok("GET", "/api/collections/users", Value::Null).await;
    let posts = t.su_ok("GET", "/api/collections/posts", Value::Null).await;
    t.run(vec![
        Scenario::new("import deleteMissing", "PUT", "/api/collections/import")
            .su()
            .json(json!({"collections":[users, posts, {"name":"imported2","type":"base","fields":[{"name":"y","type":"text"}]}],"deleteMissing":true}))
            .status(204)
            .count("posts", 0),
        Scenario::new("missing one dropped", "GET", "/api/collections/imported").su().status(404),
        Scenario::new("new one created", "GET", "/api/collections/imported2").su(),
        Scenario::new("listed one kept its records", "GET", "/api/collections/posts/records").su().total(3),
        Scenario::new("system ones kept", "GET", "/api/collections")
            .su()
            .check(names_are(&["_mfas", "_otps", "_externalAuths", "_authOrigins", "_passkeys", "_superusers", "users", "posts", "imported2"])),
        Scenario::new("import without collections", "PUT", "/api/collections/import")
            .su()
            .json(json!({"deleteMissing":true}))
            .status(400),
        Scenario::new("import of an invalid collection", "PUT", "/api/collections/import")
            .su()
            .json(json!({"collections":[{"name":"bad name!","type":"base"}]}))
            .status(400)
            .contains(&[r#""message":"Failed to import collections.""#]),
        Scenario::new("nothing imported", "GET", "/api/collections").su().total(9),
    ])
    .await;
}

/// PocketBase (apis/collection.go) reports why a delete failed: "Failed to delete collection"
/// (system) and "... probably due to existing reference in posts" (referenced).
#[tokio::test]
async fn delete_error_messages() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new("system", "DELETE", "/api/collections/_superusers")
            .su()
            .status(400)
            .body_eq(json!({"data":{},"message":"Failed to delete collection.","status":400})),
        Scenario::new("referenced", "DELETE", "/api/collections/users")
            .su()
            .status(400)
            .body_eq(json!({"data":{},"message":"Failed to delete collection probably due to existing reference in posts.","status":400})),
    ])
    .await;
}

/// PocketBase validates the import form first: an empty list is `collections: validation_required`
/// ("An error occurred while validating the submitted data.") and nothing is deleted.
#[tokio::test]
async fn import_empty_list() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new("empty list with deleteMissing", "PUT", "/api/collections/import")
            .su()
            .json(json!({"collections":[],"deleteMissing":true}))
            .status(400)
            .body_eq(j(r#"{"data":{"collections":{"code":"validation_required","message":"Cannot be blank."}},"message":"An error occurred while validating the submitted data.","status":400}"#)),
        Scenario::new("posts survived", "GET", "/api/collections/posts/records").su().total(3),
    ])
    .await;
}

/// Truncating records referenced by a required relation: PocketBase's own message.
#[tokio::test]
async fn truncate_with_required_reference() {
    let t = TestApp::with_posts().await;
    t.su_ok(
        "POST",
        "/api/collections",
        json!({"name":"pins","type":"base","fields":[{"name":"user","type":"relation","collectionId":"_pb_users_auth_","maxSelect":1,"required":true}]}),
    )
    .await;
    t.su_ok(
        "POST",
        "/api/collections/pins/records",
        json!({"user": t.id("bob")}),
    )
    .await;
    t.run(vec![Scenario::new("truncate users", "DELETE", "/api/collections/users/truncate")
        .su()
        .status(400)
        .body_eq(json!({"data":{},"message":"Failed to truncate collection (most likely due to required cascade delete record references).","status":400}))
        .unchanged("users")])
    .await;
}

/// A view over a collection must not block migrating that collection, and the collection cannot be
/// deleted while the view reads it (it used to leave a broken view that failed every later change).
#[tokio::test]
async fn views_survive_migrations_of_their_source_and_block_its_deletion() {
    let t = TestApp::new().await;
    t.su_ok(
        "POST",
        "/api/collections",
        json!({"name":"src","type":"base","listRule":"","fields":[{"name":"title","type":"text"}]}),
    )
    .await;
    t.su_ok("POST", "/api/collections/src/records", json!({"title":"a"}))
        .await;
    t.su_ok("POST", "/api/collections", json!({"name":"src_view","type":"view","listRule":"","viewQuery":"select id, title from src"})).await;
    t.run(vec![
        Scenario::new("add a field to the source", "PATCH", "/api/collections/src")
            .su()
            .json(json!({"fields":[{"name":"title","type":"text"},{"name":"n","type":"number"}]}))
            .status(200),
        Scenario::new(
            "the view still reads it",
            "GET",
            "/api/collections/src_view/records",
        )
        .total(1)
        .titles(&["a"]),
        Scenario::new(
            "the source cannot be deleted",
            "DELETE",
            "/api/collections/src",
        )
        .su()
        .status(400)
        .body_eq(json!({"data":{},"message":"Failed to delete collection.","status":400})),
        Scenario::new("schema changes still work", "PATCH", "/api/collections/src")
            .su()
            .json(json!({"listRule":null}))
            .status(200),
    ])
    .await;
}
