//! The small builders every part of the document uses: references, operations, schema names.

use serde_json::{json, Map, Value};

use kiln_core::schema::collection::Collection;

/// A reference to schema `name`.
pub(crate) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A reference to the shared parameter `name`.
pub(crate) fn param_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

/// An operation: tagged `tag`, named `id`, with `params`, an optional body, its answers `ok`
/// and the error statuses it may answer.
#[allow(clippy::too_many_arguments)]
pub(crate) fn op(
    tag: &str,
    id: &str,
    summary: &str,
    description: &str,
    params: Vec<Value>,
    body: Option<Value>,
    ok: Value,
    errors: &[&str],
) -> Value {
    let mut responses = match ok {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for status in errors {
        responses.insert(
            (*status).to_owned(),
            json!({ "$ref": format!("#/components/responses/E{status}") }),
        );
    }
    let mut o = json!({
        "tags": [tag],
        "operationId": id,
        "summary": summary,
        "responses": responses,
    });
    if !description.is_empty() {
        o["description"] = json!(description);
    }
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    if let Some(b) = body {
        o["requestBody"] = b;
    }
    o
}

/// The schema names of `c`'s record, create body and update body.
pub(crate) fn names(c: &Collection) -> [String; 3] {
    let base = type_name(&c.name);
    [
        format!("{base}Record"),
        format!("{base}Create"),
        format!("{base}Update"),
    ]
}

/// `posts_archive` as `PostsArchive` (a schema name).
pub(crate) fn type_name(name: &str) -> String {
    name.split(|ch: char| !ch.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn collection_names_become_schema_names() {
        assert_eq!(super::type_name("posts"), "Posts");
        assert_eq!(super::type_name("posts_archive"), "PostsArchive");
        assert_eq!(super::type_name("_superusers"), "Superusers");
    }
}
