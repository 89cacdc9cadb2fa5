//! Creating, updating and deleting records, with rules, validation and relation integrity.
//!
//! Every write runs in three steps, so that one request or a whole batch shares one transaction:
//! [`Prepared`] is made outside it (passwords hashed, uploads stored), [`Prepared::apply`] runs
//! inside it, and [`App::finish_write`] follows the commit (old blobs removed, realtime events).

pub(crate) mod create;
pub(crate) mod delete;
pub mod hooks;
pub(crate) mod steps;
pub(crate) mod update;

use std::sync::Arc;

use serde_json::{Map, Value};

use kiln_db::Conn;

use super::model::Record;
use crate::app::App;
use crate::error::Result;
use crate::files::uploads::Upload;
use crate::realtime::event::{Event, EventAction};
use crate::request::RequestInfo;
use crate::schema::collection::Collection;
use crate::schema::Schema;
use crate::settings::model::Settings;
use crate::webhooks::outbound::queue_deliveries;
use hooks::{WriteEvent, WriteHooks};

/// Runs the core's own writes (an account flow's update, an OAuth2 sign-up, the system records
/// of sign-ins) through the hooks, as PocketBase's `app.Save` runs its model hooks for them.
/// The server's hooks set it once ([`crate::App::set_write_runner`]).
pub trait WriteRunner: Send + Sync {
    /// Whether a hook wraps or waits for `event` on `c`.
    fn wraps(&self, event: WriteEvent, c: &Collection) -> bool;

    /// Writes `prepared` with the hooks; the records written.
    fn run(
        &self,
        prepared: Prepared,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Record>>> + Send + '_>>;
}

impl App {
    /// Creates a record as `req`'s requester; `body` is the submitted data (modifiers allowed),
    /// which rules see as `@request.body`.
    pub async fn create_record(
        &self,
        c: &Arc<Collection>,
        req: &RequestInfo,
        body: Map<String, Value>,
    ) -> Result<Record> {
        self.create_record_with_files(c, req, body, Vec::new())
            .await
    }

    /// [`App::create_record`] with uploaded files for the collection's file fields.
    pub async fn create_record_with_files(
        &self,
        c: &Arc<Collection>,
        req: &RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
    ) -> Result<Record> {
        let prepared = self.prepare_create(c, req, body, uploads).await?;
        let mut written = self.write_own(prepared).await?;
        Ok(written.swap_remove(0))
    }

    /// Sets what runs the core's own writes through the hooks (once; the server's hooks).
    pub fn set_write_runner(&self, runner: Arc<dyn WriteRunner>) {
        self.inner().write_runner.set(runner);
    }

    /// Writes `prepared`, through the hooks when one listens on its collection.
    async fn write_own(&self, prepared: Prepared) -> Result<Vec<Record>> {
        match self.inner().write_runner.get::<Arc<dyn WriteRunner>>() {
            Some(r) if r.wraps(prepared.event(), prepared.collection()) => r.run(prepared).await,
            _ => Ok(self.write_prepared(prepared, None).await?.records),
        }
    }

    /// Deletes record `id` as `req`'s requester, resolving references to it.
    pub async fn delete_record(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let prepared = self.prepare_delete(c, id, req)?;
        self.write_own(prepared).await.map(drop)
    }

    /// Updates record `id` as `req`'s requester.
    pub async fn update_record(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
        body: Map<String, Value>,
    ) -> Result<Record> {
        self.update_record_with_files(c, id, req, body, Vec::new())
            .await
    }

    /// [`App::update_record`] with uploaded files. File names are worked out against the record
    /// as read before the transaction (blobs must be stored before it begins).
    pub async fn update_record_with_files(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
    ) -> Result<Record> {
        let prepared = self.prepare_update_of(c, id, req, body, uploads).await?;
        let mut written = self.write_own(prepared).await?;
        Ok(written.swap_remove(0))
    }

    /// Makes a create ready (see [`App::create_record`]) for [`App::write_prepared`] or a batch.
    pub async fn prepare_create(
        &self,
        c: &Arc<Collection>,
        req: &RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
    ) -> Result<Prepared> {
        let (plan, stored) = self.plan_create(c, req, body, uploads).await?;
        Ok(Prepared {
            op: Op::Create(Box::new(plan)),
            stored,
            overrides: Map::new(),
            outbound: self.outbound_watch(),
        })
    }

