//! `POST /api/sql` (transcript 92): a superuser's SQL, read or written, as PocketBase 0.40.6
//! answers it (checked against the real binary).

use serde_json::{json, Value};

use crate::support::*;

async fn sql(t: &TestApp, query: &str) -> Resp {
    t.send(
        "POST",
        "/api/sql",
        Some(json!({ "query": query })),
        &Token::Superuser,
    )
    .await
}

#[tokio::test]
async fn reads_return_columns_and_rows_as_text() {
    let t = TestApp::with_posts().await;
    let r = sql(
        &t,
        "select title, views, views * 2 as dbl, null as z from posts order by title limit 2",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["affectedRows"], 0);
    assert!(r.json["execTime"].is_u64());
    let names: Vec<&str> = r.json["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["title", "views", "dbl", "z"]);
    assert_eq!(r.json["columns"][0]["type"], "TEXT");
    assert_eq!(r.json["columns"][0]["nullable"], true);
    let rows = r.json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "Bob post");
    assert!(
        rows[0][1].is_string(),
        "numbers come back as text: {}",
        rows[0][1]
    );
    assert_eq!(rows[0][3], Value::Null);
}

#[tokio::test]
async fn writes_run_in_a_transaction_and_report_the_rows_changed() {
    let t = TestApp::with_posts().await;
    let r = sql(&t, "update posts set views = views + 1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.json["affectedRows"].clone(), r.json["rows"].clone()),
        (json!(3), json!([]))
    );
    // statements that would end Kiln's transaction are refused before anything runs
    let r = sql(&t, "delete from posts; commit").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.json["message"]
        .as_str()
        .unwrap()
        .starts_with("Failed to execute query. Raw error:\n"));
    assert_eq!(t.count("posts"), 3);
    // a failing statement undoes the ones before it
    let r = sql(&t, "delete from posts; insert into nope values (1)").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(t.count("posts"), 3);
}

#[tokio::test]
async fn bad_queries_and_callers_are_refused() {
    let t = TestApp::with_posts().await;
    let r = sql(&t, "select * from nope").await;
    assert_eq!(r.status, 400);
    assert!(
        r.json["message"].as_str().unwrap().contains("nope"),
        "{}",
        r.text
    );
    let r = sql(&t, "").await;
    assert_eq!(
        r.json,
        json!({"data":{"query":{"code":"validation_required","message":"Cannot be blank."}},
            "message":"An error occurred while validating the submitted data.","status":400})
    );
    // spaces pass the form and fail as a query (PocketBase)
    let r = sql(&t, "  ").await;
    assert_eq!(
        r.json,
        json!({"data":{},"message":"Failed to execute query. Raw error:\nempty query.","status":400})
    );
    let r = sql(&t, &"x".repeat(5001)).await;
    assert_eq!(
        r.json["data"]["query"]["code"],
        "validation_length_too_long"
    );
    let guest = t
        .send(
            "POST",
            "/api/sql",
            Some(json!({"query":"select 1"})),
            &Token::None,
        )
        .await;
    assert_eq!(guest.status, 401);
    let user = t
        .send(
            "POST",
            "/api/sql",
            Some(json!({"query":"select 1"})),
            &Token::User("alice"),
        )
        .await;
    assert_eq!(user.status, 403);
}

/// `POST /api/collections/meta/dry-run-view`: the fields a view query would make and its first
/// records, or why it cannot be a view.
#[tokio::test]
async fn dry_run_view_shows_fields_and_a_sample() {
    let t = TestApp::with_posts().await;
    let dry = |q: &str| {
        t.send(
            "POST",
            "/api/collections/meta/dry-run-view",
            Some(json!({ "query": q })),
            &Token::Superuser,
        )
    };
    let r = dry("select id, title, views from posts order by title").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fields: Vec<(&str, &str)> = r.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [("id", "text"), ("title", "text"), ("views", "number")]
    );
    let sample = r.json["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 3);
    assert_eq!(sample[0]["title"], "Bob post");
    assert!(sample[0]["views"].is_number());
    assert!(sample[0]["collectionName"]
        .as_str()
        .unwrap()
        .starts_with("temp_view_"));
    // nothing was created
    assert_eq!(
        t.su_ok("GET", "/api/collections?perPage=500", Value::Null)
            .await["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"].as_str().unwrap().starts_with("temp_view"))
            .count(),
        0
    );

    for (q, why) in [
        ("select 'x' as id, title from posts", "non-unique ids"),
        ("select title from posts", "\"id\""),
        ("select nope", "nope"),
        ("delete from posts", "SELECT"),
    ] {
        let r = dry(q).await;
        assert_eq!(r.status, 400, "{q}");
        let m = r.json["message"].as_str().unwrap();
        assert!(
            m.starts_with("Invalid view query. Raw error: \n")
                && m.contains(why)
                && m.ends_with('.'),
            "{q}: {m}"
        );
    }
    assert_eq!(t.count("posts"), 3);
    let r = dry("").await;
    assert_eq!(r.json["data"]["query"]["code"], "validation_required");
    let user = t
        .send(
            "POST",
            "/api/collections/meta/dry-run-view",
            Some(json!({"query":"select 1"})),
            &Token::User("alice"),
        )
        .await;
    assert_eq!(user.status, 403);
}
