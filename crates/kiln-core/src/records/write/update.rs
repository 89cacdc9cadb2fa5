//! Updating a record.

use std::sync::Arc;

use serde_json::{Map, Value};

use kiln_db::Conn;

use super::hooks::{wrapped, WriteEvent, WriteHooks};
use super::steps::{apply_body, fill_generated, map_write_err, protected_changes};
use super::steps::{rule_body, validate_all, PasswordChange};
use crate::app::App;
use crate::error::{Action, CoreError, FieldErrors, Refusal, Result};
use crate::files;
use crate::files::uploads::Upload;
use crate::records::model::Record;
use crate::records::query::{rule_for, RuleKind};
use crate::records::values::split_key;
use crate::request::RequestInfo;
use crate::rules::stmt::row_matches;
use crate::schema::collection::Collection;
use crate::schema::field::FieldKind;
use crate::schema::Schema;

/// An update made ready: the body, the checked password, the file fields' new values.
pub(super) struct UpdatePlan {
    pub(super) c: Arc<Collection>,
    pub(super) id: String,
    /// The record read before the transaction with the body applied (file names included).
    pub(super) probe: Record,
    rule: Option<(String, RequestInfo)>,
    submitted: Map<String, Value>,
    superuser: bool,
    privileged: bool,
    pw: Option<PasswordChange>,
    /// The touched file fields: (index, value the plan was made against, new value).
    file_values: Vec<(usize, Value, Value)>,
    /// File names the update lets go.
    removed: Vec<String>,
    errors: FieldErrors,
}

impl App {
    /// Checks the password (against the record `existing` finds: read first for that, the rule
    /// is checked again inside the transaction), plans the file fields and stores the uploads.
    pub(super) async fn plan_update(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
        existing: impl FnOnce(&App) -> Result<Option<Record>>,
    ) -> Result<(UpdatePlan, Vec<String>)> {
        if c.is_view() {
            return Err(CoreError::Failed(Action::UpdateRecord));
        }
        let rule = rule_for(c, RuleKind::Update, req)?.map(str::to_owned);
        let existing = existing(self)?.ok_or(CoreError::NotFound)?;
        let superuser = req.is_superuser();
        let privileged = superuser || (c.is_auth() && self.can_manage(c, id, req)?);
        let mut errors = protected_changes(c, &body, Some(&existing), privileged);
        let pw = self
            .password_change(c, &body, Some(&existing), privileged, &mut errors)
            .await?;
        let mut probe = existing.clone();
        apply_body(&mut probe, &body, superuser, privileged, false);
        // Only the file fields this request touches are written; the transaction checks that
        // they still hold what the plan was made against.
        let touched: Vec<usize> = c
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.kind, FieldKind::File { .. }))
            .filter(|(_, f)| {
                body.keys().any(|k| split_key(k).0 == f.name)
                    || uploads.iter().any(|u| split_key(&u.key).0 == f.name)
            })
            .map(|(i, _)| i)
            .collect();
        let mut plan =
            files::apply_uploads(&mut probe, Some(&existing), &body, uploads, &mut errors);
        let file_values: Vec<(usize, Value, Value)> = touched
            .iter()
            .map(|&i| (i, existing.values[i].clone(), probe.values[i].clone()))
            .collect();
        let stored = if errors.is_empty() {
            self.store_uploads(&mut plan).await?
        } else {
            Vec::new()
        };
        Ok((
            UpdatePlan {
                c: c.clone(),
                id: id.to_owned(),
                probe,
                rule: rule.map(|r| (r, req.clone())),
                submitted: body,
                superuser,
                privileged,
                pw,
                file_values,
                removed: plan.removed,
                errors,
            },
            stored,
        ))
    }
}

impl UpdatePlan {
    /// The updated record, and the keys of the blobs it no longer holds.
    pub(super) fn apply(
        self,
        conn: &Conn<'_>,
        schema: &Schema,
        hooks: Option<&dyn WriteHooks>,
        overrides: &Map<String, Value>,
    ) -> Result<(Record, Vec<String>)> {
        let UpdatePlan {
            c,
            id,
            rule,
            submitted,
            superuser,
            privileged,
            pw,
            file_values,
            removed,
            errors,
            ..
        } = self;
        let plan = c.plan(conn.dialect());
        let original = conn
            .query_one(&plan.select_by_id, &[id.clone().into()], |row| {
                Ok(Record::from_row(&c, row))
            })?
            .ok_or(CoreError::NotFound)?;
        let mut rec = original.clone();
        apply_body(&mut rec, &submitted, superuser, privileged, false);
        if let Some((rule, req)) = rule {
            let req = RequestInfo {
                body: rule_body(&original, &rec, &submitted, superuser),
                ..req
            };
            if !row_matches(conn, schema, &c, &id, &rule, &req)? {
                return Err(CoreError::NotFound);
            }
        }
        for (i, planned_against, v) in file_values {
            if original.values[i] != planned_against {
                return Err(CoreError::Refused(Refusal::FilesChanged));
            }
            rec.values[i] = v;
        }
        rec.assign(overrides);
        let now = crate::datetime::now_string();
        fill_generated(&mut rec, false, &now);
        if c.is_auth() {
            let email_changed = rec.get_str("email") != original.get_str("email");
            if let Some(pw) = &pw {
                rec.set("password", Value::String(pw.hash.clone()));
            }
            if pw.is_some() || email_changed {
                rec.set("tokenKey", Value::String(crate::ids::new_secret(50)));
            }
        } else if let Some(pw) = &pw {
            if let Some(f) = c
                .fields
                .iter()
                .find(|f| matches!(f.kind, FieldKind::Password { .. }))
            {
                rec.set(&f.name.clone(), Value::String(pw.hash.clone()));
            }
        }
        let mut errors = Some(errors);
        wrapped(
            hooks,
            WriteEvent::Update,
            &mut rec,
            Some(&original),
            conn,
            &mut |rec, conn| {
                let mut errors = errors.take().unwrap_or_default();
                validate_all(conn, schema, rec, Some(&original), &mut errors)?;
                if !errors.is_empty() {
                    return Err(CoreError::Validation {
                        action: Action::UpdateRecord,
                        errors,
                    });
                }
                let mut params = rec.column_values();
                params.push(id.clone().into());
                conn.execute(&plan.update, &params)
                    .map(drop)
                    .map_err(|e| map_write_err(e.into(), &c, Action::UpdateRecord))
            },
        )?;
        let garbage = removed
            .iter()
            .map(|n| files::file_key(&c.id, &id, n))
            .collect();
        Ok((rec, garbage))
    }
}
