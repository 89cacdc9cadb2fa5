//! The schemas of the live collections, kept until the collections change, and the documents
//! clients send, kept parsed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use async_graphql::dynamic::Schema;
use async_graphql::parser::types::ExecutableDocument;

use kiln_core::{App, CoreError};

use crate::error::ApiError;

/// The schemas of the live collections, built again when they change.
#[derive(Default)]
pub(crate) struct Cache {
    built: Mutex<Option<Built>>,
    /// Parsed documents by their text: an app sends the same few queries over and over, and
    /// parsing one (async-graphql's parser) costs more than cloning it. Emptied when full.
    docs: Mutex<HashMap<String, ExecutableDocument>>,
}

/// Parsed documents kept at most.
const MAX_DOCS: usize = 256;
/// Longer documents are parsed every time (they are rarely repeated, and would hold memory).
const MAX_DOC_CHARS: usize = 8 * 1024;

struct Built {
    /// The collections they were built from (held weakly: its address is not reused while
    /// this lives, so an equal address is the same collections).
    source: Weak<kiln_core::schema::Schema>,
    everyone: Schema,
    superuser: Schema,
}

impl Cache {
    /// Gives `request` its parsed document from the cache, or parses it and keeps it. A document
    /// that does not parse is left for the executor to answer.
    pub(super) fn parse(&self, request: &mut async_graphql::Request) {
        if request.query.len() > MAX_DOC_CHARS {
            return;
        }
        let kept = self
            .docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&request.query)
            .cloned();
        if let Some(doc) = kept {
            request.set_parsed_query(doc);
            return;
        }
        let Ok(doc) = request.parsed_query() else {
            return;
        };
        let doc = doc.clone();
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        if docs.len() >= MAX_DOCS {
            docs.clear();
        }
        docs.insert(request.query.clone(), doc);
    }

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
