//! The collections service: list, view, create, update (with data-preserving migration), delete,
//! truncate, import and scaffolds. Every change is validated against the whole schema, applied
//! in one write transaction and then published as a new schema snapshot.

pub(crate) mod import;
pub(crate) mod in_tx;
pub mod list;
pub(crate) mod view;

use std::sync::Arc;

use serde_json::{json, Value};

use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::schema::collection::{default_collection_id, Collection, CollectionType};
use crate::schema::field::Field;
use crate::schema::index::IndexDef;
use crate::schema::{ddl, system, validate, Schema};

/// One schema operation of a change set.
enum Op {
    Create(Collection),
    Migrate(Arc<Collection>, Collection),
    Drop(Arc<Collection>),
}

impl Op {
    /// The collection's id.
    fn id(&self) -> &str {
        match self {
            Op::Create(c) | Op::Migrate(_, c) => &c.id,
            Op::Drop(c) => &c.id,
        }
    }
}

/// Applies `ops` on `conn` (a transaction): the tables and the stored definitions.
fn apply_ops_on(conn: &kiln_db::Conn<'_>, ops: &[Op]) -> Result<()> {
    for op in ops {
        match op {
            Op::Create(c) => {
                ddl::create(conn, c)?;
                system::save(conn, c)?;
            }
            Op::Migrate(old, new) => {
                ddl::migrate(conn, old, new)?;
                system::save(conn, new)?;
            }
            Op::Drop(c) => {
                ddl::drop(conn, c)?;
                system::remove(conn, &c.id)?;
            }
        }
    }
    Ok(())
}

/// Object keys merge recursively; anything else replaces.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn rename_index_table(raw: &str, table: &str) -> String {
    match IndexDef::parse(raw) {
        Some(idx) => idx.to_sql(table, |s| format!("`{s}`")),
        None => raw.to_owned(),
    }
}

/// Completes a definition with what its type requires (id field, auth fields and indexes).
fn complete(c: &mut Collection) {
    match c.kind {
        CollectionType::Base => {
            if !c.fields.iter().any(|f| f.name == "id") {
                c.fields.insert(0, Field::id_field());
            }
        }
        CollectionType::Auth => {
            c.ensure_auth_fields();
            let superusers = c.name == system::SUPERUSERS;
            if let Some(a) = c.auth.as_mut() {
                a.ensure_secrets();
                if superusers {
                    // As PocketBase: no OAuth2 sign-in (it could create a superuser), always a
                    // password, and an OTP only as the second factor of MFA.
                    a.oauth2.enabled = false;
                    a.oauth2.providers.clear();
                    a.password_auth.enabled = true;
                    a.mfa.enabled |= a.otp.enabled;
                }
            }
            c.ensure_auth_indexes();
        }
        CollectionType::View => {}
    }
}

fn prefix_errors(prefix: &str, errors: FieldErrors) -> FieldErrors {
    errors
        .into_iter()
        .map(|(k, v)| (format!("{prefix}{k}"), v))
        .collect()
}

impl App {
    /// A collection by id or name.
    pub fn collection(&self, id_or_name: &str) -> Result<Arc<Collection>> {
        self.schema()
            .get(id_or_name)
            .cloned()
            .ok_or(CoreError::NotFound)
    }

    /// Applies a set of operations in one transaction and publishes the resulting schema.
    async fn apply_ops(&self, ops: Vec<Op>, next: Schema) -> Result<()> {
        self.db()
            .write_long(move |conn| apply_ops_on(conn, &ops))
            .await?;
        self.set_schema(next);
        self.announce_schema_change();
        Ok(())
    }

    /// A new collection from `body` checked against `current`: the operation and the schema
    /// after it.
    fn plan_collection_create(&self, current: &Schema, body: &Value) -> Result<(Op, Schema)> {
        if let Some(Value::String(t)) = body.get("type") {
            if CollectionType::parse(t).is_none() {
                let e = FieldError::new("validation_in_invalid", "Must be a valid value.");
                return Err(CoreError::validation(Action::CreateCollection, "type", e));
            }
        }
        let c = self.new_collection(body)?;
        let next = current.with(c.clone());
        let mut errors = validate::validate(&next, None, &c);
        errors.extend(clashes(current, &c));
        if !errors.is_empty() {
            return Err(CoreError::Validation {
                action: Action::CreateCollection,
                errors,
            });
        }
        Ok((Op::Create(c), next))
    }

    /// Collection `id_or_name` of `current` changed by `patch`, checked.
    fn plan_collection_update(
        &self,
        current: &Schema,
        id_or_name: &str,
        patch: &Value,
    ) -> Result<(Op, Schema)> {
        let old = current
            .get(id_or_name)
            .cloned()
            .ok_or(CoreError::NotFound)?;
        let c = self
            .changed_collection(&old, patch)
            .map_err(|e| relabel(e, Action::UpdateCollection))?;
        let next = current.with(c.clone());
        let errors = validate::validate(&next, Some(&old), &c);
        if !errors.is_empty() {
            return Err(CoreError::Validation {
                action: Action::UpdateCollection,
                errors,
            });
        }
        Ok((Op::Migrate(old, c), next))
    }

