//! Writes and reads the system makes on its own behalf (OTPs, MFA sessions, login origins,
//! external auths, passkeys, account updates of the confirm flows): through the ordinary record
//! write path as a synthetic superuser, so validation, token key rotation, file handling and
//! realtime events apply to them as to any write.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::app::App;
use crate::error::{CoreError, Result};
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;
use crate::schema::system::SUPERUSERS;

impl App {
    /// A request context acting as the system (a synthetic superuser), for CLI operations and
    /// the account flows' own writes.
    pub fn system_request(&self) -> Result<RequestInfo> {
        let c = self.collection(SUPERUSERS)?;
        let mut system = Record::new(c);
        system.set("id", json!("__kiln_system__"));
        Ok(RequestInfo {
            auth: Some(Arc::new(system)),
            method: "POST".into(),
            context: "default",
            ..Default::default()
        })
    }
    /// Records of a system collection (`_mfas`, `_otps`, `_authOrigins`, `_externalAuths`)
    /// matching `where_sql` (columns quoted, `?N` parameters), newest first.
    pub(crate) fn system_records(
        &self,
        collection: &str,
        where_sql: &str,
        params: &[kiln_db::Value],
    ) -> Result<Vec<Record>> {
        let c = self.collection(collection)?;
        let plan = c.plan(self.dialect());
        let sql = format!(
            "SELECT {} FROM {} WHERE {where_sql} ORDER BY \"created\" DESC, \"id\" DESC LIMIT 1000",
            plan.columns, plan.table
        );
        let mut out = Vec::new();
        self.db().read(|conn| {
            conn.query(&sql, params, |row| {
                out.push(Record::from_row(&c, row));
                Ok(())
            })
        })?;
        Ok(out)
    }

    /// Creates a record in a system collection as the system.
    pub(crate) async fn system_create(
        &self,
        collection: &str,
        body: Map<String, Value>,
    ) -> Result<Record> {
        let c = self.collection(collection)?;
        let req = self.system_request()?;
        self.create_record(&c, &req, body).await
    }

    /// Deletes a record of a system collection as the system (a record already gone is fine).
    pub(crate) async fn system_delete(&self, collection: &str, id: &str) -> Result<()> {
        let c = self.collection(collection)?;
        let req = self.system_request()?;
        match self.delete_record(&c, id, &req).await {
            Ok(()) | Err(CoreError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Updates a record as the system (no rules), through the ordinary write path.
    pub(crate) async fn system_update(
        &self,
        c: &Arc<Collection>,
        id: &str,
        body: Map<String, Value>,
    ) -> Result<Record> {
        let req = self.system_request()?;
        self.update_record(c, id, &req, body).await
    }
}
