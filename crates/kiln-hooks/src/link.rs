//! How a hooks worker and the thread holding a write's transaction talk. A write that hooks may
//! wrap always starts on a worker (a request's hooks, `$app.save`), and the worker, while it
//! waits for the write, answers the writer's calls: "run the hooks around this record" (the
//! writer then waits, answering the worker's "run the inner step" and "run this in the
//! transaction"). Both sides block, so the calls nest strictly and one queue each way suffices;
//! and the writer only ever waits for the worker that waits for it, so the pool cannot deadlock
//! however few workers it has.

use std::any::Any;
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use kiln_core::records::model::Record;
use kiln_core::records::write::hooks::{InnerRequest, InnerWrite, WriteEvent, WriteHooks};
use kiln_core::schema::collection::Collection;
use kiln_core::{CoreError, RequestInfo};
use kiln_db::Conn;
use serde_json::{Map, Value};

/// A result of any type, for the one who asked (who knows the type).
pub(crate) type Answer = Result<Box<dyn Any + Send>, CoreError>;

/// Work for the transaction's thread, run there on the transaction.
pub(crate) type TxWork = Box<dyn FnOnce(&Conn<'_>) -> Answer + Send>;

/// To a worker.
pub(crate) enum ToWorker {
    /// Run the hooks of `event` around `record` (the writer waits on `writer`).
    Hook {
        event: WriteEvent,
        record: Record,
        original: Option<Record>,
        /// For a batch's request hooks: the request (as their event shows it).
        request: Option<String>,
        writer: Sender<ToWriter>,
    },
    /// Call `__kiln[name](arg)` inside the transaction the writer holds (a migration, a
    /// `runInTransaction` callback); it answers "" or the error as JSON.
    Call {
        name: &'static str,
        arg: String,
        writer: Sender<ToWriter>,
    },
    /// What the worker asked for (the inner step, work in the transaction, a whole write).
    Answer(Answer),
}

/// To the thread holding the transaction.
pub(crate) enum ToWriter {
    /// Run the inner step with these values set first; answer the record after it.
    Next(Map<String, Value>),
    /// Run this on the transaction.
    Run(TxWork),
    /// The hooks are done (an error rolls the write back).
    Done(Result<(), CoreError>),
}

/// Which hooks the files registered, by event and collection (names or ids; none: every one).
#[derive(Debug, Default)]
pub(crate) struct Watch {
    pub(crate) entries: Vec<(String, Vec<String>)>,
}

impl Watch {
    /// Whether a hook named `name` listens on `c`.
    pub(crate) fn has(&self, name: &str, c: &Collection) -> bool {
        self.has_tag(name, &c.name, &c.id)
    }

    /// Whether a hook named `name` listens on the collection named `cname` (id `id`).
    pub(crate) fn has_tag(&self, name: &str, cname: &str, id: &str) -> bool {
        self.entries.iter().any(|(n, tags)| {
            n == name
                && (tags.is_empty()
                    || tags
                        .iter()
                        .any(|t| *t == cname || (!id.is_empty() && *t == id)))
        })
    }

    /// Whether a hook must run inside a write of `event` on `c` (a model hook or a validation
    /// one), or wait for it (an after-success hook).
    pub(crate) fn wraps_write(&self, event: WriteEvent, c: &Collection) -> bool {
        let (model, after) = hook_names(event);
        self.has(model, c)
            || self.has(after, c)
            || (event != WriteEvent::Delete && self.has("onRecordValidate", c))
    }

    /// Whether a write of `event` on `c` must start with the hooks at hand: a hook wraps or
    /// waits for it, or (a delete) for a record its cascade may reach.
    pub(crate) fn wraps_entry(&self, event: WriteEvent, c: &Collection) -> bool {
        self.wraps_write(event, c)
            || (event == WriteEvent::Delete
                && self
                    .entries
                    .iter()
                    .any(|(n, _)| n == "onRecordDelete" || n == "onRecordAfterDeleteSuccess"))
    }

    /// Whether a hook named `name` is registered at all (the app, mailer and realtime hooks
    /// have no collection).
    pub(crate) fn has_name(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| n == name)
    }

    /// Whether a hook of a records API write (request, model, validation or after-success, or
    /// the enrichment of its answer) listens on `c`.
    pub(crate) fn any_record(&self, c: &Collection) -> bool {
        const WRITES: [&str; 11] = [
            "onRecordCreateRequest",
            "onRecordUpdateRequest",
            "onRecordDeleteRequest",
            "onRecordCreate",
            "onRecordUpdate",
            "onRecordDelete",
            "onRecordValidate",
            "onRecordAfterCreateSuccess",
            "onRecordAfterUpdateSuccess",
            "onRecordAfterDeleteSuccess",
            "onRecordEnrich",
        ];
        WRITES.iter().any(|n| self.has(n, c))
    }
}

