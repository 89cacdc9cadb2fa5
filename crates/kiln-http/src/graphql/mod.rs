//! `/api/graphql`: a GraphQL API made from the live collections (Kiln's extension; PocketBase
//! has none). Queries, mutations and subscriptions run the REST API's own paths — the same
//! rules, validation, hooks and realtime — so GraphQL reaches no record REST would not.
//!
//! - `POST /api/graphql`: a JSON request, or a multipart one for file uploads (the GraphQL
//!   multipart request spec); `GET /api/graphql?query=…`: queries only.
//! - `GET /api/graphql` with a WebSocket upgrade: the `graphql-transport-ws` protocol (and the
//!   older `graphql-ws`); a token may come in `connection_init`'s payload as `Authorization`.
//!
//! Each caller class has its schema (superusers, everyone else), rebuilt when a collection
//! changes. Limits: [`build::MAX_DEPTH`], [`build::MAX_COMPLEXITY`], and at most
//! [`MAX_RECORDS`] records loaded by one request's pages.

mod build;
mod http;
mod names;
mod read;
mod subscribe;
mod value;
mod write;
mod ws;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use async_graphql::dynamic::{FieldFuture, ResolverContext, Schema};
use async_graphql::ErrorExtensions;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::Value;

use kiln_core::files::Upload;
use kiln_core::records::{ExpandTree, Record};
use kiln_core::{App, CoreError, RequestInfo};
use kiln_hooks::{HookResponse, Hooks, Patch};

use crate::error::ApiError;

/// The most records one request's pages may load together (its cost limit).
pub const MAX_RECORDS: i64 = 10_000;

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/api/graphql",
            // a multipart request's limit follows the collections' file fields (http::post)
            get(http::get)
                .post(http::post)
                .layer(DefaultBodyLimit::disable()),
        )
        .layer(Extension(Arc::new(Cache::default())))
}

/// A field resolver.
pub(super) trait Resolver:
    for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static
{
}

impl<F> Resolver for F where
    F: for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static
{
}

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
    fn schema(&self, app: &App, superuser: bool) -> Result<Schema, ApiError> {
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
                    everyone: build::build(&ks, false).map_err(failed)?,
                    superuser: build::build(&ks, true).map_err(failed)?,
                })
            }
        };
        Ok(match superuser {
            true => b.superuser.clone(),
            false => b.everyone.clone(),
        })
    }
}

/// What the resolvers of one request share: who asks, and its files and budget.
pub(super) struct Call {
    app: App,
    req: RequestInfo,
    hooks: Option<Arc<Hooks>>,
    /// A multipart request's files, at the positions its `Upload` values point at.
    uploads: Mutex<Vec<Option<Upload>>>,
    /// Records the request's pages may still load.
    budget: AtomicI64,
}

impl Call {
    fn new(
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
        }
    }

    /// The request as the REST call a field stands for would make it, for the rules that read
    /// it: that call's method, and its query parameters (the field's arguments) beside the
    /// URL's own.
    fn rest_request(&self, method: &str, params: &[(&str, String)]) -> RequestInfo {
        let mut req = self.req.clone();
        method.clone_into(&mut req.method);
        for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
            req.query.insert((*k).to_owned(), v.clone());
        }
        req
    }

    /// Takes `n` records from the request's budget.
    fn spend(&self, n: i64) -> async_graphql::Result<()> {
        if self.budget.fetch_sub(n, Ordering::Relaxed) < n {
            return Err(async_graphql::Error::new(format!(
                "The query asks for more than {MAX_RECORDS} records."
            ))
            .extend_with(|_, e| e.set("status", 400)));
        }
        Ok(())
    }

    /// Records as the REST API answers them to this caller: `tree` expanded, hidden fields
    /// and others' emails left out, the hooks' `patches` applied.
    fn render(
        &self,
        records: &mut [Record],
        tree: Option<ExpandTree>,
        patches: &[(String, Patch)],
    ) -> async_graphql::Result<Vec<Value>> {
        if let Some(tree) = tree {
            self.app
                .expand_records(records, &tree, &self.req)
                .map_err(core_error)?;
        }
        let viewer = self.req.viewer();
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
