//! Batches: several record writes in one transaction, all committed or none (PocketBase's
//! `POST /api/batch`).
//!
//! Each write is made ready in order outside the transaction (passwords hashed, uploads stored),
//! then all are applied in order inside one, then their realtime events go out. A write reads
//! the records earlier writes of the batch create or change as they will be (an update of a
//! record created by the batch, an upsert of an id it deleted).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_db::DbError;

use super::values::to_text;
use super::write::hooks::WriteHooks;
use super::write::{Applied, Prepared};
use crate::app::App;
use crate::error::CoreError;
use crate::files::uploads::Upload;
use crate::realtime::event::EventAction;
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;

/// What one write of a batch does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchAction {
    Create,
    /// Updates the record named by the body's `id` when it exists, creates it otherwise.
    Upsert,
    Update(String),
    Delete(String),
}

/// One write of a batch.
pub struct BatchWrite {
    /// The collection's name or id.
    pub collection: String,
    pub action: BatchAction,
    /// The request as this write's rules see it: the batch's auth, context `batch`, and this
    /// write's method, query, headers and body.
    pub req: RequestInfo,
    pub uploads: Vec<Upload>,
}

/// Why a batch wrote nothing.
#[derive(Debug)]
pub enum BatchError {
    /// Write `index` failed with `error`.
    Failed { index: usize, error: CoreError },
    /// The write the caller refused (see [`App::run_batch`]); `index` is its place.
    Refused { index: usize },
    /// The batch ran past its time limit.
    Timeout,
    /// The transaction itself failed (its commit).
    Store(CoreError),
}

impl From<CoreError> for BatchError {
    fn from(e: CoreError) -> Self {
        BatchError::Store(e)
    }
}

impl From<DbError> for BatchError {
    fn from(e: DbError) -> Self {
        BatchError::Store(e.into())
    }
}

/// Records as the batch's earlier writes leave them, by (collection id, record id): `None` once
/// deleted.
type Overlay = HashMap<(String, String), Option<Record>>;

impl App {
    /// Runs `writes` in order in one transaction and returns each one's record (`None` for a
    /// delete). `refused`: the caller refuses the write after these (an unknown action, a rate
    /// limit); it fails the batch once the writes before it have run, so that the first failure
    /// in order is the one reported, as when each write runs in turn.
    ///
    /// `hooks` (server-side JavaScript) run around each write inside the transaction: the
    /// request hooks, then the model hooks. A write whose request hooks did not let it happen
    /// answers `None`.
    pub async fn run_batch(
        &self,
        writes: Vec<BatchWrite>,
        refused: bool,
        timeout: Duration,
        hooks: Option<Arc<dyn WriteHooks>>,
    ) -> Result<Vec<Option<Record>>, BatchError> {
        let refused_at = refused.then_some(writes.len());
        let deadline = Instant::now() + timeout;
        let mut prepared: Vec<(Prepared, RequestInfo)> = Vec::with_capacity(writes.len());
        let mut stored: Vec<String> = Vec::new();
        let mut overlay = Overlay::new();
        // A write that fails before the transaction fails the batch only after the writes
        // before it ran, so that the first failure in order is the one reported.
        let mut failed: Option<BatchError> = refused_at.map(|index| BatchError::Refused { index });
        for (index, write) in writes.into_iter().enumerate() {
            if Instant::now() > deadline {
                self.remove_blobs(stored).await;
                return Err(BatchError::Timeout);
            }
            // the request hooks see the request (a write's own is kept only for them)
            let req = match &hooks {
                Some(_) => write.req.clone(),
                None => RequestInfo::default(),
            };
            match self.prepare_batch_write(write, &overlay).await {
                Ok(mut p) => {
                    stored.append(&mut p.stored);
                    let (c, id) = p.target();
                    overlay.insert((c.to_owned(), id.to_owned()), p.planned().cloned());
                    prepared.push((p, req));
                }
                Err(error) => {
                    failed = Some(BatchError::Failed { index, error });
                    break;
                }
            }
        }
        let schema = self.schema();
        let result = self
            .db()
            .write(move |conn| -> Result<Vec<Option<Applied>>, BatchError> {
                let mut applied = Vec::with_capacity(prepared.len());
                for (index, (p, req)) in prepared.into_iter().enumerate() {
                    if Instant::now() > deadline {
                        return Err(BatchError::Timeout);
                    }
                    let a = p
                        .apply_requested(conn, &schema, hooks.as_deref(), &req)
                        .map_err(|error| BatchError::Failed { index, error })?;
                    applied.push(a);
                }
                match failed {
                    Some(e) => Err(e),
                    None => Ok(applied),
                }
            })
            .await;
        let applied = match result {
            Ok(a) => a,
            Err(e) => {
                self.remove_blobs(stored).await;
                return Err(e);
            }
        };
        let mut out = Vec::with_capacity(applied.len());
        for a in applied {
            let Some(mut a) = a else {
                out.push(None);
                continue;
            };
            self.finish_write(&a).await;
            out.push(match a.action {
                EventAction::Delete => None,
                _ => Some(a.records.swap_remove(0)),
            });
        }
        Ok(out)
    }

    async fn prepare_batch_write(
        &self,
        write: BatchWrite,
        overlay: &Overlay,
    ) -> Result<Prepared, CoreError> {
        let BatchWrite {
            collection,
            action,
            mut req,
            uploads,
        } = write;
        let lookup = |c: &Arc<Collection>, id: &str| -> Result<Option<Record>, CoreError> {
            match overlay.get(&(c.id.clone(), id.to_owned())) {
                Some(r) => Ok(r.clone()),
                None => self.find_record(c, id),
            }
        };
        let c = self.records_collection(&collection)?;
        let body = req.body.clone();
        match action {
            BatchAction::Delete(id) => self.prepare_delete(&c, &id, &req),
            BatchAction::Create => self.prepare_create(&c, &req, body, uploads).await,
            BatchAction::Update(id) => {
                self.prepare_update(&c, &id, &req, body, uploads, |_| lookup(&c, &id))
                    .await
            }
            BatchAction::Upsert => {
                let id = body.get("id").map(to_text).unwrap_or_default();
                if !id.is_empty() && lookup(&c, &id)?.is_some() {
                    req.method = "PATCH".into();
                    self.prepare_update(&c, &id, &req, body, uploads, |_| lookup(&c, &id))
                        .await
                } else {
                    req.method = "POST".into();
                    self.prepare_create(&c, &req, body, uploads).await
                }
            }
        }
    }
}
