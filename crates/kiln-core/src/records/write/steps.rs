//! The steps every record write shares: applying the body (modifiers in PocketBase's order),
//! the body rules see, protected fields, generated values, validation, password changes and the
//! relations a delete resolves.

use serde_json::{Map, Value};

use kiln_db::{Conn, DbError, Value as DbValue};

use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::records::model::{relation_ids, Record};
use crate::records::values::{prepare, split_key, validate, validate_password, Modifier};
use crate::schema::collection::Collection;
use crate::schema::field::FieldKind;
use crate::schema::Schema;

/// Calls `f` on the body's entries in the order PocketBase applies them: shorter keys first
/// (stable), so `n` is set before `n+` adds to it whatever order the client wrote them in.
fn in_apply_order<'b>(body: &'b Map<String, Value>, mut f: impl FnMut(&'b String, &'b Value)) {
    if body.keys().map(String::len).is_sorted() {
        body.iter().for_each(|(k, v)| f(k, v));
        return;
    }
    let mut entries: Vec<(&String, &Value)> = body.iter().collect();
    entries.sort_by_key(|(k, _)| k.len());
    entries.into_iter().for_each(|(k, v)| f(k, v));
}

/// Applies the body's field values (with modifiers) to `rec`. Hidden fields are set only by
/// superusers; `privileged` (superusers and auth managers) may also set `verified` and `email`.
pub(super) fn apply_body(
    rec: &mut Record,
    body: &Map<String, Value>,
    superuser: bool,
    privileged: bool,
    creating: bool,
) {
    let c = rec.collection.clone();
    in_apply_order(body, |key, raw| {
        let (name, modifier) = split_key(key);
        let Some(i) = c.field_index(name) else { return };
        let f = &c.fields[i];
        if matches!(
            f.kind,
            FieldKind::Autodate { .. } | FieldKind::Password { .. }
        ) || (f.hidden && !superuser)
        {
            return;
        }
        if c.is_auth() {
            match name {
                "tokenKey" if !superuser => return,
                "verified" | "email" if !privileged && !creating => return,
                "verified" if !privileged => return,
                _ => {}
            }
        }
        if (name == "id" && !creating) || !crate::records::values::accepts(f, modifier) {
            return;
        }
        if modifier == Modifier::Autogenerate {
            if let FieldKind::Text {
                autogenerate_pattern,
                ..
            } = &f.kind
            {
                if let Some(v) = crate::ids::from_pattern(autogenerate_pattern) {
                    rec.values[i] = Value::String(v);
                }
            }
            return;
        }
        rec.values[i] = prepare(f, &rec.values[i], raw, modifier);
    });
}

/// The body as create and update rules see it (`@request.body`), built as PocketBase builds it:
/// every key that names a field, with or without a modifier, is replaced by the value the field
/// gets from it, under the field's plain name (so `{"n+": 5}` reads as `n` = old + 5 and
/// `@request.body.n:isset` holds), and hidden fields are left out for non-superusers (the
/// password of an auth collection excepted). `base` is the record before the change;
/// `applied` after it (it holds the values `:autogenerate` drew).
pub(super) fn rule_body(
    base: &Record,
    applied: &Record,
    body: &Map<String, Value>,
    superuser: bool,
) -> Map<String, Value> {
    let c = &base.collection;
    let mut values = base.values.clone();
    let mut out = body.clone();
    in_apply_order(body, |key, raw| {
        let (name, modifier) = split_key(key);
        let Some(i) = c.field_index(name) else { return };
        let f = &c.fields[i];
        if matches!(f.kind, FieldKind::Password { .. })
            || !crate::records::values::accepts(f, modifier)
        {
            return;
        }
        values[i] = match modifier {
            Modifier::Autogenerate => applied.values[i].clone(),
            _ => prepare(f, &values[i], raw, modifier),
        };
        out.shift_remove(key.as_str());
        out.insert(name.to_owned(), values[i].clone());
    });
    if !superuser {
        for f in c
            .fields
            .iter()
            .filter(|f| f.hidden && !matches!(f.kind, FieldKind::Password { .. }))
        {
            out.shift_remove(f.name.as_str());
        }
    }
    out
}

