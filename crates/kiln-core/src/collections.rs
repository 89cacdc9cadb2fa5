//! The collections service: list, view, create, update (with data-preserving migration), delete,
//! truncate, import and scaffolds. Every change is validated against the whole schema, applied
//! in one write transaction and then published as a new schema snapshot.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use kiln_filter::{FilterError, Ident, Resolved, Resolver, SqlBuilder};

use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::records::query::{ListParams, DEFAULT_PER_PAGE, MAX_PER_PAGE};
use crate::rules::dialect::FilterDialect;
use crate::rules::resolver::to_db_params;
use crate::schema::collection::{default_collection_id, Collection, CollectionType};
use crate::schema::field::Field;
use crate::schema::index::IndexDef;
use crate::schema::{ddl, system, validate, Schema};

/// One page of collections.
pub struct CollectionPage {
    pub items: Vec<Arc<Collection>>,
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
}

/// Filters over `_collections` may use these columns.
const COLLECTION_COLUMNS: [&str; 11] = [
    "id",
    "name",
    "type",
    "system",
    "created",
    "updated",
    "listRule",
    "viewRule",
    "createRule",
    "updateRule",
    "deleteRule",
];

struct CollectionColumns;

impl Resolver for CollectionColumns {
    fn resolve(
        &mut self,
        ident: &Ident,
        _b: &mut SqlBuilder<'_>,
    ) -> std::result::Result<Resolved, FilterError> {
        if COLLECTION_COLUMNS.contains(&ident.raw.as_str()) {
            Ok(Resolved::value(
                format!("\"{}\"", ident.raw),
                ident.raw == "system",
            ))
        } else {
            Err(FilterError::UnknownField(ident.raw.clone()))
        }
    }
}

