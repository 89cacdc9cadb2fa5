//! What the resolvers of one request share, and how errors reach GraphQL's `errors`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::dynamic::{FieldFuture, ResolverContext};
use async_graphql::ErrorExtensions;
use serde_json::Value;

use kiln_core::files::Upload;
use kiln_core::records::{ExpandTree, Record};
use kiln_core::{App, CoreError, RequestInfo};
use kiln_hooks::{HookResponse, Hooks, Patch};

use super::value;
use crate::error::ApiError;

/// The most records one request's pages may load together (its cost limit).
pub(super) const MAX_RECORDS: i64 = 10_000;

/// A field resolver.
pub(super) trait Resolver:
    for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static
{
}

impl<F> Resolver for F where
    F: for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static
{
}

/// What the resolvers of one request share: who asks, and its files and budget.
pub(super) struct Call {
    pub(super) app: App,
    pub(super) req: RequestInfo,
    pub(super) hooks: Option<Arc<Hooks>>,
    /// A multipart request's files, at the positions its `Upload` values point at.
    pub(super) uploads: Mutex<Vec<Option<Upload>>>,
    /// Records the request's pages may still load.
    budget: AtomicI64,
    /// The live subscriptions of the WebSocket the operation came on (none over HTTP).
    pub(super) subscriptions: Option<Arc<std::sync::atomic::AtomicUsize>>,
}

/// The most subscriptions one WebSocket may hold at once (each is a realtime client).
pub(super) const MAX_SUBSCRIPTIONS: usize = 100;

/// A subscription counted on its socket, let go when the subscription ends.
pub(super) struct Counted(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Call {
    pub(super) fn new(
        app: App,
        req: RequestInfo,
        hooks: Option<Arc<Hooks>>,
        uploads: Vec<Option<Upload>>,
    ) -> Call {
        Call {
            app,
            req,
            hooks,
            uploads: Mutex::new(uploads),
            budget: AtomicI64::new(MAX_RECORDS),
            subscriptions: None,
        }
    }

    /// Counts one more subscription on the operation's socket; `Err` past
    /// [`MAX_SUBSCRIPTIONS`].
    pub(super) fn count_subscription(&self) -> async_graphql::Result<Option<Counted>> {
        let Some(n) = &self.subscriptions else {
            return Ok(None);
        };
        if n.fetch_add(1, Ordering::Relaxed) >= MAX_SUBSCRIPTIONS {
            n.fetch_sub(1, Ordering::Relaxed);
            return Err(async_graphql::Error::new(format!(
                "A connection may hold at most {MAX_SUBSCRIPTIONS} subscriptions."
            )));
        }
        Ok(Some(Counted(n.clone())))
    }

    /// The request as the REST call a field stands for would make it, for the rules that read
    /// it: that call's method, and its query parameters (the field's arguments) beside the
    /// URL's own.
    pub(super) fn rest_request(&self, method: &str, params: &[(&str, String)]) -> RequestInfo {
        let mut req = self.req.clone();
        method.clone_into(&mut req.method);
        for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
            req.query.insert((*k).to_owned(), v.clone());
        }
        req
    }

    /// Takes `n` records from the request's budget.
    pub(super) fn spend(&self, n: i64) -> async_graphql::Result<()> {
        if self.budget.fetch_sub(n, Ordering::Relaxed) < n {
            return Err(async_graphql::Error::new(format!(
                "The query asks for more than {MAX_RECORDS} records."
            ))
            .extend_with(|_, e| e.set("status", 400)));
        }
        Ok(())
    }

    /// Records as the REST API answers them to this caller: `tree` expanded under `req` (the
    /// REST call the field stands for), hidden fields and others' emails left out, the hooks'
    /// `patches` applied.
    pub(super) fn render(
        &self,
        req: &RequestInfo,
        records: &mut [Record],
        tree: Option<ExpandTree>,
        patches: &[(String, Patch)],
    ) -> async_graphql::Result<Vec<Value>> {
        if let Some(tree) = tree {
            self.app
                .expand_records(records, &tree, req)
                .map_err(core_error)?;
        }
        let viewer = req.viewer();
        let d = self.app.dialect();
        Ok(records
            .iter()
            .map(|r| {
                let mut v = r.to_json(d, &viewer);
                if let (Some((_, p)), Value::Object(m)) =
                    (patches.iter().find(|(id, _)| id == r.id()), &mut v)
                {
                    p.apply(m);
                }
                v
            })
            .collect())
    }
}

/// A core error as a GraphQL error: the REST API's message, with its status and field errors
/// under `extensions`.
pub(super) fn core_error(e: CoreError) -> async_graphql::Error {
    api_error(crate::error::api(e))
}

fn api_error(e: ApiError) -> async_graphql::Error {
    let status = i32::from(e.status.as_u16());
    let data = value::to_gql(&Value::Object(e.data));
    async_graphql::Error::new(e.message.into_owned()).extend_with(move |_, ext| {
        ext.set("status", status);
        ext.set("data", data.clone());
    })
}

/// A hook's own answer to a GraphQL field: its message (or status) as the field's error.
pub(super) fn hook_answer(res: &HookResponse) -> async_graphql::Error {
    let body: Value = serde_json::from_str(&res.body).unwrap_or(Value::Null);
    let message = match body.get("message").and_then(Value::as_str) {
        Some(m) => m.to_owned(),
        None => format!("A hook answered with status {}.", res.status),
    };
    let status = i32::from(res.status);
    async_graphql::Error::new(message).extend_with(move |_, ext| ext.set("status", status))
}

/// Several mutations in one request write as a batch does, one after the other: at most the
/// settings' `batch.maxRequests` of them, and one while batches are off. `Err`: the message.
pub(super) fn mutation_limit(
    app: &App,
    request: &mut async_graphql::Request,
) -> Result<(), String> {
    use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
    fn count(doc: &ExecutableDocument, set: &SelectionSet, depth: usize) -> usize {
        if depth > 8 {
            return 0;
        }
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(_) => 1,
                Selection::InlineFragment(f) => count(doc, &f.node.selection_set.node, depth + 1),
                Selection::FragmentSpread(f) => doc
                    .fragments
                    .get(&f.node.fragment_name.node)
                    .map_or(0, |d| count(doc, &d.node.selection_set.node, depth + 1)),
            })
            .sum()
    }
    let Ok(doc) = request.parsed_query() else {
        return Ok(()); // the executor answers a document that does not parse
    };
    let most = doc
        .operations
        .iter()
        .filter(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
        .map(|(_, op)| count(doc, &op.node.selection_set.node, 0))
        .max()
        .unwrap_or(0);
    let batch = &app.settings().batch;
    let limit = match batch.enabled {
        true => usize::try_from(batch.max_requests).unwrap_or(0).max(1),
        false => 1,
    };
    if most > limit {
        return Err(format!(
            "A request may hold at most {limit} mutation(s): the settings' batch.maxRequests, or 1 while batches are off."
        ));
    }
    Ok(())
}