/// Body values a caller without manage access may not change: the id of an existing record, and
/// `verified` / `email` of auth records (PocketBase requires them equal to the current value).
pub(super) fn protected_changes(
    c: &Collection,
    body: &Map<String, Value>,
    original: Option<&Record>,
    privileged: bool,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let (Some(orig), Some(id)) = (original, body.get("id")) {
        if crate::records::values::to_text(id) != orig.id() {
            errors.insert(
                "id".into(),
                FieldError::new(
                    "validation_pk_change",
                    "The record primary key cannot be changed.",
                ),
            );
        }
    }
    if c.is_auth() && !privileged {
        let mismatch = || FieldError::new("validation_values_mismatch", "Values don't match.");
        if let Some(v) = body.get("verified") {
            let current = original
                .map(|o| o.get("verified").and_then(Value::as_bool).unwrap_or(false))
                .unwrap_or(false);
            if crate::records::values::to_text(v) != current.to_string() {
                errors.insert("verified".into(), mismatch());
            }
        }
        if let (Some(orig), Some(v)) = (original, body.get("email")) {
            if crate::records::values::to_text(v) != orig.get_str("email") {
                errors.insert("email".into(), mismatch());
            }
        }
    }
    errors
}

/// Fills empty autogenerated text fields and the autodate fields.
pub(super) fn fill_generated(rec: &mut Record, creating: bool, now: &str) {
    let c = rec.collection.clone();
    for (i, f) in c.fields.iter().enumerate() {
        match &f.kind {
            FieldKind::Text {
                autogenerate_pattern,
                ..
            } if creating
                && !autogenerate_pattern.is_empty()
                && rec.values[i].as_str().map(str::is_empty).unwrap_or(true) =>
            {
                if let Some(v) = crate::ids::from_pattern(autogenerate_pattern) {
                    rec.values[i] = Value::String(v);
                }
            }
            FieldKind::Autodate {
                on_create,
                on_update,
            } if ((creating && *on_create) || (!creating && *on_update)) => {
                rec.values[i] = Value::String(now.to_owned());
            }
            _ => {}
        }
    }
}

/// Field validation that needs the database: relation targets, uniqueness.
pub(super) fn validate_all(
    conn: &Conn<'_>,
    schema: &Schema,
    rec: &Record,
    original: Option<&Record>,
    errors: &mut FieldErrors,
) -> Result<()> {
    let c = &rec.collection;
    let d = conn.dialect();
    for (i, f) in c.fields.iter().enumerate() {
        if errors.contains_key(&f.name) || matches!(f.kind, FieldKind::Password { .. }) {
            continue;
        }
        let v = &rec.values[i];
        // Unchanged values that were valid when stored are not re-checked (options may have
        // tightened since), as PocketBase does for untouched fields.
        if let Some(o) = original {
            if &o.values[i] == v && !f.required {
                continue;
            }
        }
        if let Err(e) = validate(f, v) {
            errors.insert(f.name.clone(), e);
            continue;
        }
        if let FieldKind::Relation { collection_id, .. } = &f.kind {
            let ids = relation_ids(v);
            if ids.is_empty() {
                continue;
            }
            let ok = match schema.by_id(collection_id) {
                Some(target) => {
                    let placeholders: Vec<String> =
                        (1..=ids.len()).map(|n| d.placeholder(n)).collect();
                    let sql = format!(
                        "SELECT COUNT(*) FROM {} WHERE \"id\" IN ({})",
                        d.quote(&target.name),
                        placeholders.join(", ")
                    );
                    let params: Vec<DbValue> =
                        ids.iter().map(|s| DbValue::Text((*s).to_owned())).collect();
                    conn.query_i64(&sql, &params)? == ids.len() as i64
                }
                None => false,
            };
            if !ok {
                errors.insert(
                    f.name.clone(),
                    FieldError::new(
                        "validation_missing_rel_records",
                        "Failed to find all relation records with the provided ids.",
                    ),
                );
            }
        }
    }
    if c.is_auth() && !errors.contains_key("email") {
        let email = rec.get_str("email");
        if !email.is_empty() {
            let sql = format!(
                "SELECT COUNT(*) FROM {} WHERE \"email\" = ?1 AND \"id\" != ?2",
                d.quote(&c.name)
            );
            if conn.query_i64(&sql, &[email.into(), rec.id().into()])? > 0 {
                errors.insert(
                    "email".into(),
                    FieldError::new("validation_not_unique", "Value must be unique."),
                );
            }
        }
    }
    Ok(())
}

