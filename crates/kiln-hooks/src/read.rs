//! The records API's reads when hooks listen on the collection: `onRecordViewRequest` and
//! `onRecordsListRequest` around the answer, `onRecordEnrich` on each record it shows. Kiln still
//! renders the records (rules, `expand`, `fields`, who may see the email); the hooks' changes —
//! fields hidden, unhidden or set, custom data — come back as a patch per record, applied to
//! what Kiln rendered.

use std::sync::Arc;

use serde_json::{json, Value};

use kiln_core::records::model::Record;
use kiln_core::schema::collection::Collection;
use kiln_core::{CoreError, RequestInfo};

use crate::payload::{patch_of, record_value, request_json, Patch};
use crate::worker::call_js;
use crate::{parse_response, HookResponse, Hooks};

/// How a read that hooks ran ended.
#[derive(Debug)]
pub enum ReadOutcome {
    /// Answer as Kiln would, with each record's patch (by id).
    Render(Vec<(String, Patch)>),
    /// A hook answered itself.
    Answered(HookResponse),
    Failed(CoreError),
}

/// The paging of a list, as `e.result` shows it.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
}

impl Hooks {
    /// Whether a read hook (view, list or enrich) listens on `c`.
    pub fn watches_reads(&self, c: &Collection) -> bool {
        [
            "onRecordViewRequest",
            "onRecordsListRequest",
            "onRecordEnrich",
        ]
        .iter()
        .any(|n| self.watch.has(n, c))
    }

    /// `GET /api/collections/{c}/records/{id}` with the hooks, for `record` as the rule let
    /// the requester see it.
    pub async fn view_record(&self, record: &Record, req: &RequestInfo) -> ReadOutcome {
        let payloads = json!([record_value(record)]).to_string();
        let c = record.collection.clone();
        self.read("onRecordViewRequest", c, payloads, req, None)
            .await
    }

    /// `GET /api/collections/{c}/records` with the hooks, for the page of records found.
    pub async fn list_records(
        &self,
        c: Arc<Collection>,
        records: &[Record],
        req: &RequestInfo,
        page: Page,
    ) -> ReadOutcome {
        let payloads = Value::Array(records.iter().map(record_value).collect()).to_string();
        self.read("onRecordsListRequest", c, payloads, req, Some(page))
            .await
    }

    async fn read(
        &self,
        hook: &'static str,
        c: Arc<Collection>,
        payloads: String,
        req: &RequestInfo,
        page: Option<Page>,
    ) -> ReadOutcome {
        let mut request = request_json(req);
        request["collection"] = json!({ "id": c.id, "key": c.updated });
        if let Some(p) = page {
            request["result"] = json!({
                "page": p.page, "perPage": p.per_page, "totalItems": p.total_items, "totalPages": p.total_pages,
            });
        }
        let out = self
            .call_json("readRequest", (hook, payloads, request.to_string()))
            .await;
        let v = match out {
            Ok(v) => v,
            Err(e) => return ReadOutcome::Failed(e),
        };
        if let Some(res) = v.get("response").filter(|r| !r.is_null()) {
            return ReadOutcome::Answered(parse_response(&res.to_string()));
        }
        let patches = v["patches"]
            .as_array()
            .map(|list| list.iter().map(patch_of).collect())
            .unwrap_or_default();
        ReadOutcome::Render(patches)
    }
}

/// How an authentication's answer ended when `onRecordAuthRequest` ran.
#[derive(Debug)]
pub enum AuthOutcome {
    /// Answer as Kiln would with this token and meta (a hook may have changed them) and what
    /// `onRecordEnrich` changed of the record.
    Render {
        token: String,
        meta: Option<Value>,
        patch: Patch,
    },
    /// A hook answered itself.
    Answered(HookResponse),
    Failed(CoreError),
}

impl Hooks {
    /// Whether `onRecordAuthRequest` listens on `c`.
    pub fn watches_auth(&self, c: &Collection) -> bool {
        self.watch.has("onRecordAuthRequest", c)
    }

    /// `onRecordAuthRequest` for `record` signed in with `method` (`password`, `oauth2`, `otp`,
    /// `passkey`; empty for a refresh), before Kiln answers with `token` and `meta`.
    pub async fn auth_request(
        &self,
        record: &Record,
        token: String,
        meta: Option<Value>,
        method: &'static str,
        req: &RequestInfo,
    ) -> AuthOutcome {
        let payload = record_value(record).to_string();
        let mut request = request_json(req);
        request["token"] = Value::String(token);
        request["meta"] = meta.unwrap_or(Value::Null);
        request["authMethod"] = Value::String(method.to_owned());
        let out = self
            .call_json("authRequest", (payload, request.to_string()))
            .await;
        let v = match out {
            Ok(v) => v,
            Err(e) => return AuthOutcome::Failed(e),
        };
        if let Some(res) = v.get("response").filter(|r| !r.is_null()) {
            return AuthOutcome::Answered(parse_response(&res.to_string()));
        }
        AuthOutcome::Render {
            token: v["token"].as_str().unwrap_or_default().to_owned(),
            meta: v.get("meta").cloned().filter(|m| !m.is_null()),
            patch: v.get("patch").map(|p| patch_of(p).1).unwrap_or_default(),
        }
    }
}