    /// Collection `id_or_name` of `current` dropped, if nothing keeps it.
    fn plan_collection_delete(&self, current: &Schema, id_or_name: &str) -> Result<(Op, Schema)> {
        let c = current
            .get(id_or_name)
            .cloned()
            .ok_or(CoreError::NotFound)?;
        if c.system {
            return Err(CoreError::SystemCollection);
        }
        let views = reading_views(current, &c);
        match referencing(current, &c) {
            Some(other) => {
                let mut names = vec![other];
                names.extend(views);
                return Err(CoreError::CollectionReferenced(names.join(", ")));
            }
            None if !views.is_empty() => return Err(CoreError::Failed(Action::DeleteCollection)),
            None => {}
        }
        let next = current.without(&c.id);
        Ok((Op::Drop(c), next))
    }

    /// Prepares a new collection from its JSON definition.
    fn new_collection(&self, body: &Value) -> Result<Collection> {
        if !body.is_object() {
            return Err(CoreError::InvalidFormat(
                "a collection must be an object".into(),
            ));
        }
        let mut c = Collection::from_json(body).map_err(|e| CoreError::InvalidFormat(e.0))?;
        if c.id.is_empty() {
            c.id = default_collection_id(c.kind, &c.name);
        }
        c.system = false;
        c.created = crate::datetime::now_string();
        c.updated = c.created.clone();
        complete(&mut c);
        if c.is_view() {
            c.fields = self.view_fields(&c)?;
        }
        Ok(c)
    }

    /// The next state of `old` after `patch`, merged onto it as PocketBase unmarshals a body onto
    /// the stored collection: objects merge key by key, anything else (fields, indexes) replaces.
    fn changed_collection(&self, old: &Collection, patch: &Value) -> Result<Collection> {
        if !patch.is_object() {
            return Err(CoreError::InvalidFormat(
                "a collection must be an object".into(),
            ));
        }
        let mut merged = old.to_json(true);
        merge(&mut merged, patch);
        merged["id"] = json!(old.id);
        let mut c = Collection::from_json(&merged).map_err(|e| CoreError::InvalidFormat(e.0))?;
        c.created = old.created.clone();
        c.updated = crate::datetime::now_string();
        c.system = old.system;
        if let (Some(new_auth), Some(old_auth)) = (c.auth.as_mut(), old.auth.as_ref()) {
            // Secrets are never sent to clients; an update without them keeps the old ones.
            for (n, o) in [
                (&mut new_auth.auth_token, &old_auth.auth_token),
                (
                    &mut new_auth.password_reset_token,
                    &old_auth.password_reset_token,
                ),
                (
                    &mut new_auth.email_change_token,
                    &old_auth.email_change_token,
                ),
                (
                    &mut new_auth.verification_token,
                    &old_auth.verification_token,
                ),
                (&mut new_auth.file_token, &old_auth.file_token),
            ] {
                if n.secret.is_empty() {
                    n.secret = o.secret.clone();
                }
            }
            for p in new_auth
                .oauth2
                .providers
                .iter_mut()
                .filter(|p| p.client_secret.is_empty())
            {
                if let Some(o) = old_auth.oauth2.providers.iter().find(|o| o.name == p.name) {
                    p.client_secret = o.client_secret.clone();
                }
            }
        }
        if c.name != old.name {
            c.indexes = c
                .indexes
                .iter()
                .map(|i| rename_index_table(i, &c.name))
                .collect();
        }
        complete(&mut c);
        if c.is_view() {
            c.fields = self.view_fields(&c)?;
        }
        Ok(c)
    }

    /// Creates a collection from its JSON definition.
    pub async fn create_collection(&self, body: &Value) -> Result<Arc<Collection>> {
        let _guard = self.lock_schema().await;
        let (op, next) = self.plan_collection_create(&self.schema(), body)?;
        let id = op.id().to_owned();
        self.apply_ops(vec![op], next)
            .await
            .map_err(|e| ddl_error(e, Action::CreateCollection))?;
        self.collection(&id)
    }

    /// Updates a collection with a partial JSON definition, migrating its table.
    pub async fn update_collection(
        &self,
        id_or_name: &str,
        patch: &Value,
    ) -> Result<Arc<Collection>> {
        let _guard = self.lock_schema().await;
        let (op, next) = self.plan_collection_update(&self.schema(), id_or_name, patch)?;
        let id = op.id().to_owned();
        self.apply_ops(vec![op], next)
            .await
            .map_err(|e| ddl_error(e, Action::UpdateCollection))?;
        self.collection(&id)
    }

