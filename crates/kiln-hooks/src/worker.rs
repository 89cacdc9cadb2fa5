//! A worker's side of a write (see `link.rs`): waiting for what it asked while running the hooks
//! the writer asks for, writes started from JavaScript (inside the open transaction or in one of
//! their own), the after-success hooks once a write commits, and the errors that cross between
//! Rust and JavaScript.

use std::any::Any;
use std::cell::RefCell;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use rquickjs::{CatchResultExt, CaughtError, Ctx, Function, Object};
use serde_json::{json, Map, Value};

use kiln_core::records::model::Record;
use kiln_core::records::write::hooks::{WriteEvent, WriteHooks};
use kiln_core::records::write::{Applied, Prepared};
use kiln_core::{App, CoreError};

use crate::link::{hook_names, request_hook, Answer, ToWorker, ToWriter, TxLink, TxWork, Watch};
use crate::payload::record_payload;
use crate::Shared;

/// PocketBase's words for an error a hook threw that is not an API error.
pub(crate) const GENERIC_400: &str = "Something went wrong while processing your request.";

/// A hook call the writer is waiting on.
struct Frame {
    writer: Sender<ToWriter>,
    /// A batch's request hooks (not model hooks: no after-success hooks follow them).
    request: bool,
    /// The record as the inner step left it, once it ran.
    saved: Option<Record>,
}

/// The write a record request's hooks are about (their last `e.next()` runs it).
pub(crate) struct RequestWrite {
    pub(crate) prepared: Option<Prepared>,
    /// The record written (a delete's target), once written.
    pub(crate) saved: Option<Record>,
}

/// What a worker thread keeps beside its runtime.
pub(crate) struct Worker {
    pub(crate) state: Shared,
    inbox: Receiver<ToWorker>,
    sender: Sender<ToWorker>,
    frames: RefCell<Vec<Frame>>,
    /// After-success hooks waiting for the outermost write to commit.
    after: RefCell<Vec<(WriteEvent, Record, Option<Record>)>>,
    /// Writes made inside another's transaction, finished (realtime, blobs) once it commits.
    finishes: RefCell<Vec<Applied>>,
    /// The error a failed write threw into JavaScript, taken back if it comes out uncaught.
    pub(crate) error: RefCell<Option<CoreError>>,
    pub(crate) request: RefCell<Option<RequestWrite>>,
    /// An exception escaped an entry point: the runtime is rebuilt after this job.
    pub(crate) spent: std::cell::Cell<bool>,
    /// Collections changed inside the open transaction: the schema is announced once it
    /// commits, read again if it does not.
    pub(crate) schema_touched: std::cell::Cell<bool>,
    /// What `onRecordEnrich` changed of a batch's answers, by record id.
    pub(crate) patches: RefCell<Vec<(String, crate::payload::Patch)>>,
    /// The rest of the request a `routerUse` middleware chain runs around.
    pub(crate) middleware_next: RefCell<Option<crate::payload::Next>>,
}

impl Worker {
    pub(crate) fn new(state: Shared) -> Worker {
        let (sender, inbox) = channel();
        Worker {
            state,
            inbox,
            sender,
            frames: RefCell::default(),
            after: RefCell::default(),
            finishes: RefCell::default(),
            error: RefCell::default(),
            request: RefCell::default(),
            spent: std::cell::Cell::new(false),
            schema_touched: std::cell::Cell::new(false),
            middleware_next: RefCell::default(),
            patches: RefCell::default(),
        }
    }

