//! The schemas of the live collections, kept until the collections change.

use std::sync::{Arc, Mutex, Weak};

use async_graphql::dynamic::Schema;

use kiln_core::{App, CoreError};

use crate::error::ApiError;

/// The schemas of the live collections, built again when they change.
#[derive(Default)]
pub(crate) struct Cache {
    built: Mutex<Option<Built>>,
}

struct Built {
    /// The collections they were built from (held weakly: its address is not reused while
    /// this lives, so an equal address is the same collections).
    source: Weak<kiln_core::schema::Schema>,
    everyone: Schema,
    superuser: Schema,
}

impl Cache {
    /// The schema of superusers (`superuser`) or of everyone else.
    pub(super) fn schema(&self, app: &App, superuser: bool) -> Result<Schema, ApiError> {
        let ks = app.schema();
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        let b = match &mut *built {
            Some(b) if std::ptr::eq(b.source.as_ptr(), Arc::as_ptr(&ks)) => b,
            slot => {
                let failed = |e: async_graphql::dynamic::SchemaError| {
                    crate::error::api(CoreError::Internal(format!("GraphQL schema: {e}")))
                };
                slot.insert(Built {
                    source: Arc::downgrade(&ks),
                    everyone: super::build::build(&ks, false).map_err(failed)?,
                    superuser: super::build::build(&ks, true).map_err(failed)?,
                })
            }
        };
        Ok(match superuser {
            true => b.superuser.clone(),
            false => b.everyone.clone(),
        })
    }
}