    /// Deletes a collection and its table. System collections and collections other collections
    /// relate to cannot be deleted.
    pub async fn delete_collection(&self, id_or_name: &str) -> Result<()> {
        let _guard = self.lock_schema().await;
        let (op, next) = self.plan_collection_delete(&self.schema(), id_or_name)?;
        let prefix = format!("{}/", op.id());
        self.apply_ops(vec![op], next).await?;
        self.remove_blob_prefix(&prefix).await;
        Ok(())
    }

    /// Removes every blob under `prefix` (a collection's files); failures are logged.
    async fn remove_blob_prefix(&self, prefix: &str) {
        if let Err(e) = self.storage().delete_prefix(prefix).await {
            tracing::warn!(error = %e, prefix, "cannot delete files");
        }
    }

    /// Deletes every record of a collection, resolving relations to them.
    pub async fn truncate_collection(&self, id_or_name: &str) -> Result<()> {
        let c = self.collection(id_or_name)?;
        if c.is_view() {
            return Err(CoreError::Failed(Action::DeleteRecord));
        }
        let schema = self.schema();
        let referenced = referencing(&schema, &c).is_some() || c.is_auth();
        let prefix = format!("{}/", c.id);
        let deleted = self
            .db()
            .write_long(move |conn| -> Result<Vec<crate::records::model::Record>> {
                let table = conn.dialect().quote(&c.name);
                if !referenced {
                    // SQLite empties the table at once, without reporting the rows
                    conn.forget_counts();
                    conn.execute(&format!("DELETE FROM {table}"), &[])?;
                    return Ok(Vec::new());
                }
                let mut ids = Vec::new();
                conn.query(&format!("SELECT \"id\" FROM {table}"), &[], |r| {
                    ids.push(r.text(0));
                    Ok(())
                })?;
                let mut deleted = Vec::new();
                for id in ids {
                    crate::records::write::steps::delete_cascade(
                        conn,
                        &schema,
                        &c,
                        &id,
                        0,
                        &mut deleted,
                        None,
                    )
                    .map_err(|e| match e {
                        CoreError::RequiredReference => CoreError::TruncateBlocked,
                        other => other,
                    })?;
                }
                Ok(deleted)
            })
            .await?;
        self.remove_blob_prefix(&prefix).await;
        self.remove_record_blobs(&deleted).await;
        Ok(())
    }
}

impl Schema {
    fn clone_schema(&self) -> Schema {
        Schema::new(self.all().iter().map(|c| (**c).clone()).collect())
    }
}

/// A new collection's id or name taken by an existing one.
fn clashes(current: &Schema, c: &Collection) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if current
        .all()
        .iter()
        .any(|x| x.name.eq_ignore_ascii_case(&c.name))
    {
        errors.insert(
            "name".into(),
            FieldError::new(
                "validation_collection_name_exists",
                "Collection name must be unique (case insensitive).",
            ),
        );
    } else if current.by_id(&c.id).is_some() {
        errors.insert(
            "id".into(),
            FieldError::new(
                "validation_collection_id_exists",
                "Collection id must be unique.",
            ),
        );
    }
    errors
}

/// View collections whose query reads the table of `c` (a word match on its name).
fn reading_views(schema: &Schema, c: &Collection) -> Vec<String> {
    let name = c.name.to_ascii_lowercase();
    schema
        .all()
        .iter()
        .filter(|v| v.is_view() && v.id != c.id)
        .filter(|v| {
            v.view_query
                .to_ascii_lowercase()
                .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .any(|w| w == name)
        })
        .map(|v| v.name.clone())
        .collect()
}

/// The name of another collection with a relation to `c`, if any.
fn referencing(schema: &Schema, c: &Collection) -> Option<String> {
    schema.all().iter().filter(|o| o.id != c.id).find_map(|o| {
        o.fields
            .iter()
            .any(|f| matches!(&f.kind, crate::schema::field::FieldKind::Relation { collection_id, .. } if collection_id == &c.id))
            .then(|| o.name.clone())
    })
}

fn relabel(e: CoreError, action: Action) -> CoreError {
    match e {
        CoreError::Validation { errors, .. } => CoreError::Validation { action, errors },
        other => other,
    }
}

/// A database error while applying DDL (e.g. an index WHERE clause SQLite rejects) becomes a
/// validation error of the change rather than a server error.
fn ddl_error(e: CoreError, action: Action) -> CoreError {
    match e {
        CoreError::Db(kiln_db::DbError::Query(m))
        | CoreError::Db(kiln_db::DbError::UniqueViolation(m))
        | CoreError::Db(kiln_db::DbError::Constraint(m)) => {
            tracing::info!(error = %m, "schema change rejected by the database");
            CoreError::validation(
                action,
                "indexes",
                FieldError::new(
                    "validation_invalid_index_expression",
                    "The schema change was rejected by the database (check the indexes).",
                ),
            )
        }
        other => other,
    }
}
