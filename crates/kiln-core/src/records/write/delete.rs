//! Deleting a record.

use std::sync::Arc;

use kiln_db::Conn;

use super::hooks::{wrapped, WriteEvent, WriteHooks};
use super::steps::delete_cascade;
use crate::app::App;
use crate::error::{Action, CoreError, Result};
use crate::records::model::Record;
use crate::records::query::{rule_for, RuleKind};
use crate::request::RequestInfo;
use crate::rules::stmt::row_matches;
use crate::schema::collection::Collection;
use crate::schema::Schema;

/// A delete made ready: the rule to check inside the transaction.
pub(super) struct DeletePlan {
    pub(super) c: Arc<Collection>,
    pub(super) id: String,
    rule: Option<String>,
    req: RequestInfo,
}

impl App {
    pub(super) fn plan_delete(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
    ) -> Result<DeletePlan> {
        if c.is_view() {
            return Err(CoreError::Failed(Action::DeleteRecord));
        }
        let rule = rule_for(c, RuleKind::Delete, req)?.map(str::to_owned);
        let req = if rule.is_some() {
            req.clone()
        } else {
            RequestInfo::default()
        };
        Ok(DeletePlan {
            c: c.clone(),
            id: id.to_owned(),
            rule,
            req,
        })
    }
}

impl DeletePlan {
    /// Every record removed: those the cascade reached, then the target.
    pub(super) fn apply(
        self,
        conn: &Conn<'_>,
        schema: &Schema,
        hooks: Option<&dyn WriteHooks>,
    ) -> Result<Vec<Record>> {
        let DeletePlan { c, id, rule, req } = self;
        let d = conn.dialect();
        let exists = match &rule {
            Some(rule) => row_matches(conn, schema, &c, &id, rule, &req)?,
            None => {
                conn.query_i64(
                    &format!(
                        "SELECT COUNT(*) FROM {} WHERE \"id\" = ?1",
                        d.quote(&c.name)
                    ),
                    &[id.clone().into()],
                )? > 0
            }
        };
        if !exists {
            return Err(CoreError::NotFound);
        }
        let mut deleted = Vec::new();
        match hooks.filter(|h| h.wraps(WriteEvent::Delete, &c)) {
            None => delete_cascade(conn, schema, &c, &id, 0, &mut deleted, hooks)?,
            Some(h) => {
                // the hooks are handed the record being deleted
                let plan = c.plan(d);
                let mut target = conn
                    .query_one(&plan.select_by_id, &[id.clone().into()], |row| {
                        Ok(Record::from_row(&c, row))
                    })?
                    .ok_or(CoreError::NotFound)?;
                wrapped(
                    Some(h),
                    WriteEvent::Delete,
                    &mut target,
                    None,
                    conn,
                    &mut |rec, conn| {
                        delete_cascade(conn, schema, &c, rec.id(), 0, &mut deleted, hooks)
                    },
                )?;
            }
        }
        Ok(deleted)
    }
}
