//! The collections API through `pb_hooks`: `onCollectionViewRequest`, `…CreateRequest`,
//! `…UpdateRequest` and `…DeleteRequest` around the request, and the write's model
//! (`onCollectionCreate`, …) and after-success hooks around the write. The event's
//! `e.collection` is the collection as the request would leave it; the write saves it as the
//! hooks left it.

use std::sync::Arc;

use axum::Extension;
use serde_json::{json, Value};

use kiln_hooks::Hooks;

/// A write's hooks: the request hook, the model hook and the after-success hook.
pub(crate) type Names = [&'static str; 3];

pub(crate) const CREATE: Names = [
    "onCollectionCreateRequest",
    "onCollectionCreate",
    "onCollectionAfterCreateSuccess",
];
pub(crate) const UPDATE: Names = [
    "onCollectionUpdateRequest",
    "onCollectionUpdate",
    "onCollectionAfterUpdateSuccess",
];
pub(crate) const DELETE: Names = [
    "onCollectionDeleteRequest",
    "onCollectionDelete",
    "onCollectionAfterDeleteSuccess",
];

/// The hooks when one of `names` listens on collection `c` (its JSON).
pub(crate) fn watching(
    hooks: Option<Extension<Arc<Hooks>>>,
    names: &[&str],
    c: &Value,
) -> Option<Arc<Hooks>> {
    let (name, id) = (
        c["name"].as_str().unwrap_or_default(),
        c["id"].as_str().unwrap_or_default(),
    );
    hooks
        .map(|h| h.0)
        .filter(|h| names.iter().any(|n| h.watches_tag(n, name, id)))
}

/// The event's fields for a write of `c` with hooks `names`.
pub(crate) fn fields(c: Value, names: &Names) -> Value {
    json!({ "collection": c, "__model": names[1], "__after": names[2] })
}

/// The collection as the hooks left it (`fallback` without hooks).
pub(crate) fn collection_of(fields: &Value, fallback: Value) -> Value {
    match fields.get("collection") {
        Some(c @ Value::Object(_)) => c.clone(),
        _ => fallback,
    }
}
