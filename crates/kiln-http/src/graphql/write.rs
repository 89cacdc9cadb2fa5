//! The mutation resolvers: create, update and delete as the REST API runs them (the same
//! rules, validation and hooks), files from the multipart request's parts.

use std::sync::Arc;

use async_graphql::dynamic::{FieldFuture, FieldValue, ObjectAccessor, ResolverContext};
use async_graphql::Value as Gql;
use serde_json::{Map, Value};

use kiln_core::files::Upload;
use kiln_core::schema::collection::Collection;
use kiln_core::schema::field::FieldKind;
use kiln_hooks::RecordOutcome;

use super::call::{core_error, Call, Resolver};
use super::read::expand_of;

/// `createPosts(data)`.
pub(super) fn create(name: &str) -> impl Resolver {
    let name = name.to_owned();
    move |ctx: ResolverContext<'_>| {
        let name = name.clone();
        FieldFuture::new(async move {
            let call = ctx.data::<Call>()?;
            let c = call.app.records_collection(&name).map_err(core_error)?;
            let (body, uploads) = call.body(&c, &ctx.args.try_get("data")?.object()?)?;
            let mut req = call.rest_request("POST", &[("expand", expand_arg(&ctx))]);
            req.body = body.clone();
            let written = match call.hooks.as_ref().filter(|h| h.watches(&c)) {
                Some(h) => written(h.create_record(c.clone(), req.clone(), body, uploads).await)?,
                None => call
                    .app
                    .create_record_with_files(&c, &req, body, uploads)
                    .await
                    .map(|r| Some((r, None)))
                    .map_err(core_error)?,
            };
            render(&ctx, call, &req, written)
        })
    }
}

/// `updatePosts(id, data)`.
pub(super) fn update(name: &str) -> impl Resolver {
    let name = name.to_owned();
    move |ctx: ResolverContext<'_>| {
        let name = name.clone();
        FieldFuture::new(async move {
            let call = ctx.data::<Call>()?;
            let c = call.app.records_collection(&name).map_err(core_error)?;
            let id = ctx.args.try_get("id")?.string()?.to_owned();
            let (body, uploads) = call.body(&c, &ctx.args.try_get("data")?.object()?)?;
            let mut req = call.rest_request("PATCH", &[("expand", expand_arg(&ctx))]);
            req.body = body.clone();
            let written = match call.hooks.as_ref().filter(|h| h.watches(&c)) {
                Some(h) => written(
                    h.update_record(c.clone(), id, req.clone(), body, uploads)
                        .await,
                )?,
                None => call
                    .app
                    .update_record_with_files(&c, &id, &req, body, uploads)
                    .await
                    .map(|r| Some((r, None)))
                    .map_err(core_error)?,
            };
            render(&ctx, call, &req, written)
        })
    }
}

/// `deletePosts(id)`: true once deleted.
pub(super) fn delete(name: &str) -> impl Resolver {
    let name = name.to_owned();
    move |ctx: ResolverContext<'_>| {
        let name = name.clone();
        FieldFuture::new(async move {
            let call = ctx.data::<Call>()?;
            let c = call.app.records_collection(&name).map_err(core_error)?;
            let id = ctx.args.try_get("id")?.string()?.to_owned();
            let req = call.rest_request("DELETE", &[]);
            match call.hooks.as_ref().filter(|h| h.watches(&c)) {
                Some(h) => {
                    written(h.delete_record(c.clone(), id, req).await)?;
                }
                None => call
                    .app
                    .delete_record(&c, &id, &req)
                    .await
                    .map_err(core_error)?,
            }
            Ok(Some(FieldValue::value(true)))
        })
    }
}

type Written = Option<(kiln_core::records::Record, Option<kiln_hooks::Patch>)>;

/// A write the hooks ran: the record written and what `onRecordEnrich` changed of it, or
/// nothing when a hook answered the request itself with a success.
fn written(out: RecordOutcome) -> async_graphql::Result<Written> {
    match out {
        RecordOutcome::Written(r, patch) => Ok(Some((r, Some(patch)))),
        RecordOutcome::Answered(res) if res.status < 400 => Ok(None),
        RecordOutcome::Answered(res) => Err(super::call::hook_answer(&res)),
        RecordOutcome::Failed(e) => Err(core_error(e)),
    }
}

/// The written record as the mutation's answer, with the relations it selects.
fn render<'a>(
    ctx: &ResolverContext<'a>,
    call: &Call,
    req: &kiln_core::RequestInfo,
    written: Written,
) -> async_graphql::Result<Option<FieldValue<'a>>> {
    let Some((record, patch)) = written else {
        return Ok(None);
    };
    let patches: Vec<(String, kiln_hooks::Patch)> = patch
        .map(|p| vec![(record.id().to_owned(), p)])
        .unwrap_or_default();
    let tree = expand_of(std::iter::once(ctx.field()));
    let mut one = call.render(req, &mut [record], tree, &patches)?;
    Ok(one.pop().map(FieldValue::owned_any))
}

/// The `expand` a mutation's selection asks for, as the REST call would send it.
fn expand_arg(ctx: &ResolverContext<'_>) -> String {
    expand_of(std::iter::once(ctx.field()))
        .as_ref()
        .map(super::read::expand_param)
        .unwrap_or_default()
}

/// The prefix async-graphql gives a variable that a multipart part fills.
const UPLOAD_PREFIX: &str = "#__graphql_file__:";

impl Call {
    /// A write's body and files from its `data` argument: each field as JSON, each `Upload`
    /// as the file of its multipart part (null clears a file field).
    fn body(
        &self,
        c: &Arc<Collection>,
        data: &ObjectAccessor<'_>,
    ) -> async_graphql::Result<(Map<String, Value>, Vec<Upload>)> {
        let mut body = Map::new();
        let mut uploads = Vec::new();
        for (key, v) in data.iter() {
            let key = key.as_str();
            let is_file = matches!(c.field(key).map(|f| &f.kind), Some(FieldKind::File { .. }));
            match v.as_value() {
                Gql::List(items) if is_file && !items.is_empty() => {
                    for item in items {
                        uploads.push(self.take_upload(item, key)?);
                    }
                }
                Gql::String(_) if is_file => uploads.push(self.take_upload(v.as_value(), key)?),
                other => {
                    body.insert(key.to_owned(), super::value::to_json(other));
                }
            }
        }
        Ok((body, uploads))
    }

    /// The file a variable's `Upload` value points at (each part is used once).
    fn take_upload(&self, v: &Gql, key: &str) -> async_graphql::Result<Upload> {
        let index = match v {
            Gql::String(s) => s
                .strip_prefix(UPLOAD_PREFIX)
                .and_then(|i| i.parse::<usize>().ok()),
            _ => None,
        };
        let mut files = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        let mut upload = index
            .and_then(|i| files.get_mut(i))
            .and_then(Option::take)
            .ok_or_else(|| async_graphql::Error::new("A file must come as a multipart part (the GraphQL multipart request spec), each used once."))?;
        upload.key = key.to_owned();
        Ok(upload)
    }
}
