//! A collection's fields as JSON Schema (OpenAPI 3.1 uses JSON Schema 2020-12): what a record
//! answer holds, and what a create or update may send.

use serde_json::{json, Map, Value};

use kiln_core::schema::collection::Collection;
use kiln_core::schema::field::{Field, FieldKind};
use kiln_core::schema::Schema;

/// PocketBase's date format (`2024-01-31 10:00:00.123Z`), or empty for no date.
const DATE_PATTERN: &str =
    r"^$|^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?Z$";

/// How a record is shown or written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// A record in an answer.
    Answer,
    /// A create's body.
    Create,
    /// An update's body.
    Update,
}

/// The schema of one field's value, or `None` when it never appears in this use (a hidden
/// field in answers, a password in answers, an autodate in bodies).
pub(crate) fn field(f: &Field, schema: &Schema, usage: Use) -> Option<Value> {
    let answer = usage == Use::Answer;
    if answer && f.hidden {
        return None;
    }
    let mut s = match &f.kind {
        FieldKind::Text {
            min,
            max,
            pattern,
            primary_key,
            ..
        } => {
            let mut s = json!({ "type": "string" });
            // an answer's value was checked when it was written (PocketBase keeps older ones)
            if !answer {
                if *min > 0 {
                    s["minLength"] = json!(min);
                }
                if *max > 0 {
                    s["maxLength"] = json!(max);
                }
                if !pattern.is_empty() {
                    s["pattern"] = json!(pattern);
                }
            }
            if *primary_key && usage == Use::Update {
                return None;
            }
            s
        }
        FieldKind::Number { min, max, only_int } => {
            let mut s = json!({ "type": if *only_int { "integer" } else { "number" } });
            if !answer {
                if let Some(m) = min {
                    s["minimum"] = json!(m);
                }
                if let Some(m) = max {
                    s["maximum"] = json!(m);
                }
            }
            s
        }
        FieldKind::Bool => json!({ "type": "boolean" }),
        FieldKind::Email { .. } => match answer {
            // an answer shows "" for no email, and hides others' emails unless visible
            true => json!({ "type": "string" }),
            false => json!({ "type": "string", "format": "email" }),
        },
        FieldKind::Url { .. } => json!({ "type": "string" }),
        FieldKind::Editor { .. } => json!({ "type": "string", "description": "HTML" }),
        FieldKind::Date { .. } => json!({ "type": "string", "pattern": DATE_PATTERN }),
        FieldKind::Autodate { .. } => {
            if !answer {
                return None;
            }
            json!({ "type": "string", "pattern": DATE_PATTERN, "readOnly": true })
        }
        FieldKind::Select { values, .. } => {
            let mut one: Vec<Value> = values.iter().map(|v| json!(v)).collect();
            if !f.is_multi() {
                one.push(json!(""));
                json!({ "type": "string", "enum": one })
            } else {
                json!({ "type": "array", "items": { "type": "string", "enum": one }, "uniqueItems": true })
            }
        }
        FieldKind::File {
            max_select,
            max_size,
            mime_types,
            ..
        } => {
            let what = match mime_types.is_empty() {
                true => format!("files of at most {max_size} bytes"),
                false => format!(
                    "files of at most {max_size} bytes ({})",
                    mime_types.join(", ")
                ),
            };
            match (answer, f.is_multi()) {
                (true, false) => {
                    json!({ "type": "string", "description": "the stored file's name" })
                }
                (true, true) => {
                    json!({ "type": "array", "items": { "type": "string" }, "description": "the stored files' names" })
                }
                // a body names the files to keep; new ones come as multipart parts
                (false, false) => {
                    json!({ "type": "string", "description": format!("a file name to keep, or \"\" to remove it; upload {what} as a multipart part") })
                }
                (false, true) => json!({
                    "type": "array", "items": { "type": "string" }, "maxItems": max_select,
                    "description": format!("the file names to keep; upload {what} as multipart parts"),
                }),
            }
        }
        FieldKind::Relation {
            collection_id,
            max_select,
            ..
        } => {
            let target = schema
                .by_id(collection_id)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            let about = format!("the id of a `{target}` record");
            match f.is_multi() {
                false => json!({ "type": "string", "description": about }),
                true => {
                    let mut s = json!({ "type": "array", "items": { "type": "string" }, "description": format!("ids of `{target}` records") });
                    if !answer && *max_select > 0 {
                        s["maxItems"] = json!(max_select);
                    }
                    s
                }
            }
        }
        FieldKind::Json { .. } => json!({ "description": "any JSON value" }),
        FieldKind::GeoPoint => json!({
            "type": "object",
            "properties": { "lon": { "type": "number" }, "lat": { "type": "number" } },
            "required": ["lon", "lat"],
        }),
        FieldKind::Password { min, max, .. } => {
            if answer {
                return None;
            }
            let mut s = json!({ "type": "string", "writeOnly": true });
            if *min > 0 {
                s["minLength"] = json!(min);
            }
            if *max > 0 {
                s["maxLength"] = json!(max);
            }
            s
        }
    };
    if !f.help.is_empty() {
        s["description"] = json!(f.help);
    }
    Some(s)
}

