//! Importing collections (a whole schema in one change set) and the scaffolds of new ones.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{clashes, ddl_error, prefix_errors, Op};
use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::schema::collection::{Collection, CollectionType};
use crate::schema::validate;

impl App {
    /// Imports collection definitions: existing ones (by id or name) are replaced, new ones
    /// created, and with `delete_missing` the others (except system ones) deleted — all at once.
    pub async fn import_collections(&self, list: &[Value], delete_missing: bool) -> Result<()> {
        if list.is_empty() {
            return Err(CoreError::validation(
                Action::ValidateForm,
                "collections",
                FieldError::required(),
            ));
        }
        let _guard = self.lock_schema().await;
        let mut schema = (*self.schema()).clone_schema();
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
                Some(old) => self.changed_collection(old, item, true),
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
        self.apply_ops(ops, schema)
            .await
            .map_err(|e| ddl_error(e, Action::ImportCollections))
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