    pub(crate) fn app(&self) -> Result<App, CoreError> {
        self.state
            .app
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| CoreError::Internal("the app is not ready".into()))
    }

    fn handle(&self) -> Result<tokio::runtime::Handle, CoreError> {
        self.state
            .handle
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| CoreError::Internal("the app is not ready".into()))
    }

    /// Runs `fut` to its end on the server's runtime (this thread is none of its own).
    pub(crate) fn block_on<T>(
        &self,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, CoreError> {
        Ok(self.handle()?.block_on(fut))
    }

    pub(crate) fn link(&self) -> Arc<TxLink> {
        Arc::new(TxLink {
            worker: self.sender.clone(),
            watch: self.watch(),
        })
    }

    pub(crate) fn watch(&self) -> Arc<Watch> {
        self.state.watch.get().cloned().unwrap_or_default()
    }

    /// Whether a transaction is open around this worker's current call.
    pub(crate) fn in_tx(&self) -> bool {
        !self.frames.borrow().is_empty()
    }

    /// Waits for the answer to what this worker asked, running the hooks the writer asks for
    /// meanwhile.
    fn pump(&self, ctx: &Ctx<'_>) -> Answer {
        loop {
            match self.inbox.recv() {
                Ok(ToWorker::Answer(a)) => return a,
                Ok(ToWorker::Hook {
                    event,
                    record,
                    original,
                    request,
                    writer,
                }) => self.run_hook(ctx, event, &record, original.as_ref(), request, writer),
                Ok(ToWorker::Call { name, arg, writer }) => self.run_call(ctx, name, arg, writer),
                Err(_) => return Err(CoreError::Internal("the hooks' channel closed".into())),
            }
        }
    }

    /// Runs the model hooks of `event` around `record` for the writer waiting on `writer`.
    fn run_hook(
        &self,
        ctx: &Ctx<'_>,
        event: WriteEvent,
        record: &Record,
        original: Option<&Record>,
        request: Option<String>,
        writer: Sender<ToWriter>,
    ) {
        let (model, _) = hook_names(event);
        self.frames.borrow_mut().push(Frame {
            writer: writer.clone(),
            request: request.is_some(),
            saved: None,
        });
        let payload = record_payload(record, original);
        let result = match request {
            // a hook's own answer has no place in a batch's: it is dropped
            Some(req) => call_js(
                ctx,
                self,
                "recordRequest",
                (request_hook(event), payload, req),
            )
            .and_then(|out| match serde_json::from_str::<Value>(&out) {
                Ok(v) if v.get("error").is_some() => Err(self.js_error(&v["error"].to_string())),
                Ok(v) => {
                    // what onRecordEnrich changed of the batch's answer for it
                    if let Some(p) = v.get("patch").filter(|p| !p.is_null()) {
                        self.patches.borrow_mut().push(crate::payload::patch_of(p));
                    }
                    Ok(())
                }
                Err(_) => Ok(()),
            }),
            None => call_js(ctx, self, "recordHook", (model, payload))
                .and_then(|out| self.model_outcome(&out)),
        };
        let frame = self.frames.borrow_mut().pop().filter(|f| !f.request);
        if let (Ok(()), Some(saved)) = (&result, frame.and_then(|f| f.saved)) {
            self.after
                .borrow_mut()
                .push((event, saved, original.cloned()));
        }
        let _ = writer.send(ToWriter::Done(result));
    }

    /// Calls `__kiln[name](arg)` for the writer waiting on `writer`.
    fn run_call(&self, ctx: &Ctx<'_>, name: &str, arg: String, writer: Sender<ToWriter>) {
        self.frames.borrow_mut().push(Frame {
            writer: writer.clone(),
            request: true,
            saved: None,
        });
        let result = call_js(ctx, self, name, (arg,)).and_then(|out| self.outcome(&out));
        self.frames.borrow_mut().pop();
        let _ = writer.send(ToWriter::Done(result));
    }

    /// A model hook's last `e.next()`: the writer validates and writes `values` onto the record.
    pub(crate) fn write_next(
        &self,
        ctx: &Ctx<'_>,
        values: Map<String, Value>,
    ) -> Result<Option<Record>, CoreError> {
        let writer = self
            .frames
            .borrow()
            .last()
            .map(|f| f.writer.clone())
            .ok_or_else(|| CoreError::Internal("e.next() outside a write".into()))?;
        writer
            .send(ToWriter::Next(values))
            .map_err(|_| CoreError::Internal("the write ended".into()))?;
        let rec = take::<Option<Record>>(self.pump(ctx))?;
        if let Some(f) = self.frames.borrow_mut().last_mut() {
            f.saved = rec.clone();
        }
        Ok(rec)
    }

    /// Runs `work` on the open transaction, or on a read connection when there is none.
    pub(crate) fn on_conn<T: Send + 'static>(
        &self,
        ctx: &Ctx<'_>,
        work: impl FnOnce(&App, &kiln_db::Conn<'_>) -> Result<T, CoreError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let app = self.app()?;
        let writer = self.frames.borrow().last().map(|f| f.writer.clone());
        match writer {
            None => app.db().read(|conn| work(&app, conn)),
            Some(writer) => {
                let job: TxWork = Box::new(move |conn| {
                    work(&app, conn).map(|v| Box::new(v) as Box<dyn Any + Send>)
                });
                writer
                    .send(ToWriter::Run(job))
                    .map_err(|_| CoreError::Internal("the write ended".into()))?;
                take::<T>(self.pump(ctx))
            }
        }
    }

    /// Runs a prepared write with the hooks around it: inside the open transaction if there is
    /// one (finished when it commits), else in one of its own, after which the after-success
    /// hooks of everything it wrote run. The records written.
    pub(crate) fn write(
        &self,
        ctx: &Ctx<'_>,
        prepared: Prepared,
    ) -> Result<Vec<Record>, CoreError> {
        let app = self.app()?;
        if self.in_tx() {
            let link = self.link();
            let applied = self.on_conn(ctx, move |app, conn| {
                app.apply_prepared(prepared, conn, Some(&*link as &dyn WriteHooks))
            })?;
            let records = applied.records().to_vec();
            self.finishes.borrow_mut().push(applied);
            return Ok(records);
        }
        if !self
            .watch()
            .wraps_entry(prepared.event(), prepared.collection())
        {
            // no hook can be called inside it: the write runs right here, one thread hop fewer
            let applied = self.block_on(app.write_prepared(prepared, None))??;
            return Ok(applied.records().to_vec());
        }
        let applied = self.outermost(ctx, move |link| async move {
            app.write_prepared(prepared, Some(link as Arc<dyn WriteHooks>))
                .await
        })?;
        Ok(applied.records().to_vec())
    }

    /// Runs the write `start` makes, with the hooks, in a transaction of its own; once it
    /// committed, finishes the writes made inside it and runs the after-success hooks of all.
    pub(crate) fn outermost<T, E, F>(
        &self,
        ctx: &Ctx<'_>,
        start: impl FnOnce(Arc<TxLink>) -> F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<CoreError> + Send + 'static,
        F: std::future::Future<Output = Result<T, E>> + Send + 'static,
    {
        let app = self.app()?;
        let sender = self.sender.clone();
        let fut = start(self.link());
        self.handle()?.spawn(async move {
            let out = fut.await;
            let _ = sender.send(ToWorker::Answer(Ok(Box::new(out))));
        });
        let result = take::<Result<T, E>>(self.pump(ctx));
        let finishes = std::mem::take(&mut *self.finishes.borrow_mut());
        let after = std::mem::take(&mut *self.after.borrow_mut());
        if self.schema_touched.replace(false) {
            match &result {
                Ok(Ok(_)) => app.schema_committed(),
                _ => app.schema_rolled_back(),
            }
        }
        let done = result??;
        self.block_on(async {
            for f in &finishes {
                app.finish_write(f).await;
            }
        })?;
        for (event, rec, original) in after {
            let (_, name) = hook_names(event);
            let out = call_js(
                ctx,
                self,
                "afterHook",
                (name, record_payload(&rec, original.as_ref())),
            )?;
            self.outcome(&out)?;
        }
        Ok(done)
    }

    /// What a JavaScript call answered: "" for success, else the error it ended with.
    pub(crate) fn outcome(&self, out: &str) -> Result<(), CoreError> {
        if out.is_empty() {
            return Ok(());
        }
        Err(self.js_error(out))
    }

    /// [`Worker::outcome`] of a model hook: what it threw that is no API error is
    /// [`CoreError::HookThrew`] (the records API answers it as its action's failure).
    fn model_outcome(&self, out: &str) -> Result<(), CoreError> {
        if out.contains(r#""thrown":"#) {
            let v: Value = serde_json::from_str(out).unwrap_or(Value::Null);
            if let Some(t) = v["thrown"].as_str() {
                return Err(CoreError::HookThrew(t.to_owned()));
            }
        }
        self.outcome(out)
    }

    /// An error JavaScript reported: a write's own error it threw back, or an API error.
    pub(crate) fn js_error(&self, raw: &str) -> CoreError {
        let v: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
        if v["kiln"] == json!(true) {
            if let Some(e) = self.error.borrow_mut().take() {
                return e;
            }
        }
        CoreError::Hook {
            status: v["status"]
                .as_u64()
                .filter(|s| (400..600).contains(s))
                .unwrap_or(400) as u16,
            message: v["message"].as_str().unwrap_or(GENERIC_400).to_owned(),
            data: v.get("data").cloned().unwrap_or_else(|| json!({})),
        }
    }
}

/// The answer as `T`.
fn take<T: 'static>(a: Answer) -> Result<T, CoreError> {
    a?.downcast::<T>()
        .map(|b| *b)
        .map_err(|_| CoreError::Internal("a hooks answer of another type".into()))
}

