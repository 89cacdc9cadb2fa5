//! The records API's writes when hooks listen on the collection: the whole request runs on a
//! worker, so the request hooks (`onRecordCreateRequest`, …) wrap it and the model hooks the
//! writer calls find the worker waiting (see `link.rs`).

use std::sync::Arc;
use std::time::Duration;

use rquickjs::Ctx;
use serde_json::{Map, Value};

use kiln_core::files::Upload;
use kiln_core::records::model::Record;
use kiln_core::records::write::hooks::WriteEvent;
use kiln_core::records::write::Prepared;
use kiln_core::records::{BatchAction, BatchError, BatchWrite, RuleKind};
use kiln_core::schema::collection::Collection;
use kiln_core::{App, CoreError, RequestInfo};

use crate::payload::{record_payload, request_json};
use crate::worker::{call_js, RequestWrite, Worker};
use crate::{parse_response, HookResponse, Hooks};

/// How a records request ended when hooks ran it.
#[derive(Debug)]
pub enum RecordOutcome {
    /// The record was written (for a delete: removed); the API answers as without hooks, with
    /// what `onRecordEnrich` changed of the answer.
    Written(Record, crate::payload::Patch),
    /// A hook answered the request itself (`e.json(…)`) without the write, or after it.
    Answered(HookResponse),
    Failed(CoreError),
}

/// Which request.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Create,
    Update,
    Delete,
}

impl Kind {
    fn hook(self) -> &'static str {
        match self {
            Kind::Create => "onRecordCreateRequest",
            Kind::Update => "onRecordUpdateRequest",
            Kind::Delete => "onRecordDeleteRequest",
        }
    }

    fn action(self) -> kiln_core::Action {
        match self {
            Kind::Create => kiln_core::Action::CreateRecord,
            Kind::Update => kiln_core::Action::UpdateRecord,
            Kind::Delete => kiln_core::Action::DeleteRecord,
        }
    }
}

impl Hooks {
    /// Whether a record hook listens on `c` (its writes then go through [`Hooks::create_record`]
    /// and the others).
    pub fn watches(&self, c: &Collection) -> bool {
        self.watch.any_record(c)
    }

    /// `POST /api/collections/{c}/records` with the hooks.
    pub async fn create_record(
        &self,
        c: Arc<Collection>,
        req: RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
    ) -> RecordOutcome {
        self.request(Kind::Create, req, move |w, app, req| {
            let p = w.block_on(app.prepare_create(&c, req, body, uploads))??;
            let rec = p.planned().cloned().ok_or(CoreError::NotFound)?;
            Ok((p, rec, None))
        })
        .await
    }

    /// `PATCH /api/collections/{c}/records/{id}` with the hooks.
    pub async fn update_record(
        &self,
        c: Arc<Collection>,
        id: String,
        req: RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
    ) -> RecordOutcome {
        self.request(Kind::Update, req, move |w, app, req| {
            let original = app.find_record(&c, &id)?;
            let p = w.block_on(app.prepare_update_of(&c, &id, req, body, uploads))??;
            let rec = p.planned().cloned().ok_or(CoreError::NotFound)?;
            Ok((p, rec, original))
        })
        .await
    }

    /// `DELETE /api/collections/{c}/records/{id}` with the hooks.
    pub async fn delete_record(
        &self,
        c: Arc<Collection>,
        id: String,
        req: RequestInfo,
    ) -> RecordOutcome {
        self.request(Kind::Delete, req, move |_, app, req| {
            // as PocketBase: a record the delete rule hides is not found before any hook runs
            let rec = app.find_record_with_rule(&c, &id, req, RuleKind::Delete)?;
            Ok((app.prepare_delete(&c, &id, req)?, rec, None))
        })
        .await
    }

    /// Whether a record hook listens on a collection of `writes` (the batch then runs through
    /// [`Hooks::run_batch`]).
    pub fn watches_batch(&self, app: &App, writes: &[BatchWrite]) -> bool {
        writes.iter().any(|w| {
            app.collection(&w.collection).is_ok_and(|c| {
                self.watches(&c)
                    // a delete may cascade to records whose hooks listen
                    || (matches!(w.action, BatchAction::Delete(_))
                        && self.watch.wraps_entry(WriteEvent::Delete, &c))
            })
        })
    }