/// One schema operation of a change set.
enum Op {
    Create(Collection),
    Migrate(Arc<Collection>, Collection),
    Drop(Arc<Collection>),
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
            if let Some(a) = c.auth.as_mut() {
                a.ensure_secrets();
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
    /// Lists collections with a filter and sort over their columns.
    pub fn list_collections(&self, p: &ListParams) -> Result<CollectionPage> {
        let d = self.dialect();
        let fd = FilterDialect(d);
        let mut b = SqlBuilder::new(&fd);
        let mut where_sql = String::new();
        if !p.filter.trim().is_empty() {
            let expr = kiln_filter::parse(&p.filter, kiln_filter::Limits::default())?;
            let cond = kiln_filter::compile(
                &expr,
                &mut CollectionColumns,
                &mut b,
                &kiln_filter::CompileOptions {
                    now_ms: crate::datetime::now_ms(),
                },
            )?;
            where_sql = format!(" WHERE {cond}");
        }
        let mut order = Vec::new();
        for term in p.sort.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (desc, name) = match term.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, term.trim_start_matches('+')),
            };
            if !COLLECTION_COLUMNS.contains(&name) {
                return Err(CoreError::BadQuery(format!("cannot sort by {name:?}")));
            }
            order.push(format!("\"{name}\" {}", if desc { "DESC" } else { "ASC" }));
        }
        order.push("\"created\" ASC".into());
        order.push("\"name\" ASC".into());
        let per_page = match p.per_page {
            n if n <= 0 => DEFAULT_PER_PAGE,
            n => n.min(MAX_PER_PAGE),
        };
        let page = p.page.max(1);
        let params = to_db_params(b.into_params());
        let mut sql = format!(
            "SELECT id FROM _collections{where_sql} ORDER BY {}",
            order.join(", ")
        );
        sql.push_str(&format!(
            " LIMIT {per_page} OFFSET {}",
            (page - 1).saturating_mul(per_page)
        ));
        let count_sql = format!("SELECT COUNT(*) FROM _collections{where_sql}");
        let schema = self.schema();
        let (ids, total) = self.db().read(|conn| -> Result<(Vec<String>, i64)> {
            let mut ids = Vec::new();
            conn.query(&sql, &params, |r| {
                ids.push(r.text(0));
                Ok(())
            })?;
            let total = if p.skip_total {
                -1
            } else {
                conn.query_i64(&count_sql, &params)?
            };
            Ok((ids, total))
        })?;
        let items = ids
            .iter()
            .filter_map(|id| schema.by_id(id).cloned())
            .collect();
        let total_pages = if total < 0 {
            -1
        } else {
            (total + per_page - 1) / per_page
        };
        Ok(CollectionPage {
            items,
            page,
            per_page,
            total_items: total,
            total_pages,
        })
    }

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
            .write(move |conn| -> Result<()> {
                for op in &ops {
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
            })
            .await?;
        self.set_schema(next);
        self.announce_schema_change();
        Ok(())
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

    /// The next state of `old` after `patch` (merged) or `replacement` (import).
    fn changed_collection(
        &self,
        old: &Collection,
        patch: &Value,
        replace: bool,
    ) -> Result<Collection> {
        if !patch.is_object() {
            return Err(CoreError::InvalidFormat(
                "a collection must be an object".into(),
            ));
        }
        let mut merged = if replace {
            patch.clone()
        } else {
            old.to_json(true)
        };
        if !replace {
            merge(&mut merged, patch);
        }
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

    /// Fields of a view collection, read from its query's columns.
    fn view_fields(&self, c: &Collection) -> Result<Vec<Field>> {
        let q = c.view_query.trim().trim_end_matches(';');
        if q.is_empty() {
            return Ok(vec![]);
        }
        if q.contains(';')
            || !q
                .get(..6)
                .map(|s| s.eq_ignore_ascii_case("select"))
                .unwrap_or(false)
        {
            return Err(CoreError::validation(
                Action::CreateCollection,
                "viewQuery",
                FieldError::new(
                    "validation_invalid_view_query",
                    "The view query must be a single SELECT statement.",
                ),
            ));
        }
        let cols = self.db().read(|conn| conn.columns_of(q)).map_err(|e| {
            CoreError::validation(
                Action::CreateCollection,
                "viewQuery",
                FieldError::new(
                    "validation_invalid_view_query",
                    format!("Invalid query - {e}"),
                ),
            )
        })?;
        if !cols.iter().any(|c| c == "id") {
            return Err(CoreError::validation(
                Action::CreateCollection,
                "viewQuery",
                FieldError::new(
                    "validation_missing_view_id",
                    "The view query must select an \"id\" column.",
                ),
            ));
        }
        let schema = self.schema();
        let exprs = select_exprs(q);
        let sources: Vec<Arc<Collection>> = from_tables(q)
            .iter()
            .filter_map(|t| schema.get(t).cloned())
            .collect();
        let mut fields = Vec::new();
        for (i, col) in cols.into_iter().enumerate() {
            if col == "id" {
                let mut f = Field::id_field();
                if let crate::schema::field::FieldKind::Text {
                    min,
                    max,
                    autogenerate_pattern,
                    ..
                } = &mut f.kind
                {
                    *min = 0;
                    *max = 0;
                    autogenerate_pattern.clear();
                }
                fields.push(f);
                continue;
            }
            let expr = exprs.get(i).map(String::as_str).unwrap_or(col.as_str());
            fields.push(view_field(&col, expr, &sources));
        }
        Ok(fields)
    }

    /// The fields a view collection with `query` would have, and its first 10 records
    /// (PocketBase's `POST /api/collections/meta/dry-run-view`, for superusers).
    pub fn dry_run_view(&self, query: &str) -> Result<Value> {
        crate::sql::check_query(query)?;
        // every failure is the query's, told in its own words
        let invalid = |e: CoreError| {
            CoreError::InvalidViewQuery(match e {
                CoreError::Validation { errors, .. } => errors
                    .into_values()
                    .next()
                    .map(|e| e.message)
                    .unwrap_or_default(),
                CoreError::Db(kiln_db::DbError::Query(m)) => m,
                other => other.to_string(),
            })
        };
        let name = format!("temp_view_{}", crate::ids::new_secret(5));
        let mut c =
            Collection::from_json(&json!({"name": name, "type": "view", "viewQuery": query}))
                .map_err(|e| CoreError::InvalidViewQuery(e.0))?;
        c.fields = self.view_fields(&c).map_err(invalid)?;
        let c = Arc::new(c);
        let d = self.dialect();
        let columns: Vec<String> = c.fields.iter().map(|f| d.quote(&f.name)).collect();
        let q = c.view_query.trim().trim_end_matches(';');
        // wrapped in a second SELECT, as PocketBase does, against inline extra statements
        let sql = format!(
            "SELECT {} FROM (SELECT * FROM ({q}) AS {}) AS {} LIMIT 10",
            columns.join(", "),
            d.quote("_kq"),
            d.quote(&name)
        );
        let mut sample = Vec::new();
        self.db()
            .read(|conn| {
                conn.query(&sql, &[], |row| {
                    sample.push(crate::records::model::Record::from_row(&c, row));
                    Ok(())
                })
            })
            .map_err(|e| invalid(CoreError::Db(e)))?;
        let mut ids = std::collections::HashSet::new();
        for r in &sample {
            if r.id().is_empty() {
                return Err(CoreError::InvalidViewQuery(
                    "the query could return records with empty or invalid ids".into(),
                ));
            }
            if !ids.insert(r.id().to_owned()) {
                return Err(CoreError::InvalidViewQuery(
                    "the query could return records with non-unique ids".into(),
                ));
            }
        }
        let viewer = crate::records::Viewer {
            superuser: true,
            auth: None,
        };
        let fields: Vec<Value> = c.fields.iter().map(Field::to_json).collect();
        let sample: Vec<Value> = sample.iter().map(|r| r.to_json(d, &viewer)).collect();
        Ok(json!({ "fields": fields, "sample": sample }))
    }

    /// Creates a collection from its JSON definition.
    pub async fn create_collection(&self, body: &Value) -> Result<Arc<Collection>> {
        if let Some(Value::String(t)) = body.get("type") {
            if CollectionType::parse(t).is_none() {
                let e = FieldError::new("validation_in_invalid", "Must be a valid value.");
                return Err(CoreError::validation(Action::CreateCollection, "type", e));
            }
        }
        let _guard = self.lock_schema().await;
        let c = self.new_collection(body)?;
        let current = self.schema();
        let next = current.with(c.clone());
        let mut errors = validate::validate(&next, None, &c);
        errors.extend(clashes(&current, &c));
        if !errors.is_empty() {
            return Err(CoreError::Validation {
                action: Action::CreateCollection,
                errors,
            });
        }
        let id = c.id.clone();
        self.apply_ops(vec![Op::Create(c)], next)
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
        let current = self.schema();
        let old = current
            .get(id_or_name)
            .cloned()
            .ok_or(CoreError::NotFound)?;
        let c = self
            .changed_collection(&old, patch, false)
            .map_err(|e| relabel(e, Action::UpdateCollection))?;
        let next = current.with(c.clone());
        let errors = validate::validate(&next, Some(&old), &c);
        if !errors.is_empty() {
            return Err(CoreError::Validation {
                action: Action::UpdateCollection,
                errors,
            });
        }
        let id = c.id.clone();
        self.apply_ops(vec![Op::Migrate(old, c)], next)
            .await
            .map_err(|e| ddl_error(e, Action::UpdateCollection))?;
        self.collection(&id)
    }

    /// Deletes a collection and its table. System collections and collections other collections
    /// relate to cannot be deleted.
    pub async fn delete_collection(&self, id_or_name: &str) -> Result<()> {
        let _guard = self.lock_schema().await;
        let current = self.schema();
        let c = current
            .get(id_or_name)
            .cloned()
            .ok_or(CoreError::NotFound)?;
        if c.system {
            return Err(CoreError::SystemCollection);
        }
        let views = reading_views(&current, &c);
        match referencing(&current, &c) {
            Some(other) => {
                let mut names = vec![other];
                names.extend(views);
                return Err(CoreError::CollectionReferenced(names.join(", ")));
            }
            None if !views.is_empty() => return Err(CoreError::Failed(Action::DeleteCollection)),
            None => {}
        }
        let next = current.without(&c.id);
        let prefix = format!("{}/", c.id);
        self.apply_ops(vec![Op::Drop(c)], next).await?;
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
            .write(move |conn| -> Result<Vec<crate::records::model::Record>> {
                let table = conn.dialect().quote(&c.name);
                if !referenced {
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

    /// Records count of a collection (used by tools and tests).
    pub fn count_records(&self, c: &Collection) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", self.dialect().quote(&c.name));
        self.db()
            .read(|conn| conn.query_i64(&sql, &[]).map_err(CoreError::from))
    }
}

impl Schema {
    fn clone_schema(&self) -> Schema {
        Schema::new(self.all().iter().map(|c| (**c).clone()).collect())
    }
}

/// The expressions of a SELECT list (top-level commas), with any `AS alias` removed.
fn select_exprs(q: &str) -> Vec<String> {
    let lower = q.to_ascii_lowercase();
    let start = lower.find("select").map(|i| i + 6).unwrap_or(0);
    let mut depth = 0i32;
    let mut items = Vec::new();
    let mut cur = String::new();
    let bytes: Vec<char> = q[start..].chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let ch = bytes[i];
        if depth == 0 {
            let rest: String = bytes[i..bytes.len().min(i + 6)]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            if rest.starts_with("from")
                && bytes
                    .get(i + 4)
                    .map(|c| !c.is_alphanumeric() && *c != '_')
                    .unwrap_or(true)
                && (i == 0 || !bytes[i - 1].is_alphanumeric())
            {
                break;
            }
        }
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut cur));
                i += 1;
                continue;
            }
            _ => {}
        }
        cur.push(ch);
        i += 1;
    }
    items.push(cur);
    items
        .into_iter()
        .map(|it| {
            let t = it.trim();
            let l = t.to_ascii_lowercase();
            match l.rfind(" as ") {
                Some(p) => t[..p].trim().to_owned(),
                None => t.to_owned(),
            }
        })
        .collect()
}