/// Calls `__kiln[name](args)`, which answers a string. An exception escaping it (the budget ran
/// out) is an internal error, and spends the runtime.
pub(crate) fn call_js<'js, A: rquickjs::function::IntoArgs<'js>>(
    ctx: &Ctx<'js>,
    worker: &Worker,
    name: &str,
    args: A,
) -> Result<String, CoreError> {
    let native: Object<'js> = ctx
        .globals()
        .get("__kiln")
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    let f: Function<'js> = native
        .get(name)
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    f.call::<_, String>(args).catch(ctx).map_err(|e| {
        worker.spent.set(true);
        CoreError::Internal(format!(
            "the hook ran out of its time or memory budget: {}",
            describe(e)
        ))
    })
}

/// A thrown value as text: the message and where it happened.
pub(crate) fn describe(e: CaughtError<'_>) -> String {
    match e {
        CaughtError::Exception(ex) => {
            let message = ex.message().unwrap_or_default();
            match ex.stack() {
                Some(stack) if !stack.trim().is_empty() => {
                    format!("{message}\n{}", stack.trim_end())
                }
                _ => message,
            }
        }
        CaughtError::Value(v) => format!("{v:?}"),
        CaughtError::Error(e) => e.to_string(),
    }
}

/// `{"ok": v}`, or `{"err": message}` with the error kept for [`Worker::js_error`].
pub(crate) fn answer(worker: &Worker, r: Result<Value, CoreError>) -> String {
    match r {
        Ok(v) => json!({ "ok": v }).to_string(),
        Err(e) => {
            let message = match &e {
                CoreError::Hook { message, .. } => message.clone(),
                other => other.to_string(),
            };
            let text = json!({ "err": message }).to_string();
            *worker.error.borrow_mut() = Some(e);
            text
        }
    }
}