    /// Makes an update of record `id` ready, planned against the record as stored now.
    pub async fn prepare_update_of(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
    ) -> Result<Prepared> {
        self.prepare_update(c, id, req, body, uploads, |app| app.find_record(c, id))
            .await
    }

    /// Makes an update ready; `existing` reads the record the plan is made against.
    pub(crate) async fn prepare_update(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
        body: Map<String, Value>,
        uploads: Vec<Upload>,
        existing: impl FnOnce(&App) -> Result<Option<Record>>,
    ) -> Result<Prepared> {
        let (plan, stored) = self
            .plan_update(c, id, req, body, uploads, existing)
            .await?;
        Ok(Prepared {
            op: Op::Update(Box::new(plan)),
            stored,
            overrides: Map::new(),
            outbound: self.outbound_watch(),
        })
    }

    /// Makes a delete ready.
    pub fn prepare_delete(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
    ) -> Result<Prepared> {
        Ok(Prepared {
            op: Op::Delete(Box::new(self.plan_delete(c, id, req)?)),
            stored: Vec::new(),
            overrides: Map::new(),
            outbound: self.outbound_watch(),
        })
    }
}

/// A write made ready outside the transaction.
pub struct Prepared {
    op: Op,
    /// Blobs stored for it, removed again if the transaction fails.
    pub(crate) stored: Vec<String>,
    /// Values server-side hooks set (see [`Prepared::set_overrides`]).
    overrides: Map<String, Value>,
    /// The settings whose outbound webhooks the write notifies (`None`: no webhook is on).
    outbound: Option<Arc<Settings>>,
}

enum Op {
    Create(Box<create::CreatePlan>),
    Update(Box<update::UpdatePlan>),
    Delete(Box<delete::DeletePlan>),
}

/// What a write did, for the steps after its commit.
pub struct Applied {
    pub(crate) action: EventAction,
    /// The record written, or every record a delete removed (cascades included, the target last).
    pub(crate) records: Vec<Record>,
    /// Blobs the write replaced or removed, deleted once it is committed.
    garbage: Vec<String>,
    /// Whether it queued webhook deliveries (the job worker is woken after the commit).
    queued_jobs: bool,
}

impl Applied {
    /// The record written, or every record a delete removed (cascades included, the target last).
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Takes the record written (a delete's target).
    pub fn into_record(mut self) -> Option<Record> {
        self.records.pop()
    }
}

impl Prepared {
    /// Values a server-side hook set on the record before the write (PocketBase's
    /// `e.record.set` in a request hook): applied after the body and the rule check, before
    /// validation, with no permission check.
    pub fn set_overrides(&mut self, overrides: Map<String, Value>) {
        self.overrides = overrides;
    }

    /// Which write this is.
    pub fn event(&self) -> WriteEvent {
        match &self.op {
            Op::Create(_) => WriteEvent::Create,
            Op::Update(_) => WriteEvent::Update,
            Op::Delete(_) => WriteEvent::Delete,
        }
    }

    /// The collection written to.
    pub fn collection(&self) -> &Arc<Collection> {
        match &self.op {
            Op::Create(p) => &p.rec.collection,
            Op::Update(p) => &p.c,
            Op::Delete(p) => &p.c,
        }
    }

    /// Runs the write inside the caller's transaction with the request hooks of a batch around
    /// it, when one wraps it (see [`WriteHooks::around_request`]).
    pub(crate) fn apply_requested(
        self,
        conn: &Conn<'_>,
        schema: &Schema,
        hooks: Option<&dyn WriteHooks>,
        req: &RequestInfo,
    ) -> Result<Option<Applied>> {
        let event = self.event();
        let Some(h) = hooks.filter(|h| h.wraps_request(event, self.collection())) else {
            return self.apply(conn, schema, hooks).map(Some);
        };
        let c = self.collection().clone();
        let (_, id) = self.target();
        let stored = match event {
            WriteEvent::Create => None,
            _ => conn.query_one(
                &c.plan(conn.dialect()).select_by_id,
                &[id.to_owned().into()],
                |row| Ok(Record::from_row(&c, row)),
            )?,
        };
        let rec = match (self.planned(), &stored) {
            (Some(r), _) | (None, Some(r)) => r.clone(),
            (None, None) => return Err(crate::error::CoreError::NotFound),
        };
        let original = stored.as_ref().filter(|_| event == WriteEvent::Update);
        let mut this = Some(self);
        let mut applied = None;
        h.around_request(event, &rec, original, req, conn, &mut |overrides| {
            let Some(mut p) = this.take() else {
                return Ok(applied
                    .as_ref()
                    .and_then(|a: &Applied| a.records.last().cloned()));
            };
            p.set_overrides(overrides);
            let a = p.apply(conn, schema, Some(h))?;
            let written = a.records.last().cloned();
            applied = Some(a);
            Ok(written)
        })?;
        Ok(applied)
    }

