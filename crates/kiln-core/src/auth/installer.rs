//! The first superuser, as PocketBase makes it: while no superuser exists, `kiln serve` holds an
//! installer superuser (`__pbinstaller@example.com`, a random password nobody knows) and prints a
//! link to the dashboard with a short-lived, non-refreshable token of it. The dashboard creates
//! the real superuser with that token; creating any other superuser deletes the installer.

use serde_json::{json, Map};

use crate::app::App;
use crate::error::{CoreError, Result};
use crate::ids::new_secret;
use crate::records::model::Record;
use crate::schema::system::SUPERUSERS;

/// The installer superuser's email (PocketBase's `core.DefaultInstallerEmail`).
pub const INSTALLER_EMAIL: &str = "__pbinstaller@example.com";

/// How long the printed link works (PocketBase: 30 minutes).
pub const INSTALLER_TOKEN_SECS: i64 = 30 * 60;

impl App {
    /// A token for the first-superuser page, or `None` when a superuser exists. Creates the
    /// installer superuser when missing.
    pub async fn installer_token(&self) -> Result<Option<String>> {
        let c = self.collection(SUPERUSERS)?;
        let plan = c.plan(self.dialect());
        let sql = format!("SELECT COUNT(*) FROM {} WHERE \"email\" <> ?1", plan.table);
        let others = self.db().read(|conn| {
            conn.query_i64(&sql, &[INSTALLER_EMAIL.into()])
                .map_err(CoreError::from)
        })?;
        if others > 0 {
            return Ok(None);
        }
        let installer = match self.find_superuser(INSTALLER_EMAIL)? {
            Some(r) => r,
            None => {
                let password = new_secret(40);
                let mut body = Map::new();
                body.insert("email".into(), json!(INSTALLER_EMAIL));
                body.insert("password".into(), json!(password));
                body.insert("passwordConfirm".into(), json!(password));
                body.insert("verified".into(), json!(true));
                let system = self.system_request()?;
                match self.create_record(&c, &system, body).await {
                    Ok(r) => r,
                    // nodes of a cluster starting together on an empty database: another one
                    // made it a moment ago (its email is taken)
                    Err(e) => match self.find_superuser(INSTALLER_EMAIL)? {
                        Some(r) => r,
                        None => return Err(e),
                    },
                }
            }
        };
        self.new_auth_token(&installer, Some(INSTALLER_TOKEN_SECS), false)
            .map(Some)
    }

    /// After superusers were created: the installer has done its work once any other exists.
    pub(crate) async fn retire_installer(&self, created: &[Record]) {
        if !created
            .iter()
            .any(|r| r.collection.name == SUPERUSERS && r.get_str("email") != INSTALLER_EMAIL)
        {
            return;
        }
        match self.find_superuser(INSTALLER_EMAIL) {
            Ok(Some(installer)) => {
                let result = match self.system_request() {
                    Ok(system) => {
                        let c = installer.collection.clone();
                        // boxed: a delete finishes through finish_write, which calls this
                        Box::pin(self.delete_record(&c, installer.id(), &system)).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "could not delete the installer superuser");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not look for the installer superuser"),
        }
    }
}
