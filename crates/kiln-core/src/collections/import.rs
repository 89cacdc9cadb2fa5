//! Importing collections (a whole schema in one change set) and the scaffolds of new ones.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{clashes, ddl_error, prefix_errors, Op};
use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::schema::collection::{Collection, CollectionType};
use crate::schema::field::default_field_id;
use crate::schema::validate;
use crate::schema::Schema;

impl App {
    /// Imports collection definitions: existing ones (by id or name) take the imported values on
    /// top of their own (the fields an import leaves out are kept unless `delete_missing`), new
    /// ones are created, and with `delete_missing` the others (except system ones) deleted — all
    /// at once.
    pub async fn import_collections(&self, list: &[Value], delete_missing: bool) -> Result<()> {
        let _guard = self.lock_schema().await;
        let (ops, schema) = self.plan_import(&self.schema(), list, delete_missing)?;
        self.apply_ops(ops, schema)
            .await
            .map_err(|e| ddl_error(e, Action::ImportCollections))
    }

    /// The operations of an import onto `current`, in the order they apply, and the schema after.
    pub(super) fn plan_import(
        &self,
        current: &Schema,
        list: &[Value],
        delete_missing: bool,
    ) -> Result<(Vec<Op>, Schema)> {
        if list.is_empty() {
            return Err(CoreError::validation(
                Action::ValidateForm,
                "collections",
                FieldError::required(),
            ));
        }
        let mut schema = current.clone_schema();
        let mut ops = Vec::new();
        let mut errors = FieldErrors::new();
        let mut seen = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let existing = item
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| schema.by_id(id).cloned())
                .or_else(|| {
                    item.get("name")
                        .and_then(Value::as_str)
                        .and_then(|n| schema.get(n).cloned())
                });
            let step = match &existing {
                Some(old) => {
                    self.changed_collection(old, &with_kept_fields(old, item, delete_missing))
                }
                None => self.new_collection(item),
            };
            let c = match step {
                Ok(c) => c,
                Err(CoreError::Validation { errors: e, .. }) => {
                    errors.extend(prefix_errors(&format!("collections.{i}."), e));
                    continue;
                }
                Err(e) => return Err(e),
            };
            seen.push(c.id.clone());
            let mut errs = if existing.is_none() {
                clashes(&schema, &c)
            } else {
                FieldErrors::new()
            };
            schema = schema.with(c.clone());
            errs.extend(validate::validate(&schema, existing.as_deref(), &c));
            errors.extend(prefix_errors(&format!("collections.{i}."), errs));
            ops.push(match existing {
                Some(old) => Op::Migrate(old, c),
                None => Op::Create(c),
            });
        }
        if delete_missing {
            let doomed: Vec<Arc<Collection>> = schema
                .all()
                .iter()
                .filter(|c| !c.system && !seen.contains(&c.id))
                .cloned()
                .collect();
            for c in doomed {
                schema = schema.without(&c.id);
                ops.push(Op::Drop(c));
            }
            for c in schema.all() {
                if let Some((i, _)) = c.fields.iter().enumerate().find(|(_, f)| match &f.kind {
                    crate::schema::field::FieldKind::Relation { collection_id, .. } => {
                        schema.by_id(collection_id).is_none()
                    }
                    _ => false,
                }) {
                    errors.insert(
                        format!("collections.{}.fields.{i}.collectionId", c.name),
                        FieldError::new(
                            "validation_field_invalid_relation",
                            "The relation collection doesn't exist.",
                        ),
                    );
                }
            }
        }
        if !errors.is_empty() {
            return Err(CoreError::Validation {
                action: Action::ImportCollections,
                errors,
            });
        }
        // Drops go last so that migrated collections no longer point at what is dropped.
        ops.sort_by_key(|op| matches!(op, Op::Drop(_)));
        Ok((ops, schema))
    }

    /// PocketBase's empty collection templates per type.
    pub fn scaffolds(&self) -> Value {
        let mut out = Map::new();
        for kind in [
            CollectionType::View,
            CollectionType::Base,
            CollectionType::Auth,
        ] {
            let mut c = Collection::scaffold(kind);
            if kind == CollectionType::Auth {
                let suffix = crate::ids::random_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 10);
                c.indexes = vec![
                    format!("CREATE UNIQUE INDEX `idx_tokenKey_{suffix}` ON `` (`tokenKey`)"),
                    format!("CREATE UNIQUE INDEX `idx_email_{suffix}` ON `` (`email`) WHERE `email` != ''"),
                ];
            }
            out.insert(kind.as_str().into(), c.to_json(false));
        }
        Value::Object(out)
    }
}

/// `item` with the fields of `old` it leaves out added back, as PocketBase imports: every one
/// unless `delete_missing`, then only system fields. An imported field is a stored one when its
/// id is the stored one's — given, or, without one, the default id of its type and name. One with
/// another id but the name and type of a stored field is taken to be that field too (so its
/// column is kept, not dropped and created anew) and stays as stored.
fn with_kept_fields(old: &Collection, item: &Value, delete_missing: bool) -> Value {
    let mut item = item.clone();
    let Some(obj) = item.as_object_mut() else {
        return item;
    };
    let Some(fields) = (match obj.get_mut("fields") {
        Some(Value::Array(fields)) => Some(fields),
        None if delete_missing => {
            obj.insert("fields".into(), Value::Array(Vec::new()));
            obj.get_mut("fields").and_then(Value::as_array_mut)
        }
        _ => None,
    }) else {
        return item;
    };
    let stored = old.to_json(true);
    let stored_fields = stored["fields"].as_array().cloned().unwrap_or_default();
    for (f, json) in old.fields.iter().zip(stored_fields) {
        if delete_missing && !f.system {
            continue;
        }
        let id_of = |x: &Value| match x.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => default_field_id(
                x.get("type").and_then(Value::as_str).unwrap_or_default(),
                x.get("name").and_then(Value::as_str).unwrap_or_default(),
            ),
        };
        if fields.iter().any(|x| id_of(x) == f.id) {
            continue;
        }
        let same = fields.iter().position(|x| {
            x.get("name").and_then(Value::as_str) == Some(f.name.as_str())
                && x.get("type") == json.get("type")
        });
        match same {
            Some(i) => fields[i] = json,
            None => fields.push(json),
        }
    }
    item
}
