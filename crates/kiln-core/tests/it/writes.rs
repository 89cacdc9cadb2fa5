//! The write path: create, update and delete rules, validation, modifiers and what a delete
//! does to the records that point at it.

use serde_json::json;

use kiln_core::{Action, CoreError};
use kiln_test::{blog, TestCore};

fn count(t: &TestCore, collection: &str) -> usize {
    t.list(collection, &t.superuser(), "", "", "id")
        .unwrap()
        .len()
}

#[tokio::test]
async fn create_rules_check_the_submitted_record() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    let before = count(&t, "posts");
    let mine = json!({"title": "Mine", "author": b.alice.id(), "status": "draft"});
    let as_bob = json!({"title": "Forged", "author": b.bob.id(), "status": "draft"});
    t.create_as("posts", &t.as_user(&b.alice), mine.clone())
        .await
        .unwrap();
    let err = t
        .create_as("posts", &t.as_user(&b.alice), as_bob)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::Failed(Action::CreateRecord)),
        "{err:?}"
    );
    let err = t.create_as("posts", &t.guest(), mine).await.unwrap_err();
    assert!(
        matches!(err, CoreError::Failed(Action::CreateRecord)),
        "{err:?}"
    );
    assert_eq!(count(&t, "posts"), before + 1, "on {}", t.engine());
}

#[tokio::test]
async fn updates_and_deletes_only_what_the_rule_allows() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    let (alice, bob) = (t.as_user(&b.alice), t.as_user(&b.bob));
    // Another author's post is not there for an update.
    let err = t
        .update_as("posts", b.hello.id(), &bob, json!({"title": "Mine now"}))
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::NotFound), "{err:?}");
    // Modifiers apply to the stored value.
    let r = t
        .update_as(
            "posts",
            b.hello.id(),
            &alice,
            json!({"views+": 5, "tags-": b.go.id()}),
        )
        .await
        .unwrap();
    assert_eq!(r.get("views"), Some(&json!(15)));
    assert_eq!(r.get("tags"), Some(&json!([b.rust.id()])));
    // deleteRule: only drafts; the draft's comment cascades with it.
    let err = t
        .delete_as("posts", b.hello.id(), &alice)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::NotFound), "{err:?}");
    t.delete_as("posts", b.draft.id(), &alice).await.unwrap();
    let comments = t
        .list("comments", &t.superuser(), "", "body", "body")
        .unwrap();
    assert_eq!(comments, ["nice"], "on {}", t.engine());
}

#[tokio::test]
async fn invalid_values_are_refused_field_by_field_and_change_nothing() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    let before = count(&t, "posts");
    let tags: Vec<String> = (0..6).map(|_| b.rust.id().to_owned()).collect();
    let body = json!({
        "title": "x".repeat(101), "author": b.alice.id(), "status": "archived",
        "tags": tags, "views": -1,
    });
    let err = t
        .create_as("posts", &t.as_user(&b.alice), body)
        .await
        .unwrap_err();
    let CoreError::Validation { action, errors } = err else {
        panic!("{err:?}");
    };
    assert_eq!(action, Action::CreateRecord);
    let mut keys: Vec<&str> = errors.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["status", "title", "views"], "{errors:?}");
    assert_eq!(count(&t, "posts"), before);
}

#[tokio::test]
async fn deleting_a_referenced_record_clears_optional_relations() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    t.delete_as("tags", b.rust.id(), &t.superuser())
        .await
        .unwrap();
    let c = t.get("posts");
    let hello = t.app.find_record(&c, b.hello.id()).unwrap().unwrap();
    assert_eq!(
        hello.get("tags"),
        Some(&json!([b.go.id()])),
        "on {}",
        t.engine()
    );
    t.delete_as("users", b.bob.id(), &t.superuser())
        .await
        .unwrap();
    let bobs = t.app.find_record(&c, b.bobs.id()).unwrap().unwrap();
    assert_eq!(bobs.get_str("author"), "");
}