/// Turns a UNIQUE constraint failure into field errors (`UNIQUE constraint failed: t.a, t.b`).
fn unique_errors(msg: &str, c: &Collection) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let cols = msg.rsplit(':').next().unwrap_or("");
    for part in cols.split(',') {
        let name = part.trim().rsplit('.').next().unwrap_or("").trim();
        if c.field(name).is_some() {
            errors.insert(
                name.to_owned(),
                FieldError::new("validation_not_unique", "Value must be unique."),
            );
        }
    }
    if errors.is_empty() {
        errors.insert(
            "id".into(),
            FieldError::new("validation_not_unique", "Value must be unique."),
        );
    }
    errors
}

pub(super) fn map_write_err(e: CoreError, c: &Collection, action: Action) -> CoreError {
    match e {
        CoreError::Db(DbError::UniqueViolation(m)) => CoreError::Validation {
            action,
            errors: unique_errors(&m, c),
        },
        other => other,
    }
}

/// Passwords submitted in a body, checked and hashed before the transaction.
pub(super) struct PasswordChange {
    pub(super) hash: String,
}

impl App {
    pub(super) async fn password_change(
        &self,
        c: &Collection,
        body: &Map<String, Value>,
        existing: Option<&Record>,
        privileged: bool,
        errors: &mut FieldErrors,
    ) -> Result<Option<PasswordChange>> {
        let Some(field) = c
            .fields
            .iter()
            .find(|f| matches!(f.kind, FieldKind::Password { .. }))
        else {
            return Ok(None);
        };
        let plain = body.get(&field.name).map(crate::records::values::to_text);
        let creating = existing.is_none();
        let plain = match plain {
            Some(p) if !p.is_empty() => p,
            _ => {
                if creating && field.required {
                    errors.insert(field.name.clone(), FieldError::required());
                }
                return Ok(None);
            }
        };
        if let Err(e) = validate_password(field, &plain) {
            errors.insert(field.name.clone(), e);
            return Ok(None);
        }
        if c.is_auth() {
            let confirm = body
                .get("passwordConfirm")
                .map(crate::records::values::to_text)
                .unwrap_or_default();
            if confirm.is_empty() {
                errors.insert("passwordConfirm".into(), FieldError::required());
                return Ok(None);
            }
            if confirm != plain {
                errors.insert(
                    "passwordConfirm".into(),
                    FieldError::new("validation_values_mismatch", "Values don't match."),
                );
                return Ok(None);
            }
            if let Some(old) = existing {
                if !privileged {
                    let given = body
                        .get("oldPassword")
                        .map(crate::records::values::to_text)
                        .unwrap_or_default();
                    let stored = old.get_str(&field.name).to_owned();
                    if given.is_empty() {
                        errors.insert("oldPassword".into(), FieldError::required());
                        return Ok(None);
                    }
                    if !self.hasher().verify(given, stored).await {
                        errors.insert(
                            "oldPassword".into(),
                            FieldError::new(
                                "validation_invalid_old_password",
                                "Missing or invalid old password.",
                            ),
                        );
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(PasswordChange {
            hash: self.hasher().hash(plain).await?,
        }))
    }
}

/// Deletes a record and resolves every relation that points at it: cascade deletes, removal of
/// the id from optional relations, refusal for required ones.
pub(crate) fn delete_cascade(
    conn: &Conn<'_>,
    schema: &Schema,
    c: &Collection,
    id: &str,
    depth: usize,
    deleted: &mut Vec<Record>,
    hooks: Option<&dyn super::hooks::WriteHooks>,
) -> Result<()> {
    if depth > 32 {
        return Err(CoreError::Internal("relation cascade too deep".into()));
    }
    let d = conn.dialect();
    for other in schema.all() {
        if other.is_view() {
            continue;
        }
        for f in &other.fields {
            let FieldKind::Relation {
                collection_id,
                cascade_delete,
                ..
            } = &f.kind
            else {
                continue;
            };
            if collection_id != &c.id {
                continue;
            }
            let col = d.quote(&f.name);
            let table = d.quote(&other.name);
            let where_sql = if f.is_multi() {
                format!(
                    "EXISTS (SELECT 1 FROM {} WHERE _kj.value = ?1)",
                    d.json_each_from(&format!("{table}.{col}"), "_kj")
                )
            } else {
                format!("{table}.{col} = ?1")
            };
            let plan = other.plan(d);
            let mut refs: Vec<Record> = Vec::new();
            conn.query(
                &format!("SELECT {} FROM {table} WHERE {where_sql}", plan.columns),
                &[id.into()],
                |row| {
                    refs.push(Record::from_row(other, row));
                    Ok(())
                },
            )?;
            for r in refs {
                if r.id() == id && other.id == c.id {
                    continue;
                }
                let remaining: Vec<String> = relation_ids(r.get(&f.name).unwrap_or(&Value::Null))
                    .into_iter()
                    .filter(|x| *x != id)
                    .map(str::to_owned)
                    .collect();
                if *cascade_delete {
                    // a record the cascade deletes goes through its delete hooks, as its own
                    // delete would (PocketBase deletes each one through the app)
                    let mut r = r;
                    super::hooks::wrapped(
                        hooks,
                        super::hooks::WriteEvent::Delete,
                        &mut r,
                        None,
                        conn,
                        &mut |rec, conn| {
                            delete_cascade(conn, schema, other, rec.id(), depth + 1, deleted, hooks)
                        },
                    )?;
                } else if f.required && remaining.is_empty() {
                    return Err(CoreError::RequiredReference);
                } else {
                    let v = if f.is_multi() {
                        Value::from(remaining).to_string()
                    } else {
                        String::new()
                    };
                    conn.execute(
                        &format!("UPDATE {table} SET {col} = ?1 WHERE \"id\" = ?2"),
                        &[v.into(), r.id().into()],
                    )?;
                }
            }
        }
    }
    if c.is_auth() {
        for sys in [
            "_externalAuths",
            "_mfas",
            "_otps",
            "_authOrigins",
            "_passkeys",
        ] {
            if schema.get(sys).is_some() {
                conn.execute(
                    &format!(
                        "DELETE FROM {} WHERE \"collectionRef\" = ?1 AND \"recordRef\" = ?2",
                        d.quote(sys)
                    ),
                    &[c.id.clone().into(), id.into()],
                )?;
            }
        }
    }
    if let Some(target) = schema.by_id(&c.id) {
        let plan = target.plan(d);
        if let Some(r) = conn.query_one(&plan.select_by_id, &[id.into()], |row| {
            Ok(Record::from_row(target, row))
        })? {
            deleted.push(r);
        }
    }
    conn.execute(
        &format!("DELETE FROM {} WHERE \"id\" = ?1", d.quote(&c.name)),
        &[id.into()],
    )?;
    Ok(())
}