    /// `POST /api/batch` with the hooks: each write's request hooks, then its model hooks,
    /// inside the batch's transaction; the after-success hooks once it commits. Each write's
    /// record, and what `onRecordEnrich` changed of the answers (by record id).
    pub async fn run_batch(
        &self,
        writes: Vec<BatchWrite>,
        refused: bool,
        timeout: Duration,
    ) -> Result<(Vec<Option<Record>>, Vec<(String, crate::payload::Patch)>), BatchError> {
        self.pool
            .run(move |rt| {
                rt.run(|ctx, w| {
                    let app = w.app()?;
                    w.patches.borrow_mut().clear();
                    let records = w.outermost(ctx, move |link| async move {
                        let hooks: Arc<dyn kiln_core::records::write::hooks::WriteHooks> = link;
                        app.run_batch(writes, refused, timeout, Some(hooks)).await
                    })?;
                    Ok((records, std::mem::take(&mut *w.patches.borrow_mut())))
                })
            })
            .await
            .map_err(|m| BatchError::Store(CoreError::Internal(m)))?
    }

    async fn request(
        &self,
        kind: Kind,
        req: RequestInfo,
        prepare: impl FnOnce(
                &Worker,
                &App,
                &RequestInfo,
            ) -> Result<(Prepared, Record, Option<Record>), CoreError>
            + Send
            + 'static,
    ) -> RecordOutcome {
        let out = self
            .pool
            .run(move |rt| rt.run(|ctx, w| run_request(ctx, w, kind, &req, prepare)))
            .await;
        match out {
            Ok(o) => o,
            Err(m) => RecordOutcome::Failed(CoreError::Internal(m)),
        }
    }
}

fn run_request(
    ctx: &Ctx<'_>,
    w: &Worker,
    kind: Kind,
    req: &RequestInfo,
    prepare: impl FnOnce(
        &Worker,
        &App,
        &RequestInfo,
    ) -> Result<(Prepared, Record, Option<Record>), CoreError>,
) -> RecordOutcome {
    let outcome = (|| {
        let app = w.app()?;
        let (prepared, rec, original) = prepare(w, &app, req)?;
        *w.request.borrow_mut() = Some(RequestWrite {
            prepared: Some(prepared),
            saved: None,
        });
        let out = call_js(
            ctx,
            w,
            "recordRequest",
            (
                kind.hook(),
                record_payload(&rec, original.as_ref()),
                request_json(req).to_string(),
            ),
        )?;
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        if let Some(err) = v.get("error") {
            return Err(w.js_error(&err.to_string()));
        }
        if let Some(res) = v.get("response").filter(|r| !r.is_null()) {
            return Ok(RecordOutcome::Answered(parse_response(&res.to_string())));
        }
        let saved = w.request.borrow_mut().take().and_then(|r| r.saved);
        let patch = v
            .get("patch")
            .map(|p| crate::payload::patch_of(p).1)
            .unwrap_or_default();
        Ok(match saved {
            Some(rec) => RecordOutcome::Written(rec, patch),
            // the hooks neither wrote nor answered: an empty answer, as PocketBase's router
            None => RecordOutcome::Answered(HookResponse {
                status: 200,
                ..HookResponse::default()
            }),
        })
    })();
    w.request.borrow_mut().take();
    outcome.unwrap_or_else(|e| {
        RecordOutcome::Failed(match e {
            // the write's own hook threw: PocketBase's records API names the action that failed
            CoreError::HookThrew(_) => CoreError::Failed(kind.action()),
            e => e,
        })
    })
}

/// A request hook's last `e.next()`: the write, with the values the hooks set.
pub(crate) fn request_next(
    ctx: &Ctx<'_>,
    w: &Worker,
    values: Map<String, Value>,
) -> Result<Option<Record>, CoreError> {
    if w.request.borrow().is_none() {
        // a batch's write: the transaction's thread runs it
        return w.write_next(ctx, values);
    }
    let prepared = w
        .request
        .borrow_mut()
        .as_mut()
        .and_then(|r| r.prepared.take());
    let Some(mut prepared) = prepared else {
        // called twice: the write happened once
        return Ok(w.request.borrow().as_ref().and_then(|r| r.saved.clone()));
    };
    prepared.set_overrides(values);
    let saved = w.write(ctx, prepared)?.pop();
    if let Some(r) = w.request.borrow_mut().as_mut() {
        r.saved = saved.clone();
    }
    Ok(saved)
}
