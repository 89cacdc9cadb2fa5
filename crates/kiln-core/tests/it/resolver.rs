//! Rules and client filters resolved against the blog scenario: who sees which records.

use kiln_core::CoreError;
use kiln_test::{blog, TestCore};

/// Who asks.
#[derive(Clone, Copy, Debug)]
enum Who {
    Guest,
    Alice,
    Bob,
    Superuser,
}

/// (who, filter, sort, titles listed).
const POSTS: &[(Who, &str, &str, &[&str])] = &[
    (Who::Guest, "", "title", &["Bob's", "Hello"]),
    (Who::Alice, "", "title", &["Bob's", "Draft", "Hello"]),
    (Who::Bob, "", "title", &["Bob's", "Hello"]),
    (
        Who::Superuser,
        "",
        "-views,title",
        &["Hello", "Bob's", "Draft"],
    ),
    // A multi-valued relation: any of the tags.
    (Who::Guest, "tags.name ?= 'rust'", "title", &["Hello"]),
    (
        Who::Alice,
        "tags.name ?= 'rust'",
        "title",
        &["Draft", "Hello"],
    ),
    (
        Who::Alice,
        "tags.name ?= 'rust' && tags.color ?= 'blue'",
        "title",
        &[],
    ),
    (Who::Alice, "tags:length > 1", "", &["Hello"]),
    (Who::Alice, "tags:length = 0", "", &["Bob's"]),
    // A client filter through a relation sees only related rows the requester may list
    // (users lists a user to themselves only).
    (
        Who::Alice,
        "author.name = 'alice'",
        "title",
        &["Draft", "Hello"],
    ),
    (Who::Bob, "author.name = 'alice'", "title", &[]),
    (Who::Guest, "author.name = 'alice'", "title", &[]),
    (
        Who::Superuser,
        "author.name = 'alice'",
        "title",
        &["Draft", "Hello"],
    ),
    // Operators, modifiers and macros.
    (Who::Alice, "title ~ 'ell'", "", &["Hello"]),
    (Who::Alice, "title:lower = 'draft'", "", &["Draft"]),
    (Who::Alice, "status = 'draft' && views = 0", "", &["Draft"]),
    (
        Who::Guest,
        "views > 1 || title = 'Draft'",
        "title",
        &["Bob's", "Hello"],
    ),
    (
        Who::Superuser,
        "@now > '2000-01-01 00:00:00.000Z' && views >= 5",
        "views",
        &["Bob's", "Hello"],
    ),
    // @collection: any-of with ?=, all-of with =; references share one row (as PocketBase
    // 0.40.6 answers each of these).
    (
        Who::Superuser,
        "@collection.tags.color ?= 'blue'",
        "title",
        &["Bob's", "Draft", "Hello"],
    ),
    (
        Who::Superuser,
        "@collection.tags.color = 'blue'",
        "title",
        &[],
    ),
    (
        Who::Superuser,
        "@collection.tags.name ?= 'go' && @collection.tags.id ?= tags.id",
        "",
        &["Hello"],
    ),
];

fn who(t: &TestCore, b: &blog::Blog, w: Who) -> kiln_core::RequestInfo {
    match w {
        Who::Guest => t.guest(),
        Who::Alice => t.as_user(&b.alice),
        Who::Bob => t.as_user(&b.bob),
        Who::Superuser => t.superuser(),
    }
}