    /// The collection and id the write will touch (an upsert's or a create's own id).
    pub(crate) fn target(&self) -> (&str, &str) {
        match &self.op {
            Op::Create(p) => (&p.rec.collection.id, p.rec.id()),
            Op::Update(p) => (&p.c.id, &p.id),
            Op::Delete(p) => (&p.c.id, &p.id),
        }
    }

    /// The record as it will be written, as far as it is known before the transaction (for
    /// later writes of one batch that read it before theirs begins); `None` for a delete.
    pub fn planned(&self) -> Option<&Record> {
        match &self.op {
            Op::Create(p) => Some(&p.rec),
            Op::Update(p) => Some(&p.probe),
            Op::Delete(_) => None,
        }
    }

    /// Runs the write inside the caller's transaction; `hooks` run around its statement. The
    /// deliveries of outbound webhooks it triggers are queued in the same transaction.
    pub(crate) fn apply(
        self,
        conn: &Conn<'_>,
        schema: &Schema,
        hooks: Option<&dyn WriteHooks>,
    ) -> Result<Applied> {
        let overrides = &self.overrides;
        let (action, records, garbage) = match self.op {
            Op::Create(p) => (
                EventAction::Create,
                vec![p.apply(conn, schema, hooks, overrides)?],
                Vec::new(),
            ),
            Op::Update(p) => {
                let (r, garbage) = p.apply(conn, schema, hooks, overrides)?;
                (EventAction::Update, vec![r], garbage)
            }
            Op::Delete(p) => (
                EventAction::Delete,
                p.apply(conn, schema, hooks)?,
                Vec::new(),
            ),
        };
        let queued_jobs = match &self.outbound {
            Some(s) => queue_deliveries(conn, schema, s, action, &records)?,
            None => false,
        };
        Ok(Applied {
            action,
            records,
            garbage,
            queued_jobs,
        })
    }
}

impl App {
    /// Runs one prepared write in a transaction of its own, `hooks` around its statement, and
    /// finishes it (blobs, realtime) once committed.
    pub async fn write_prepared(
        &self,
        mut prepared: Prepared,
        hooks: Option<Arc<dyn WriteHooks>>,
    ) -> Result<Applied> {
        let stored = std::mem::take(&mut prepared.stored);
        let schema = self.schema();
        match self
            .db()
            .write(move |conn| prepared.apply(conn, &schema, hooks.as_deref()))
            .await
        {
            Ok(applied) => {
                self.finish_write(&applied).await;
                Ok(applied)
            }
            Err(e) => {
                self.remove_blobs(stored).await;
                Err(e)
            }
        }
    }

    /// Runs a prepared write inside a transaction the caller holds (a hook's own write while
    /// another one's transaction is open); [`App::finish_write`] follows once it commits. Blobs
    /// it stored stay if the transaction fails.
    pub fn apply_prepared(
        &self,
        prepared: Prepared,
        conn: &Conn<'_>,
        hooks: Option<&dyn WriteHooks>,
    ) -> Result<Applied> {
        prepared.apply(conn, &self.schema(), hooks)
    }

    /// After the commit: removes the blobs the write let go, publishes its realtime events and
    /// wakes the job worker for the webhook deliveries it queued.
    pub async fn finish_write(&self, applied: &Applied) {
        self.remove_blobs(applied.garbage.clone()).await;
        match applied.action {
            EventAction::Delete => self.remove_record_blobs(&applied.records).await,
            EventAction::Create => self.retire_installer(&applied.records).await,
            EventAction::Update => {}
        }
        for record in &applied.records {
            self.publish(Event {
                action: applied.action,
                record: Arc::new(record.clone()),
                origin: None,
            });
        }
        if applied.queued_jobs {
            self.inner().jobs_wake.notify_one();
        }
    }
}
