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
