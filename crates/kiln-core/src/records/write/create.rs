//! Creating a record.

use std::sync::Arc;

use serde_json::{Map, Value};

use kiln_db::Conn;

use super::hooks::{wrapped, WriteEvent, WriteHooks};
use super::steps::validate_all;
use super::steps::{apply_body, fill_generated, map_write_err, protected_changes, rule_body};
use crate::app::App;
use crate::error::{Action, CoreError, FieldError, FieldErrors, Result};
use crate::files;
use crate::files::uploads::Upload;
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;
use crate::schema::field::FieldKind;
use crate::schema::Schema;

/// A create made ready: the record as it will be inserted.
pub(super) struct CreatePlan {
    pub(super) rec: Record,
    /// The create rule and the request it sees (with the body as rules read it), unless the
    /// requester is a superuser or the rule is empty.
    rule: Option<(String, RequestInfo)>,
    errors: FieldErrors,
    /// The id made here from the default pattern (15 random characters of 36, unguessable and
    /// never seen before): not looked up before the insert, whose primary key still refuses a
    /// duplicate. An id the client sent, or a hook set, is looked up.
    fresh_id: Option<String>,
}

impl App {
    /// Checks what can be checked before the transaction, hashes the password and stores the
    /// uploads.
    pub(super) async fn plan_create(
        &self,
        c: &Arc<Collection>,
        req: &RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
    ) -> Result<(CreatePlan, Vec<String>)> {
        if c.is_view() {
            return Err(CoreError::Failed(Action::CreateRecord));
        }
        if !req.is_superuser() && c.create_rule.is_none() {
            return Err(CoreError::SuperuserOnly);
        }
        let rule = c
            .create_rule
            .clone()
            .filter(|r| !r.trim().is_empty() && !req.is_superuser());
        let mut rec = Record::new(c.clone());
        apply_body(
            &mut rec,
            &body,
            req.is_superuser(),
            req.is_superuser(),
            true,
        );
        let now = crate::datetime::now_string();
        let sent_id = !rec.id().is_empty();
        fill_generated(&mut rec, true, &now);
        let default_pattern = c.field("id").is_some_and(|f| {
            matches!(&f.kind, FieldKind::Text { autogenerate_pattern, .. }
                if autogenerate_pattern == crate::ids::ID_PATTERN)
        });
        let fresh_id = (!sent_id && default_pattern).then(|| rec.id().to_owned());
        let mut errors = protected_changes(c, &body, None, req.is_superuser());
        let pw = self
            .password_change(c, &body, None, req.is_superuser(), &mut errors)
            .await?;
        if let Some(pw) = &pw {
            rec.set("password", Value::String(pw.hash.clone()));
        }
        let mut plan = files::apply_uploads(&mut rec, None, &body, uploads, &mut errors);
        if !plan.store.is_empty() && !crate::ids::is_valid_id(rec.id()) {
            // The id names the files' directory: refuse a bad one before anything is stored.
            errors.insert(
                "id".into(),
                FieldError::new("validation_invalid_format", "Invalid value format."),
            );
        }
        let stored = if errors.is_empty() {
            self.store_uploads(&mut plan).await?
        } else {
            Vec::new()
        };
        // The request context goes into the transaction only when a rule needs it.
        let rule = rule.map(|r| {
            let body = rule_body(&Record::new(c.clone()), &rec, &body, req.is_superuser());
            (
                r,
                RequestInfo {
                    body,
                    ..req.clone()
                },
            )
        });
        Ok((
            CreatePlan {
                rec,
                rule,
                errors,
                fresh_id,
            },
            stored,
        ))
    }
}

impl CreatePlan {
    pub(super) fn apply(
        self,
        conn: &Conn<'_>,
        schema: &Schema,
        hooks: Option<&dyn WriteHooks>,
        overrides: &Map<String, Value>,
    ) -> Result<Record> {
        let CreatePlan {
            mut rec,
            rule,
            errors,
            fresh_id,
        } = self;
        let c = rec.collection.clone();
        let d = conn.dialect();
        if let Some((rule, req)) = &rule {
            // The rule sees the new record as a one-row table of its own, not in the
            // collection's table (PocketBase's dummy collection): a back-relation or
            // `@collection` lookup does not find the record being created.
            // A rule that does not compile here (a back-relation from the new record)
            // fails like a miss: no detail for a caller who may not create.
            let query = crate::records::query::snapshot_query(
                schema,
                d,
                &c,
                &rec,
                Some(rule),
                None,
                req,
                true,
            )
            .map_err(|_| CoreError::Failed(Action::CreateRecord))?;
            let matched = match query {
                Some((sql, params)) => conn.query_i64(&sql, &params)? > 0,
                None => true,
            };
            if !matched {
                return Err(CoreError::Failed(Action::CreateRecord));
            }
        }
        rec.assign(overrides);
        // the errors found before the transaction go with the first (normally only) run
        let mut errors = Some(errors);
        wrapped(
            hooks,
            WriteEvent::Create,
            &mut rec,
            None,
            conn,
            &mut |rec, conn| {
                let fresh = fresh_id.as_deref() == Some(rec.id());
                insert(conn, schema, rec, fresh, errors.take().unwrap_or_default())
            },
        )?;
        Ok(rec)
    }
}

/// Checks the id (unless `fresh`: made here, see [`CreatePlan`]) and every field of `rec`, then
/// inserts it.
fn insert(
    conn: &Conn<'_>,
    schema: &Schema,
    rec: &Record,
    fresh: bool,
    mut errors: FieldErrors,
) -> Result<()> {
    let c = &rec.collection;
    let d = conn.dialect();
    let id = rec.id();
    if !crate::ids::is_valid_id(id) {
        errors.insert(
            "id".into(),
            FieldError::new("validation_invalid_format", "Invalid value format."),
        );
    } else if !fresh
        && conn.query_i64(
            &format!(
                "SELECT COUNT(*) FROM {} WHERE \"id\" = ?1",
                d.quote(&c.name)
            ),
            &[id.to_owned().into()],
        )? > 0
    {
        errors.insert(
            "id".into(),
            FieldError::new("validation_not_unique", "Value must be unique."),
        );
    }
    validate_all(conn, schema, rec, None, &mut errors)?;
    if !errors.is_empty() {
        return Err(CoreError::Validation {
            action: Action::CreateRecord,
            errors,
        });
    }
    conn.execute(&c.plan(d).insert, &rec.column_values())
        .map_err(|e| map_write_err(e.into(), c, Action::CreateRecord))?;
    Ok(())
}
