//! Creating, updating and deleting records: transcripts 07–09 (typed empty values), 13
//! (validation), 15–19, 24 (invalid JSON), 94; modifiers, client ids, multipart bodies, relation
//! integrity and cascades. Every refused write must leave the record count unchanged.

use serde_json::{json, Value};

use crate::support::*;

const E404: &str = r#"{"data":{},"message":"The requested resource wasn't found.","status":404}"#;
const CREATE_FAILED: &str = r#"{"data":{},"message":"Failed to create record.","status":400}"#;

fn j(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn is_code(v: &Value) -> bool {
    v.as_str()
        .map(|s| s.len() == 6 && s.chars().all(|c| c.is_ascii_uppercase()))
        .unwrap_or(false)
}

const POSTS: &str = "/api/collections/posts/records";
const NOTES: &str = "/api/collections/notes/records";

#[tokio::test]
async fn create() {
    let t = TestApp::with_posts().await;
    let (alice, bob) = (t.id("alice"), t.id("bob"));
    let (a1, a2, b1) = (alice.clone(), alice.clone(), bob.clone());
    let long_title = "x".repeat(101);
    t.run(vec![
        Scenario::new("07 full post", "POST", POSTS).user("alice").json(post_07(&alice)).count("posts", 1).check(move |v| {
            assert_shape(v, &hello_shape(&a1));
            let id = v["id"].as_str().unwrap();
            assert!(id.len() == 15 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "id {id}");
            assert_eq!(v["created"], v["updated"]);
        }),
        Scenario::new("08 typed empty values", "POST", POSTS)
            .user("alice")
            .json(json!({"title":"Draft post","status":"draft","views":3,"author":alice}))
            .count("posts", 1)
            .check(move |v| assert_shape(v, &draft_shape(&a2))),
        Scenario::new("09 Bob's post", "POST", POSTS)
            .user("bob")
            .json(json!({"title":"Bob post","status":"published","views":99,"author":bob}))
            .count("posts", 1)
            .check(move |v| assert_shape(v, &bob_post_shape(&b1))),
        Scenario::new("13 validation errors", "POST", POSTS)
            .user("alice")
            .json(json!({"title":"","status":"bogus","views":-1.5,"author":alice,"site":"notaurl"}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(r#"{"data":{"site":{"code":"validation_invalid_url","message":"Must be a valid url."},"status":{"code":"validation_invalid_value","message":"Invalid value bogus.","params":{"value":"bogus"}},"title":{"code":"validation_required","message":"Cannot be blank."},"views":{"code":"validation_only_int_constraint","message":"Decimal numbers are not allowed."}},"message":"Failed to create record.","status":400}"#)),
        Scenario::new("17 createRule fails", "POST", POSTS)
            .user("bob")
            .json(json!({"title":"impersonate","author":alice}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(CREATE_FAILED)),
        Scenario::new("19 anonymous create", "POST", POSTS).json(json!({"title":"anon"})).status(400).unchanged("posts").body_eq(j(CREATE_FAILED)),
        Scenario::new("24 invalid JSON", "POST", POSTS)
            .user("alice")
            .raw(r#"{"title":"#, Some("application/json"))
            .status(400)
            .unchanged("posts")
            .body_eq(json!({"data":{},"message":"Something went wrong while processing your request.","status":400})),
        Scenario::new("JSON array body", "POST", POSTS).su().raw("[1,2]", Some("application/json")).status(400).unchanged("posts"),
        Scenario::new("title too long", "POST", POSTS)
            .su()
            .json(json!({"title": long_title}))
            .status(400)
            .unchanged("posts")
            .contains(&[r#""title":{"code":"validation_max_text_constraint""#]),
        Scenario::new("views below min", "POST", POSTS)
            .su()
            .json(json!({"title":"x","views":-1}))
            .status(400)
            .unchanged("posts")
            .contains(&[r#""views":{"code":"validation_min_number_constraint""#]),
        Scenario::new("relation to a missing record", "POST", POSTS)
            .su()
            .json(json!({"title":"x","author":"zzzzzzzzzzzzzzz"}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(r#"{"data":{"author":{"code":"validation_missing_rel_records","message":"Failed to find all relation records with the provided ids."}},"message":"Failed to create record.","status":400}"#)),
        Scenario::new("too many relations", "POST", POSTS)
            .su()
            .json(json!({"title":"x","author":[t.id("alice"), t.id("bob")]}))
            .status(200)
            .count("posts", 1)
            .check({
                let bob = t.id("bob");
                move |v| assert_eq!(v["author"], json!(bob), "a single relation keeps the last id")
            }),
        Scenario::new("invalid email", "POST", POSTS)
            .su()
            .json(json!({"title":"x","contact":"nope"}))
            .status(400)
            .unchanged("posts")
            .contains(&[r#""contact":{"code":"validation_is_email""#]),
        Scenario::new("unknown keys are ignored", "POST", POSTS)
            .su()
            .json(json!({"title":"extra","nosuch":1}))
            .count("posts", 1)
            .not_contains(&["nosuch"]),
        Scenario::new("autodates cannot be set", "POST", POSTS)
            .su()
            .json(json!({"title":"dates","created":"2000-01-01 00:00:00.000Z","updated":"2000-01-01 00:00:00.000Z"}))
            .count("posts", 1)
            .not_contains(&["2000-01-01"]),
        Scenario::new("client id accepted", "POST", POSTS)
            .su()
            .json(json!({"id":"abcdefghijklmno","title":"with id"}))
            .count("posts", 1)
            .check(|v| assert_eq!(v["id"], json!("abcdefghijklmno"))),
        Scenario::new("client id by the owner", "POST", POSTS)
            .user("alice")
            .json(json!({"id":"alice0000000001","title":"mine","author":t.id("alice")}))
            .count("posts", 1)
            .check(|v| assert_eq!(v["id"], json!("alice0000000001"))),
        Scenario::new("duplicate id", "POST", POSTS)
            .su()
            .json(json!({"id":"abcdefghijklmno","title":"again"}))
            .status(400)
            .unchanged("posts")
            .contains(&[r#""message":"Failed to create record.""#, r#""id":{"code":"#]),
        Scenario::new("uppercase id", "POST", POSTS)
            .su()
            .json(json!({"id":"ABCDEFGHIJKLMNO","title":"x"}))
            .status(400)
            .unchanged("posts")
            .contains(&[r#""id":{"code":"validation_invalid_format""#]),
        Scenario::new("short id", "POST", POSTS)
            .su()
            .json(json!({"id":"abc","title":"x"}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(r#"{"data":{"id":{"code":"validation_min_text_constraint","message":"Must be at least 15 character(s).","params":{"min":15}}},"message":"Failed to create record.","status":400}"#)),
        Scenario::new("id with a slash", "POST", POSTS)
            .su()
            .json(json!({"id":"abc/defghijklmn","title":"x"}))
            .status(400)
            .unchanged("posts")
            .contains(&[r#""id":{"code":"#]),
        Scenario::new("view of the client id", "GET", format!("{POSTS}/abcdefghijklmno")).su().contains(&[r#""title":"with id""#]),
        Scenario::new("same id in an update is fine", "PATCH", format!("{POSTS}/abcdefghijklmno"))
            .su()
            .json(json!({"id":"abcdefghijklmno","title":"with id 2"}))
            .contains(&[r#""id":"abcdefghijklmno""#]),
    ])
    .await;
}

#[tokio::test]
async fn update_and_modifiers() {
    let mut t = TestApp::with_posts().await;
    t.add_notes().await;
    let hello = format!("{POSTS}/{}", t.id("hello"));
    let n2 = format!("{NOTES}/{}", t.id("n2"));
    let n1 = format!("{NOTES}/{}", t.id("n1"));
    let cats = |expected: Value| move |v: &Value| assert_eq!(v["cats"], expected);
    t.run(vec![
        Scenario::new("15 Bob updates Alice's post", "PATCH", &hello)
            .user("bob")
            .json(json!({"title":"hacked"}))
            .status(404)
            .body_eq(j(E404)),
        Scenario::new("guest update", "PATCH", &hello)
            .json(json!({"title":"hacked"}))
            .status(404),
        Scenario::new("not changed", "GET", &hello)
            .check(|v| assert_eq!(v["title"], json!("Hello world"))),
        Scenario::new("owner update", "PATCH", &hello)
            .user("alice")
            .json(json!({"title":"Hello again"}))
            .check(|v| {
                assert_eq!(v["title"], json!("Hello again"));
                assert_eq!(v["views"], json!(10), "untouched fields kept");
                assert_eq!(v["tags"], json!(["a", "b"]));
                assert!(v["updated"].as_str().unwrap() >= v["created"].as_str().unwrap());
            }),
        Scenario::new("views+", "PATCH", &hello)
            .user("alice")
            .json(json!({"views+":5}))
            .check(|v| assert_eq!(v["views"], json!(15))),
        Scenario::new("views-", "PATCH", &hello)
            .user("alice")
            .json(json!({"views-":3}))
            .check(|v| assert_eq!(v["views"], json!(12))),
        Scenario::new("views- below min", "PATCH", &hello)
            .user("alice")
            .json(json!({"views-":100}))
            .status(400)
            .contains(&[
                r#""message":"Failed to update record.""#,
                r#""views":{"code":"validation_min_number_constraint""#,
            ]),
        Scenario::new("value kept after a failed update", "GET", &hello)
            .check(|v| assert_eq!(v["views"], json!(12))),
        Scenario::new("clear a value", "PATCH", &hello)
            .su()
            .json(json!({"tags":null,"site":"","loc":null}))
            .check(|v| {
                assert_eq!(v["tags"], Value::Null);
                assert_eq!(v["site"], json!(""));
                assert_eq!(v["loc"], json!({"lon":0,"lat":0}));
            }),
        Scenario::new(
            "missing record",
            "PATCH",
            format!("{POSTS}/doesnotexist123"),
        )
        .su()
        .json(json!({"title":"x"}))
        .status(404)
        .body_eq(j(E404)),
        Scenario::new("cats+", "PATCH", &n2)
            .json(json!({"cats+":"a"}))
            .check(cats(json!(["b", "a"]))),
        Scenario::new("+cats", "PATCH", &n2)
            .json(json!({"+cats":"c"}))
            .check(cats(json!(["c", "b", "a"]))),
        Scenario::new("cats-", "PATCH", &n2)
            .json(json!({"cats-":"b"}))
            .check(cats(json!(["c", "a"]))),
        Scenario::new("cats- many", "PATCH", &n2)
            .json(json!({"cats-":["c","a"]}))
            .check(cats(json!([]))),
        Scenario::new("cats+ unknown value", "PATCH", &n2)
            .json(json!({"cats+":"zzz"}))
            .status(400)
            .contains(&[r#""cats":{"code":"validation_invalid_value""#]),
        Scenario::new("duplicates removed", "PATCH", &n2)
            .json(json!({"cats":["a","b","c","a"]}))
            .check(cats(json!(["a", "b", "c"]))),
        Scenario::new("too many values", "PATCH", &n2)
            .json(json!({"cats":["a","b","c","d"]}))
            .status(400)
            .contains(&[r#""cats":{"code":"#]),
        Scenario::new("autogenerate on create", "POST", NOTES)
            .json(json!({"title":"g1"}))
            .count("notes", 1)
            .check(|v| assert!(is_code(&v["code"]), "{}", v["code"])),
        Scenario::new(":autogenerate on create", "POST", NOTES)
            .json(json!({"title":"g2","code:autogenerate":""}))
            .count("notes", 1)
            .check(|v| assert!(is_code(&v["code"]), "{}", v["code"])),
        Scenario::new("explicit value wins", "POST", NOTES)
            .json(json!({"title":"g3","code":"custom"}))
            .check(|v| assert_eq!(v["code"], json!("custom"))),
        Scenario::new("multipart with repeated keys", "POST", NOTES)
            .raw(
                multipart_body(&[("title", "mp"), ("cats", "a"), ("cats", "c")]),
                Some(MULTIPART),
            )
            .count("notes", 1)
            .check(|v| {
                assert_eq!(
                    (v["title"].clone(), v["cats"].clone()),
                    (json!("mp"), json!(["a", "c"]))
                )
            }),
        Scenario::new("multipart with @jsonPayload", "POST", NOTES)
            .raw(
                multipart_body(&[
                    ("@jsonPayload", r#"{"title":"from json","meta":{"x":1}}"#),
                    ("cats", "b"),
                ]),
                Some(MULTIPART),
            )
            .count("notes", 1)
            .check(|v| {
                assert_eq!(
                    (v["title"].clone(), v["meta"].clone(), v["cats"].clone()),
                    (json!("from json"), json!({"x":1}), json!(["b"]))
                )
            }),
        Scenario::new("multipart typed values", "POST", POSTS)
            .su()
            .raw(
                multipart_body(&[
                    ("title", "mp post"),
                    ("views", "7"),
                    ("featured", "true"),
                    ("tags", r#"["x"]"#),
                ]),
                Some(MULTIPART),
            )
            .count("posts", 1)
            .check(|v| {
                assert_eq!(
                    (v["views"].clone(), v["featured"].clone(), v["tags"].clone()),
                    (json!(7), json!(true), json!(["x"]))
                )
            }),
        Scenario::new("multipart invalid @jsonPayload", "POST", NOTES)
            .raw(
                multipart_body(&[("@jsonPayload", "{nope")]),
                Some(MULTIPART),
            )
            .status(400)
            .unchanged("notes"),
        Scenario::new("urlencoded form", "POST", NOTES)
            .raw(
                "title=form&cats=a&cats=b",
                Some("application/x-www-form-urlencoded"),
            )
            .count("notes", 1)
            .check(|v| {
                assert_eq!(
                    (v["title"].clone(), v["cats"].clone()),
                    (json!("form"), json!(["a", "b"]))
                )
            }),
    ])
    .await;

    let before = t.su_ok("GET", &n1, Value::Null).await["code"].clone();
    assert!(is_code(&before), "n1 code {before}");
    t.run(vec![Scenario::new(":autogenerate on update", "PATCH", &n1)
        .json(json!({"code:autogenerate":""}))
        .check(move |v| {
            assert!(
                is_code(&v["code"]) && v["code"] != before,
                "{} vs {before}",
                v["code"]
            )
        })])
    .await;
    let r = t
        .multipart(
            "PATCH",
            &n1,
            &[("title", "n1 renamed"), ("cats+", "c"), ("cats+", "a")],
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.json["title"].clone(), r.json["cats"].clone()),
        (json!("n1 renamed"), json!(["a", "b", "c"])),
        "multipart update with repeated modifier keys"
    );
}

const MULTIPART: &str = "multipart/form-data; boundary=XkilnX";

fn multipart_body(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, value) in parts {
        body.push_str(&format!(
            "--XkilnX\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str("--XkilnX--\r\n");
    body.into_bytes()
}

#[tokio::test]
async fn delete_and_references() {
    let t = TestApp::with_posts().await;
    t.su_ok(
        "POST",
        "/api/collections",
        json!({"name":"comments","type":"base","listRule":"","viewRule":"","fields":[
            {"name":"post","type":"relation","collectionId":POSTS_ID,"maxSelect":1,"required":true,"cascadeDelete":true},
            {"name":"user","type":"relation","collectionId":"_pb_users_auth_","maxSelect":1,"required":true},
            {"name":"text","type":"text"}]}),
    )
    .await;
    let (hello, draft, bob_post, alice, bob) = (
        t.id("hello"),
        t.id("draft"),
        t.id("bob_post"),
        t.id("alice"),
        t.id("bob"),
    );
    for (post, user) in [(&hello, &bob), (&hello, &alice), (&bob_post, &alice)] {
        t.su_ok(
            "POST",
            "/api/collections/comments/records",
            json!({"post":post,"user":user,"text":"hi"}),
        )
        .await;
    }
    let only_su =
        json!({"data":{},"message":"Only superusers can perform this action.","status":403});
    t.run(vec![
        Scenario::new("16 deleteRule null (owner)", "DELETE", format!("{POSTS}/{hello}")).user("alice").status(403).unchanged("posts").body_eq(only_su.clone()),
        Scenario::new("deleteRule null (guest)", "DELETE", format!("{POSTS}/{hello}")).status(403).unchanged("posts").body_eq(only_su),
        Scenario::new("missing record", "DELETE", format!("{POSTS}/doesnotexist123")).su().status(404).body_eq(j(E404)),
        Scenario::new("94 delete", "DELETE", format!("{POSTS}/{draft}")).su().status(204).count("posts", -1).check(|v| assert_eq!(v, &Value::Null)),
        Scenario::new("deleted: view", "GET", format!("{POSTS}/{draft}")).su().status(404).body_eq(j(E404)),
        Scenario::new("deleted: delete again", "DELETE", format!("{POSTS}/{draft}")).su().status(404),
        Scenario::new("required reference", "DELETE", format!("/api/collections/users/records/{bob}"))
            .su()
            .status(400)
            .unchanged("users")
            .unchanged("comments")
            .body_eq(json!({"data":{},"message":"Failed to delete record. Make sure that the record is not part of a required relation reference.","status":400})),
        Scenario::new("failed delete changed nothing", "GET", format!("{POSTS}/{bob_post}")).check({
            let bob = bob.clone();
            move |v| assert_eq!(v["author"], json!(bob))
        }),
        Scenario::new("users deleteRule: others get 404", "DELETE", format!("/api/collections/users/records/{bob}")).user("alice").status(404).unchanged("users"),
        Scenario::new("cascade delete", "DELETE", format!("{POSTS}/{hello}")).su().status(204).count("comments", -2),
        Scenario::new("cascaded comments gone", "GET", "/api/collections/comments/records").total(1),
        Scenario::new("no longer required: delete Bob", "DELETE", format!("/api/collections/users/records/{bob}")).su().status(204).count("users", -1),
        Scenario::new("optional reference cleared", "GET", format!("{POSTS}/{bob_post}")).check(|v| assert_eq!(v["author"], json!(""))),
        Scenario::new("self delete (users deleteRule)", "DELETE", format!("/api/collections/users/records/{alice}")).user("alice").status(400).unchanged("users"),
    ])
    .await;
}

/// PocketBase's validation messages (core/field_text.go, core/field_number.go).
#[tokio::test]
async fn text_and_number_messages() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new("title too long", "POST", POSTS)
            .su()
            .json(json!({"title": "x".repeat(101)}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(r#"{"data":{"title":{"code":"validation_max_text_constraint","message":"Must be no more than 100 character(s).","params":{"max":100}}},"message":"Failed to create record.","status":400}"#)),
        Scenario::new("views below min", "POST", POSTS)
            .su()
            .json(json!({"title":"x","views":-1}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(r#"{"data":{"views":{"code":"validation_min_number_constraint","message":"Must be greater or equal than 0.","params":{"min":0}}},"message":"Failed to create record.","status":400}"#)),
    ])
    .await;
}

/// PocketBase reports a duplicate client id from the UNIQUE constraint
/// (core/validators/db.go NormalizeUniqueIndexError); validation_pk_invalid is only for custom
/// id patterns.
#[tokio::test]
async fn id_error_codes() {
    let t = TestApp::with_posts().await;
    t.su_ok(
        "POST",
        POSTS,
        json!({"id":"abcdefghijklmno","title":"with id"}),
    )
    .await;
    t.run(vec![
        Scenario::new("duplicate id", "POST", POSTS)
            .su()
            .json(json!({"id":"abcdefghijklmno","title":"again"}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(r#"{"data":{"id":{"code":"validation_not_unique","message":"Value must be unique."}},"message":"Failed to create record.","status":400}"#)),
    ])
    .await;
}

/// PocketBase (core/field_geo_point.go) names the bad coordinate.
#[tokio::test]
async fn geo_point_codes() {
    let t = TestApp::with_posts().await;
    t.run(vec![
        Scenario::new("longitude", "POST", POSTS)
            .su()
            .json(json!({"title":"x","loc":{"lon":200,"lat":0}}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(r#"{"data":{"loc":{"code":"validation_invalid_longitude","message":"Longitude must be between -180 and 180 degrees."}},"message":"Failed to create record.","status":400}"#)),
        Scenario::new("latitude", "POST", POSTS)
            .su()
            .json(json!({"title":"x","loc":{"lon":0,"lat":-91}}))
            .status(400)
            .unchanged("posts")
            .body_eq(j(r#"{"data":{"loc":{"code":"validation_invalid_latitude","message":"Latitude must be between -90 and 90 degrees."}},"message":"Failed to create record.","status":400}"#)),
    ])
    .await;
}

/// PocketBase loads `id` from an update body and refuses the change (core/field_text.go).
#[tokio::test]
async fn id_cannot_change() {
    let t = TestApp::with_posts().await;
    let hello = format!("{POSTS}/{}", t.id("hello"));
    t.run(vec![
        Scenario::new("change id", "PATCH", &hello)
            .su()
            .json(json!({"id":"zzzzzzzzzzzzzzz"}))
            .status(400)
            .body_eq(j(r#"{"data":{"id":{"code":"validation_pk_change","message":"The record primary key cannot be changed."}},"message":"Failed to update record.","status":400}"#)),
        Scenario::new("still there", "GET", &hello).su(),
    ])
    .await;
}
