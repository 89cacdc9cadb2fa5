//! Collection changes inside a transaction the caller holds (a JavaScript migration: every
//! change of one file commits or none does). The app's schema follows each change at once, in
//! this process only, so that what comes next in the transaction sees it; the caller then says
//! whether the transaction committed ([`App::schema_committed`]: the other nodes are told) or not
//! ([`App::schema_rolled_back`]: the schema is read again from the database).

use std::sync::Arc;

use kiln_db::Conn;
use serde_json::Value;

use super::{apply_ops_on, ddl_error, Op};
use crate::app::App;
use crate::error::{Action, Result};
use crate::schema::collection::Collection;

impl App {
    /// Saves `body` as a collection on `conn`: an update of the collection with its id (or,
    /// without one, its name) merged as the API merges a patch, else a create.
    pub fn save_collection_on(&self, conn: &Conn<'_>, body: &Value) -> Result<Arc<Collection>> {
        let current = self.schema();
        let key = body
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| current.by_id(id).is_some())
            .or_else(|| {
                body.get("id")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                    .then(|| body.get("name").and_then(Value::as_str))
                    .flatten()
                    .filter(|n| current.get(n).is_some())
            });
        let (op, next, action) = match key {
            Some(key) => {
                let (op, next) = self.plan_collection_update(&current, key, body)?;
                (op, next, Action::UpdateCollection)
            }
            None => {
                let (op, next) = self.plan_collection_create(&current, body)?;
                (op, next, Action::CreateCollection)
            }
        };
        let id = op.id().to_owned();
        self.apply_on(conn, vec![op], next, action)?;
        self.collection(&id)
    }

    /// Deletes collection `id_or_name` on `conn` (its files stay: a migration's rollback could
    /// not bring them back).
    pub fn delete_collection_on(&self, conn: &Conn<'_>, id_or_name: &str) -> Result<()> {
        let (op, next) = self.plan_collection_delete(&self.schema(), id_or_name)?;
        self.apply_on(conn, vec![op], next, Action::DeleteCollection)
    }

    /// [`App::import_collections`] on `conn`.
    pub fn import_collections_on(
        &self,
        conn: &Conn<'_>,
        list: &[Value],
        delete_missing: bool,
    ) -> Result<()> {
        let (ops, next) = self.plan_import(&self.schema(), list, delete_missing)?;
        self.apply_on(conn, ops, next, Action::ImportCollections)
    }

    fn apply_on(
        &self,
        conn: &Conn<'_>,
        ops: Vec<Op>,
        next: crate::schema::Schema,
        action: Action,
    ) -> Result<()> {
        apply_ops_on(conn, &ops).map_err(|e| ddl_error(e, action))?;
        self.set_schema(next);
        Ok(())
    }

    /// The transaction that changed collections on a connection committed: the other nodes
    /// read the schema again.
    pub fn schema_committed(&self) {
        self.announce_schema_change();
    }

    /// The transaction that changed collections on a connection rolled back: the schema is
    /// read again from the database.
    pub fn schema_rolled_back(&self) {
        self.reload_schema();
    }
}
