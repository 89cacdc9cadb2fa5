//! The blog scenario: users, tags, posts and comments with the rule shapes apps use most (owner
//! checks through `@request.auth`, a published-or-mine list rule, a rule through a relation,
//! a multi-valued relation, a required cascading relation), and a few records of each.
//!
//! | post    | author | status    | tags      | views |
//! |---------|--------|-----------|-----------|-------|
//! | Hello   | alice  | published | rust, go  | 10    |
//! | Draft   | alice  | draft     | rust      | 0     |
//! | Bob's   | bob    | published | —         | 5     |
//!
//! Comments: "nice" by bob on Hello, "note" by alice on Draft.

use serde_json::json;

use kiln_core::records::model::Record;

use crate::TestCore;

/// The records of the scenario, by role.
pub struct Blog {
    pub alice: Record,
    pub bob: Record,
    pub rust: Record,
    pub go: Record,
    pub hello: Record,
    pub draft: Record,
    pub bobs: Record,
}

/// Who may see a post: everyone when published, its author always.
pub const POST_LIST_RULE: &str = "status = 'published' || author = @request.auth.id";

/// Creates the scenario's collections and records in `t`'s app.
pub async fn seed(t: &TestCore) -> Blog {
    let users = t.get("users");
    t.collection(json!({
        "name": "tags", "type": "base", "listRule": "", "viewRule": "",
        "fields": [{"name": "name", "type": "text", "required": true}, {"name": "color", "type": "text"}],
    }))
    .await;
    let tags = t.get("tags");
    t.collection(json!({
        "name": "posts", "type": "base",
        "listRule": POST_LIST_RULE,
        "viewRule": POST_LIST_RULE,
        "createRule": "@request.auth.id != '' && author = @request.auth.id",
        "updateRule": "author = @request.auth.id",
        "deleteRule": "author = @request.auth.id && status = 'draft'",
        "fields": [
            {"name": "title", "type": "text", "required": true, "max": 100},
            {"name": "author", "type": "relation", "collectionId": users.id, "maxSelect": 1},
            {"name": "status", "type": "select", "values": ["draft", "published"], "maxSelect": 1},
            {"name": "tags", "type": "relation", "collectionId": tags.id, "maxSelect": 5},
            {"name": "views", "type": "number", "min": 0},
        ],
    }))
    .await;
    let posts = t.get("posts");
    t.collection(json!({
        "name": "comments", "type": "base",
        "listRule": "post.status = 'published' || post.author = @request.auth.id",
        "createRule": "@request.auth.id != ''",
        "fields": [
            {"name": "post", "type": "relation", "collectionId": posts.id, "maxSelect": 1,
             "required": true, "cascadeDelete": true},
            {"name": "author", "type": "relation", "collectionId": users.id, "maxSelect": 1},
            {"name": "body", "type": "text"},
        ],
    }))
    .await;

    let user = |name: &str| {
        json!({"email": format!("{name}@example.com"), "password": "1234567890",
               "passwordConfirm": "1234567890", "name": name, "verified": true})
    };
    let alice = t.create("users", user("alice")).await;
    let bob = t.create("users", user("bob")).await;
    let rust = t
        .create("tags", json!({"name": "rust", "color": "red"}))
        .await;
    let go = t
        .create("tags", json!({"name": "go", "color": "blue"}))
        .await;
    let post = |title: &str, author: &Record, status: &str, tags: Vec<&str>, views: i64| json!({"title": title, "author": author.id(), "status": status, "tags": tags, "views": views});
    let hello = t
        .create(
            "posts",
            post("Hello", &alice, "published", vec![rust.id(), go.id()], 10),
        )
        .await;
    let draft = t
        .create("posts", post("Draft", &alice, "draft", vec![rust.id()], 0))
        .await;
    let bobs = t
        .create("posts", post("Bob's", &bob, "published", vec![], 5))
        .await;
    t.create(
        "comments",
        json!({"post": hello.id(), "author": bob.id(), "body": "nice"}),
    )
    .await;
    t.create(
        "comments",
        json!({"post": draft.id(), "author": alice.id(), "body": "note"}),
    )
    .await;
    Blog {
        alice,
        bob,
        rust,
        go,
        hello,
        draft,
        bobs,
    }
}
