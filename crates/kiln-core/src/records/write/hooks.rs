//! Code of the app's own (server-side JavaScript, in kiln-hooks) that runs inside a write's
//! transaction, around the statement: PocketBase's `onRecordCreate`, `onRecordUpdate` and
//! `onRecordDelete`. The core only says where; the hooks decide what runs.

use kiln_db::Conn;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;

/// Which write a hook wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteEvent {
    Create,
    Update,
    Delete,
}

/// The inner step a hook wraps: validation and the statement (for a delete, the statement and
/// its cascade), run on the record as the hook left it.
pub type InnerWrite<'a> = dyn FnMut(&mut Record, &Conn<'_>) -> Result<()> + 'a;

/// Hooks a write calls inside its transaction, on the thread that holds it.
pub trait WriteHooks: Send + Sync {
    /// Whether a hook wraps `event` on `c` (the write calls [`WriteHooks::around`] only then).
    fn wraps(&self, event: WriteEvent, c: &Collection) -> bool;

    /// Runs the hooks of `event` around `inner`: they may change `rec` before it runs, skip it
    /// (nothing is written), or fail (the whole transaction rolls back). `conn` is the
    /// transaction, for the hooks' own reads and writes; `original` is an update's record as
    /// stored before it.
    fn around(
        &self,
        event: WriteEvent,
        rec: &mut Record,
        original: Option<&Record>,
        conn: &Conn<'_>,
        inner: &mut InnerWrite<'_>,
    ) -> Result<()>;

    /// Whether a request hook wraps `event` on `c` (inside a batch, whose writes share one
    /// transaction, they run inside it too).
    fn wraps_request(&self, event: WriteEvent, c: &Collection) -> bool;

    /// Runs the request hooks of `event` around a batch's write of `rec` (as planned; a
    /// delete's target), requested by `req`.
    #[allow(clippy::too_many_arguments)]
    fn around_request(
        &self,
        event: WriteEvent,
        rec: &Record,
        original: Option<&Record>,
        req: &RequestInfo,
        conn: &Conn<'_>,
        inner: &mut InnerRequest<'_>,
    ) -> Result<()>;
}

/// The write a batch's request hooks wrap: applies the prepared write with the values they set,
/// answering the record written (a delete's target).
pub type InnerRequest<'a> = dyn FnMut(Map<String, Value>) -> Result<Option<Record>> + 'a;

/// Runs `inner` on `rec`, wrapped by `hooks` when one wraps `event` on the record's collection.
pub(super) fn wrapped(
    hooks: Option<&dyn WriteHooks>,
    event: WriteEvent,
    rec: &mut Record,
    original: Option<&Record>,
    conn: &Conn<'_>,
    inner: &mut InnerWrite<'_>,
) -> Result<()> {
    match hooks {
        Some(h) if h.wraps(event, &rec.collection) => h.around(event, rec, original, conn, inner),
        _ => inner(rec, conn),
    }
}