#[tokio::test]
async fn posts_each_requester_lists() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    let mut failures = Vec::new();
    for (w, filter, sort, want) in POSTS {
        let got = t.list("posts", &who(&t, &b, *w), filter, sort, "title");
        match got {
            Ok(got) if got == *want => {}
            other => failures.push(format!(
                "{w:?} {filter:?} sort {sort:?}: {other:?}, want {want:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} on {}:\n{}",
        failures.len(),
        t.engine(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_rule_through_a_relation_follows_the_related_record() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    // comments: listed when the post is published or the requester wrote it.
    for (w, want) in [
        (Who::Guest, vec!["nice"]),
        (Who::Bob, vec!["nice"]),
        (Who::Alice, vec!["nice", "note"]),
    ] {
        let got = t
            .list("comments", &who(&t, &b, w), "", "body", "body")
            .unwrap();
        assert_eq!(got, want, "{w:?} on {}", t.engine());
    }
}

#[tokio::test]
async fn client_filters_may_not_reach_request_or_other_collections() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    let alice = t.as_user(&b.alice);
    for filter in ["@collection.tags.name ?= 'go'", "author = @request.auth.id"] {
        let err = t.list("posts", &alice, filter, "", "title").unwrap_err();
        assert!(
            matches!(err, CoreError::FilterForbidden(_)),
            "{filter}: {err:?}"
        );
    }
    let err = t
        .list("posts", &alice, "title = ", "", "title")
        .unwrap_err();
    assert!(matches!(err, CoreError::BadQuery(_)), "{err:?}");
}

/// The validation message of `key` when the posts collection is saved with `rule` there.
async fn rule_error(t: &TestCore, key: &str, rule: &str) -> Option<String> {
    let patch = serde_json::json!({ key: rule });
    match t.app.update_collection("posts", &patch).await {
        Ok(_) => None,
        Err(CoreError::Validation { errors, .. }) => Some(
            errors
                .get(key)
                .map(|e| e.message.clone())
                .unwrap_or_default(),
        ),
        Err(other) => panic!("{rule}: {other:?}"),
    }
}

#[tokio::test]
async fn a_path_may_not_end_in_a_back_relation() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    // PocketBase 0.40.6 resolves a path's last segment as a field of its collection only:
    // `comments_via_post` (with or without a modifier) is an "unknown field" there.
    for (rule, msg) in [
        (
            "comments_via_post:length = 0",
            r#"invalid left operand "comments_via_post:length" - unknown field "comments_via_post""#,
        ),
        (
            "comments_via_post ?= 'x'",
            r#"invalid left operand "comments_via_post" - unknown field "comments_via_post""#,
        ),
        (
            "0 = comments_via_post:each",
            r#"invalid right operand "comments_via_post:each" - unknown field "comments_via_post""#,
        ),
    ] {
        assert_eq!(
            rule_error(&t, "deleteRule", rule).await,
            Some(format!("Invalid rule. Raw error: {msg}.")),
            "{rule}"
        );
    }
    // and so is a client filter (400)
    let err = t
        .list(
            "posts",
            &t.superuser(),
            "comments_via_post:length > 0",
            "",
            "title",
        )
        .unwrap_err();
    assert!(matches!(err, CoreError::BadQuery(_)), "{err:?}");
    // From an `@request.*` value a name that is no field is NULL, as in PocketBase: accepted
    // at save, and NULL (`''` to `=`) when a comment is created.
    let body = serde_json::json!({"post": b.hello.id(), "body": "x"});
    let mut req = t.as_user(&b.alice);
    req.body = kiln_test::object(body.clone());
    for (rule, holds) in [
        ("@request.body.post.comments_via_post:length = 0", false),
        ("@request.body.post.comments_via_post = ''", true),
        ("@request.body.post.nope = ''", true),
        ("@request.body.post.nope != ''", false),
        ("@request.body.post.author.nope_via_x.y = ''", true),
        ("@request.auth.nope.x = ''", true),
    ] {
        let patch = serde_json::json!({ "createRule": rule });
        t.app.update_collection("comments", &patch).await.unwrap();
        let got = t.create_as("comments", &req, body.clone()).await;
        assert_eq!(got.is_ok(), holds, "{rule}: {got:?} on {}", t.engine());
    }

    // What PocketBase accepts for "no comments": the back-relation's id is empty.
    let rule = "author = @request.auth.id && comments_via_post.id = ''";
    assert_eq!(rule_error(&t, "deleteRule", rule).await, None);
    let draft2 = t
        .create(
            "posts",
            serde_json::json!({"title": "Draft 2", "author": b.alice.id(), "status": "draft"}),
        )
        .await;
    let alice = t.as_user(&b.alice);
    // Draft has a comment, Draft 2 none
    assert!(t.delete_as("posts", b.draft.id(), &alice).await.is_err());
    t.delete_as("posts", draft2.id(), &alice).await.unwrap();
}

#[tokio::test]
async fn rule_errors_read_as_pocketbase_s() {
    let t = TestCore::open().await;
    blog::seed(&t).await;
    for (rule, msg) in [
        (
            "nosuch = 1",
            r#"invalid left operand "nosuch" - unknown field "nosuch""#,
        ),
        (
            "1 = title && views > nosuch",
            r#"invalid right operand "nosuch" - unknown field "nosuch""#,
        ),
        (
            "@request.body.title:length > 2",
            r#"invalid left operand "@request.body.title:length" - field "title" doesn't support multivalue operations"#,
        ),
        (
            "strftime() = 1",
            r#"invalid left operand "strftime" - [strftime] expected at least 1 arguments, got 0"#,
        ),
    ] {
        assert_eq!(
            rule_error(&t, "updateRule", rule).await,
            Some(format!("Invalid rule. Raw error: {msg}.")),
            "{rule}"
        );
    }
}

#[tokio::test]
async fn lower_of_a_request_value_follows_pocketbase() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    let guest = |body: serde_json::Value, x: Option<&str>| {
        let mut req = t.guest();
        req.method = "PATCH".into();
        req.body = kiln_test::object(body);
        if let Some(x) = x {
            req.query.insert("x".into(), x.into());
        }
        req
    };
    // (rule, body, query x, rule holds) — each as PocketBase 0.40.6 answers it. `title` is a
    // field: its lowered value is text, '' when missing or null. `extra` is no field and
    // `x` a query parameter: missing or null they are NULL, where `~`/`!~` never hold.
    let none = serde_json::json!({"views": 1});
    let cases: &[(&str, serde_json::Value, Option<&str>, bool)] = &[
        (
            "@request.body.title:lower !~ 'spam'",
            none.clone(),
            None,
            true,
        ),
        (
            "@request.body.title:lower !~ 'spam'",
            serde_json::json!({"title": null}),
            None,
            true,
        ),
        (
            "@request.body.title:lower !~ 'spam'",
            serde_json::json!({"title": ""}),
            None,
            true,
        ),
        (
            "@request.body.title:lower !~ 'spam'",
            serde_json::json!({"title": "Buy SPAM"}),
            None,
            false,
        ),
        ("@request.body.title:lower ~ ''", none.clone(), None, true),
        ("@request.body.title:lower = ''", none.clone(), None, true),
        (
            "@request.body.title:lower != 'spam'",
            none.clone(),
            None,
            true,
        ),
        (
            "@request.body.title:lower ~ 'spam'",
            none.clone(),
            None,
            false,
        ),
        (
            "@request.body.extra:lower !~ 'spam'",
            none.clone(),
            None,
            false,
        ),
        (
            "@request.body.extra:lower !~ 'spam'",
            serde_json::json!({"extra": null}),
            None,
            false,
        ),
        (
            "@request.body.extra:lower !~ 'spam'",
            serde_json::json!({"extra": ""}),
            None,
            true,
        ),
        ("@request.body.extra:lower = ''", none.clone(), None, true),
        (
            "@request.body.extra:lower != 'spam'",
            none.clone(),
            None,
            true,
        ),
        // an array is lowered as its JSON text, not as a set of items
        (
            "@request.body.extra:lower = 'spam'",
            serde_json::json!({"extra": ["SPAM"]}),
            None,
            false,
        ),
        (
            "@request.body.extra:lower = '[\"spam\"]'",
            serde_json::json!({"extra": ["SPAM"]}),
            None,
            true,
        ),
        (
            "@request.query.x:lower !~ 'spam'",
            none.clone(),
            None,
            false,
        ),
        (
            "@request.query.x:lower !~ 'spam'",
            none.clone(),
            Some(""),
            true,
        ),
        (
            "@request.query.x:lower !~ 'spam'",
            none.clone(),
            Some("SPAM"),
            false,
        ),
        ("@request.query.x:lower ~ ''", none.clone(), None, false),
        ("@request.query.x:lower ~ ''", none.clone(), Some(""), true),
        ("@request.query.x:lower = ''", none.clone(), None, true),
        ("@request.query.x:lower != 'spam'", none.clone(), None, true),
        ("@request.query.x !~ 'spam'", none.clone(), None, false),
    ];
    let mut failures = Vec::new();
    for (rule, body, x, allowed) in cases {
        let patch = serde_json::json!({ "updateRule": rule });
        t.app.update_collection("posts", &patch).await.unwrap();
        let got = t
            .update_as("posts", b.bobs.id(), &guest(body.clone(), *x), body.clone())
            .await;
        // a refusing rule is a 404; `title` null or "" then fails validation (required)
        let passed = !matches!(got, Err(CoreError::NotFound));
        if passed != *allowed {
            failures.push(format!("{rule} body {body} x {x:?}: {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} on {}:\n{}",
        failures.len(),
        t.engine(),
        failures.join("\n")
    );
}
