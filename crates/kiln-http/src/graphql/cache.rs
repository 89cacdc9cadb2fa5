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
    /// `hooks`: the server's hooks; while any realtime hook is registered the schemas have no
    /// subscriptions (GraphQL's would go around those hooks).
    pub(super) fn schema(
        &self,
        app: &App,
        superuser: bool,
        hooks: Option<&kiln_hooks::Hooks>,
    ) -> Result<Schema, ApiError> {
        let subscriptions = !hooks.is_some_and(|h| {
            [
                "onRealtimeConnectRequest",
                "onRealtimeSubscribeRequest",
                "onRealtimeMessageSend",
            ]
            .iter()
            .any(|e| h.watches_event(e))
        });
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
                    everyone: super::build::build(&ks, false, subscriptions).map_err(failed)?,
                    superuser: super::build::build(&ks, true, subscriptions).map_err(failed)?,
                })
            }
        };
        Ok(match superuser {
            true => b.superuser.clone(),
            false => b.everyone.clone(),
        })
    }
}