impl Hooks {
    /// Whether a hook named `name` listens on `c`.
    pub fn watches_named(&self, name: &str, c: &Collection) -> bool {
        self.watch.has(name, c)
    }

    /// Whether a hook named `name` listens on the collection named `cname` (id `id`; empty for
    /// one not created yet).
    pub fn watches_tag(&self, name: &str, cname: &str, id: &str) -> bool {
        self.watch.has_tag(name, cname, id)
    }

    /// Request hook `name` of `c` (an account flow's: `onRecordAuthWithPasswordRequest`, …; or
    /// of no collection: `onRealtimeSubscribeRequest`) around the flow: `e.collection`,
    /// `e.record` (if any) and `fields` on the event; its last `e.next()` runs `next` with the
    /// fields as the hooks left them. The answer a hook gave instead, if it did not go on.
    pub async fn around_request(
        &self,
        name: &'static str,
        c: Option<&Collection>,
        req: &RequestInfo,
        record: Option<&Record>,
        fields: Value,
        next: crate::Next,
    ) -> Result<Option<HookResponse>, CoreError> {
        let event = json!({
            "collection": c.map(|c| json!({ "id": c.id, "key": c.updated })),
            "record": record.map(record_value),
            "fields": fields,
        });
        self.around(name, event, req, record, next, false).await
    }

    /// [`Hooks::around_request`] of a realtime request hook (`onRealtimeConnectRequest`,
    /// `onRealtimeSubscribeRequest`): no collection, no record; it waits for a free runtime
    /// rather than taking one of its own (a burst of connections costs no more runtimes).
    pub async fn around_realtime(
        &self,
        name: &'static str,
        req: &RequestInfo,
        fields: Value,
        next: crate::Next,
    ) -> Result<Option<HookResponse>, CoreError> {
        let event = json!({ "collection": null, "record": null, "fields": fields });
        self.around(name, event, req, None, next, true).await
    }

    async fn around(
        &self,
        name: &'static str,
        event: Value,
        req: &RequestInfo,
        record: Option<&Record>,
        next: crate::Next,
        queued: bool,
    ) -> Result<Option<HookResponse>, CoreError> {
        let event = event.to_string();
        let request = request_json(req).to_string();
        // after the flow, `e.record` (or `e.collection` of a collections API request) shows
        // what the flow left
        let app = self
            .state
            .app
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let stored = record.map(|r| (r.collection.clone(), r.id().to_owned()));
        let next: crate::Next = Box::new(move |fields| {
            let named = fields["collection"]["name"].as_str().map(str::to_owned);
            Box::pin(async move {
                let mut after = next(fields).await;
                let Some(app) = app else { return after };
                if let Some((c, id)) = stored {
                    if let Ok(Some(r)) = app.find_record(&c, &id) {
                        after["record"] = Value::Object(r.to_full_map());
                    }
                }
                if let Some(c) = named.and_then(|n| app.collection(&n).ok()) {
                    after["collection"] = c.to_json(false);
                }
                after
            })
        });
        let job = move |rt: &crate::runtime::Loaded| {
            rt.run(|ctx, w| {
                *w.middleware_next.borrow_mut() = Some(next);
                let raw = call_js(ctx, w, "aroundRequest", (name, request, event));
                w.middleware_next.borrow_mut().take();
                let v: Value = serde_json::from_str(&raw?).unwrap_or(Value::Null);
                if let Some(err) = v.get("error") {
                    return Err(w.js_error(&err.to_string()));
                }
                Ok(v.get("response")
                    .filter(|r| !r.is_null())
                    .map(|r| parse_response(&r.to_string())))
            })
        };
        let out = match queued {
            true => self.pool.run_queued(job).await,
            false => self.pool.run(job).await,
        };
        out.map_err(CoreError::Internal)?
    }

    /// Calls `__kiln[name](args)` on a runtime of the pool; its JSON answer, or the error it
    /// reports (`{"error": …}`).
    pub(crate) async fn call_json<A>(&self, name: &'static str, args: A) -> Result<Value, CoreError>
    where
        A: for<'js> rquickjs::function::IntoArgs<'js> + Send + 'static,
    {
        self.pool
            .run(move |rt| json_call(rt, name, args))
            .await
            .map_err(CoreError::Internal)?
    }

    /// [`Hooks::call_json`] for a call that waits for a free runtime rather than taking one of
    /// its own (the realtime hooks: a message to every client is one burst).
    pub(crate) async fn call_json_queued<A>(
        &self,
        name: &'static str,
        args: A,
    ) -> Result<Value, CoreError>
    where
        A: for<'js> rquickjs::function::IntoArgs<'js> + Send + 'static,
    {
        self.pool
            .run_queued(move |rt| json_call(rt, name, args))
            .await
            .map_err(CoreError::Internal)?
    }
}

/// `__kiln[name](args)` on `rt`: its JSON answer, or the error it reports.
pub(crate) fn json_call<A>(
    rt: &crate::runtime::Loaded,
    name: &'static str,
    args: A,
) -> (Result<Value, CoreError>, bool)
where
    A: for<'js> rquickjs::function::IntoArgs<'js>,
{
    rt.run(|ctx, w| {
        let raw = call_js(ctx, w, name, args)?;
        let v: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        match v.get("error") {
            Some(err) => Err(w.js_error(&err.to_string())),
            None => Ok(v),
        }
    })
}