/// Narrows `s` to the values a required field of `kind` takes: no empty text or list, no 0,
/// `true` only, no null.
fn not_zero(s: &mut Value, kind: &FieldKind, multi: bool) {
    match kind {
        FieldKind::Number { .. } => s["not"] = json!({ "const": 0 }),
        FieldKind::Bool => s["const"] = json!(true),
        FieldKind::Json { .. } => s["not"] = json!({ "enum": [null, "", [], {}] }),
        FieldKind::GeoPoint => s["not"] = json!({ "const": { "lon": 0, "lat": 0 } }),
        _ if multi => s["minItems"] = json!(1),
        FieldKind::Select { values, .. } => {
            s["enum"] = Value::Array(values.iter().map(|v| json!(v)).collect())
        }
        _ => {
            if s["minLength"].as_i64().unwrap_or(0) < 1 {
                s["minLength"] = json!(1);
            }
        }
    }
}

/// A record of `c` as `usage` shows or takes it: its properties and which are required.
pub(crate) fn record(c: &Collection, schema: &Schema, usage: Use) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    if usage == Use::Answer {
        props.insert(
            "collectionId".into(),
            json!({ "type": "string", "const": c.id }),
        );
        props.insert(
            "collectionName".into(),
            json!({ "type": "string", "const": c.name }),
        );
    }
    for f in &c.fields {
        let Some(s) = field(f, schema, usage) else {
            continue;
        };
        let auto_id = matches!(&f.kind, FieldKind::Text { primary_key: true, autogenerate_pattern, .. } if !autogenerate_pattern.is_empty());
        // (an answer names no required field: `fields=` picks what it holds)
        let mut s = s;
        if f.required && !auto_id && usage != Use::Answer {
            if usage == Use::Create {
                required.push(json!(f.name));
            }
            // PocketBase's "required" is "not the zero value"
            not_zero(&mut s, &f.kind, f.is_multi());
        }
        props.insert(f.name.clone(), s);
    }
    if c.is_auth() && usage != Use::Answer {
        props.insert(
            "passwordConfirm".into(),
            json!({ "type": "string", "writeOnly": true, "description": "the password again" }),
        );
        if usage == Use::Update {
            props.insert(
                "oldPassword".into(),
                json!({ "type": "string", "writeOnly": true, "description": "the current password (a superuser need not send it)" }),
            );
        } else {
            required.push(json!("passwordConfirm"));
        }
    }
    if usage == Use::Answer {
        props.insert(
            "expand".into(),
            json!({ "type": "object", "description": "the related records `expand` asked for, by relation", "additionalProperties": true }),
        );
    }
    let mut out = json!({ "type": "object", "properties": props });
    if !required.is_empty() {
        out["required"] = Value::Array(required);
    }
    out
}