/// The names of the model hook and the after-success hook of `event`.
pub(crate) fn hook_names(event: WriteEvent) -> (&'static str, &'static str) {
    match event {
        WriteEvent::Create => ("onRecordCreate", "onRecordAfterCreateSuccess"),
        WriteEvent::Update => ("onRecordUpdate", "onRecordAfterUpdateSuccess"),
        WriteEvent::Delete => ("onRecordDelete", "onRecordAfterDeleteSuccess"),
    }
}

/// The name of the request hook of `event`.
pub(crate) fn request_hook(event: WriteEvent) -> &'static str {
    match event {
        WriteEvent::Create => "onRecordCreateRequest",
        WriteEvent::Update => "onRecordUpdateRequest",
        WriteEvent::Delete => "onRecordDeleteRequest",
    }
}

/// The writer's end: [`WriteHooks`] for the core, talking to one worker.
pub(crate) struct TxLink {
    pub(crate) worker: Sender<ToWorker>,
    pub(crate) watch: Arc<Watch>,
}

fn gone() -> CoreError {
    CoreError::Internal("a hooks worker stopped during a write".into())
}

impl WriteHooks for TxLink {
    fn wraps(&self, event: WriteEvent, c: &Collection) -> bool {
        // the worker also notes a write its after-success hooks wait for
        self.watch.wraps_write(event, c)
    }

    fn around(
        &self,
        event: WriteEvent,
        rec: &mut Record,
        original: Option<&Record>,
        conn: &Conn<'_>,
        inner: &mut InnerWrite<'_>,
    ) -> kiln_core::error::Result<()> {
        let record = rec.clone();
        self.converse(event, record, original, None, conn, &mut |values| {
            rec.assign(&values);
            inner(rec, conn)?;
            Ok(Some(rec.clone()))
        })
    }

    fn wraps_request(&self, event: WriteEvent, c: &Collection) -> bool {
        // onRecordEnrich too: the batch's answer shows the record enriched
        self.watch.has(request_hook(event), c) || self.watch.has("onRecordEnrich", c)
    }

    fn around_request(
        &self,
        event: WriteEvent,
        rec: &Record,
        original: Option<&Record>,
        req: &RequestInfo,
        conn: &Conn<'_>,
        inner: &mut InnerRequest<'_>,
    ) -> kiln_core::error::Result<()> {
        let request = crate::payload::request_json(req).to_string();
        self.converse(event, rec.clone(), original, Some(request), conn, inner)
    }
}

impl TxLink {
    /// Has the worker call `__kiln[name](arg)` inside the transaction `conn` belongs to,
    /// answering its calls meanwhile.
    pub(crate) fn call(
        &self,
        conn: &Conn<'_>,
        name: &'static str,
        arg: String,
    ) -> kiln_core::error::Result<()> {
        let (writer, calls) = channel();
        self.worker
            .send(ToWorker::Call { name, arg, writer })
            .map_err(|_| gone())?;
        self.serve(conn, &calls, &mut |_| {
            Err(CoreError::Internal("e.next() outside a hook".into()))
        })
    }

    /// Asks the worker to run the hooks, then answers its calls until it is done: `inner`
    /// for the last `e.next()`, work on the transaction for its `$app`.
    fn converse(
        &self,
        event: WriteEvent,
        record: Record,
        original: Option<&Record>,
        request: Option<String>,
        conn: &Conn<'_>,
        inner: &mut InnerRequest<'_>,
    ) -> kiln_core::error::Result<()> {
        let (writer, calls) = channel();
        self.worker
            .send(ToWorker::Hook {
                event,
                record,
                original: original.cloned(),
                request,
                writer,
            })
            .map_err(|_| gone())?;
        self.serve(conn, &calls, inner)
    }

    /// Answers the worker's calls until it is done.
    fn serve(
        &self,
        conn: &Conn<'_>,
        calls: &std::sync::mpsc::Receiver<ToWriter>,
        inner: &mut InnerRequest<'_>,
    ) -> kiln_core::error::Result<()> {
        loop {
            let answer = match calls.recv().map_err(|_| gone())? {
                ToWriter::Next(values) => inner(values).map(|r| Box::new(r) as Box<dyn Any + Send>),
                ToWriter::Run(work) => work(conn),
                ToWriter::Done(result) => return result,
            };
            self.worker
                .send(ToWorker::Answer(answer))
                .map_err(|_| gone())?;
        }
    }
}
