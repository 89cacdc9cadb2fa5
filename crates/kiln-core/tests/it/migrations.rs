//! Collection changes applied to the tables underneath: renames keep data, new fields start
//! empty, removed ones go, indexes hold, views follow their source.

use serde_json::{json, Value};

use kiln_core::CoreError;
use kiln_test::{blog, TestCore};

/// The collection's JSON definition (as the API answers it), for a patch to start from.
fn definition(t: &TestCore, name: &str) -> Value {
    t.get(name).to_json(true)
}

#[tokio::test]
async fn fields_renamed_added_and_removed_keep_the_data_that_remains() {
    let t = TestCore::open().await;
    t.collection(json!({"name": "notes", "type": "base",
        "fields": [{"name": "title", "type": "text"}, {"name": "tmp", "type": "text"}]}))
        .await;
    let r = t
        .create("notes", json!({"title": "kept", "tmp": "gone"}))
        .await;

    let mut def = definition(&t, "notes");
    let fields = def["fields"].as_array_mut().unwrap();
    for f in fields.iter_mut() {
        if f["name"] == "title" {
            f["name"] = json!("heading");
        }
    }
    fields.retain(|f| f["name"] != "tmp");
    fields.push(json!({"name": "n", "type": "number"}));
    t.app.update_collection("notes", &def).await.unwrap();

    let c = t.get("notes");
    let got = t.app.find_record(&c, r.id()).unwrap().unwrap();
    assert_eq!(got.get_str("heading"), "kept", "on {}", t.engine());
    assert_eq!(got.get("n"), Some(&json!(0)));
    assert_eq!(got.get("tmp"), None);
    assert_eq!(got.get("title"), None);
}

#[tokio::test]
async fn a_renamed_collection_keeps_its_records_and_its_unique_index() {
    let t = TestCore::open().await;
    t.collection(json!({"name": "notes", "type": "base",
        "fields": [{"name": "code", "type": "text"}],
        "indexes": ["CREATE UNIQUE INDEX idx_notes_code ON notes (code)"]}))
        .await;
    t.create("notes", json!({"code": "a"})).await;
    t.app
        .update_collection("notes", &json!({"name": "memos"}))
        .await
        .unwrap();
    assert!(t.app.collection("notes").is_err());
    assert_eq!(
        t.list("memos", &t.superuser(), "", "", "code").unwrap(),
        ["a"]
    );
    let err = t
        .create_as("memos", &t.superuser(), json!({"code": "a"}))
        .await
        .unwrap_err();
    let CoreError::Validation { errors, .. } = err else {
        panic!("{err:?} on {}", t.engine());
    };
    assert!(errors.contains_key("code"), "{errors:?}");
}

#[tokio::test]
async fn a_view_follows_its_source_and_a_referenced_collection_stays() {
    let t = TestCore::open().await;
    let b = blog::seed(&t).await;
    t.collection(json!({"name": "published", "type": "view", "listRule": "",
        "viewQuery": "SELECT id, title, views FROM posts WHERE status = 'published'"}))
        .await;
    let titles = |t: &TestCore| {
        t.list("published", &t.guest(), "", "title", "title")
            .unwrap()
    };
    assert_eq!(titles(&t), ["Bob's", "Hello"]);
    t.update_as(
        "posts",
        b.draft.id(),
        &t.superuser(),
        json!({"status": "published"}),
    )
    .await
    .unwrap();
    assert_eq!(titles(&t), ["Bob's", "Draft", "Hello"], "on {}", t.engine());
    // posts is referenced by comments.post: it cannot go.
    let err = t.app.delete_collection("posts").await.unwrap_err();
    assert!(matches!(err, CoreError::CollectionReferenced(_)), "{err:?}");
}
