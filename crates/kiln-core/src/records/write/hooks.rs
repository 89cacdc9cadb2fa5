//! Code of the app's own (server-side JavaScript, in kiln-hooks) that runs inside a write's
//! transaction, around the statement: PocketBase's `onRecordCreate`, `onRecordUpdate` and
//! `onRecordDelete`. The core only says where; the hooks decide what runs.

use kiln_db::Conn;

use crate::error::Result;
use crate::records::model::Record;
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
}

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