/// Table names following FROM and JOIN.
fn from_tables(q: &str) -> Vec<String> {
    let words: Vec<&str> = q
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for pair in words.windows(2) {
        if pair[0].eq_ignore_ascii_case("from") || pair[0].eq_ignore_ascii_case("join") {
            out.push(
                pair[1]
                    .trim_matches(|c| c == '`' || c == '"' || c == '[' || c == ']')
                    .to_owned(),
            );
        }
    }
    out
}

/// The field of a view column: a clone of the source field for a plain column, an integer
/// number for `count(…)`, JSON otherwise (PocketBase's inference).
fn view_field(name: &str, expr: &str, sources: &[Arc<Collection>]) -> Field {
    use crate::schema::field::FieldKind;
    let bare = expr
        .rsplit('.')
        .next()
        .unwrap_or(expr)
        .trim_matches(|c| c == '`' || c == '"');
    let is_ident = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if is_ident {
        if let Some(src) = sources.iter().find_map(|c| c.field(bare)) {
            if !matches!(src.kind, FieldKind::Password { .. }) {
                let mut f = src.clone();
                f.name = name.to_owned();
                f.system = false;
                f.id = crate::schema::field::default_field_id(f.kind.type_name(), name);
                return f;
            }
        }
    }
    if expr.trim_start().to_ascii_lowercase().starts_with("count(") {
        return Field::new(
            name,
            FieldKind::Number {
                min: None,
                max: None,
                only_int: true,
            },
        );
    }
    Field::new(name, FieldKind::Json { max_size: 1 })
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
