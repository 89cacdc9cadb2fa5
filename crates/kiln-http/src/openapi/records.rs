//! Each collection's records API in the document: list, view, create, update and delete, as far
//! as its rules let the reader call them, with its record schemas.

use serde_json::{json, Map, Value};

use kiln_core::schema::collection::Collection;
use kiln_core::schema::Schema;

use super::fields::{record, Use};
use super::parts::{names, op, param_ref, schema_ref};

/// Whether the reader may call an operation guarded by `rule` (a superuser may call them all;
/// anyone else, those whose rule is not superuser-only).
pub(crate) fn open(rule: &Option<String>, superuser: bool) -> bool {
    superuser || rule.is_some()
}

/// Adds `c`'s paths and schemas.
pub(crate) fn add(
    c: &Collection,
    schema: &Schema,
    superuser: bool,
    paths: &mut Map<String, Value>,
    schemas: &mut Map<String, Value>,
) {
    let [rec, create, update] = names(c);
    let tag = c.name.clone();
    let base = format!("/api/collections/{}/records", c.name);
    let mut items = Map::new();
    if open(&c.list_rule, superuser) {
        items.insert(
            "get".into(),
            op(
                &tag,
                &format!("list_{}", c.name),
                &format!("List {} records", c.name),
                "Records the list rule lets the caller see, a page at a time.",
                vec![
                    param_ref("page"),
                    param_ref("perPage"),
                    param_ref("sort"),
                    param_ref("filter"),
                    param_ref("expand"),
                    param_ref("fields"),
                    param_ref("skipTotal"),
                ],
                None,
                json!({ "200": {
                    "description": "A page of records.",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": {
                            "page": { "type": "integer" }, "perPage": { "type": "integer" },
                            "totalItems": { "type": "integer" }, "totalPages": { "type": "integer" },
                            "items": { "type": "array", "items": schema_ref(&rec) },
                        },
                        "required": ["page", "perPage", "totalItems", "totalPages", "items"],
                    } } },
                } }),
                &["400", "403"],
            ),
        );
    }
    let writable = !c.is_view();
    if writable && open(&c.create_rule, superuser) {
        items.insert(
            "post".into(),
            op(
                &tag,
                &format!("create_{}", c.name),
                &format!("Create a {} record", c.name),
                "Files are sent as parts of a multipart body.",
                vec![param_ref("expand"), param_ref("fields")],
                Some(body(&create, true)),
                one(&rec, "The record created."),
                &["400", "403"],
            ),
        );
    }
    let listed = !items.is_empty();
    if listed {
        paths.insert(base.clone(), Value::Object(items));
    }
    let mut one_item = Map::new();
    if open(&c.view_rule, superuser) {
        one_item.insert(
            "get".into(),
            op(
                &tag,
                &format!("view_{}", c.name),
                &format!("View a {} record", c.name),
                "",
                vec![
                    param_ref("recordId"),
                    param_ref("expand"),
                    param_ref("fields"),
                ],
                None,
                one(&rec, "The record."),
                &["403", "404"],
            ),
        );
    }
    if writable && open(&c.update_rule, superuser) {
        one_item.insert(
            "patch".into(),
            op(
                &tag,
                &format!("update_{}", c.name),
                &format!("Update a {} record", c.name),
                "Only the fields sent change; `field+` and `+field` append and prepend, `field-` removes.",
                vec![param_ref("recordId"), param_ref("expand"), param_ref("fields")],
                Some(body(&update, false)),
                one(&rec, "The record as updated."),
                &["400", "403", "404"],
            ),
        );
    }
    if writable && open(&c.delete_rule, superuser) {
        one_item.insert(
            "delete".into(),
            op(
                &tag,
                &format!("delete_{}", c.name),
                &format!("Delete a {} record", c.name),
                "References to it are removed, or the records that reference it deleted too (cascade).",
                vec![param_ref("recordId")],
                None,
                json!({ "204": { "description": "Deleted." } }),
                &["400", "403", "404"],
            ),
        );
    }
    let single = !one_item.is_empty();
    if single {
        paths.insert(format!("{base}/{{recordId}}"), Value::Object(one_item));
    }
    // an auth collection's sign-in answers its record whatever its rules
    if !listed && !single && !c.is_auth() {
        return;
    }
    schemas.insert(rec, record(c, schema, Use::Answer));
    if writable {
        schemas.insert(create, record(c, schema, Use::Create));
        schemas.insert(update, record(c, schema, Use::Update));
    }
}

/// A JSON or multipart body of schema `name` (an update may send none).
fn body(name: &str, required: bool) -> Value {
    json!({
        "required": required,
        "content": {
            "application/json": { "schema": schema_ref(name) },
            "multipart/form-data": { "schema": schema_ref(name) },
        },
    })
}

/// A `200` answering one record of schema `name`.
fn one(name: &str, what: &str) -> Value {
    json!({ "200": { "description": what, "content": { "application/json": { "schema": schema_ref(name) } } } })
}
