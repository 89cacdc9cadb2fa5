//! List statements kept compiled: a list whose rule, filter and sort texts were seen before, over
//! the same schema and by the same kind of requester, skips parsing and compiling them again (a
//! tenth of a list page's instructions).
//!
//! Only what the texts alone decide is kept. A text with `@` in it — `@request.*`, datetime
//! macros, `@collection.*`, `@random` — may compile to other SQL or other values for another
//! request or another second, and a filter or sort that reaches related rows carries their
//! listRules as guards: those are compiled every time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kiln_db::{NumberRange, Value};

use crate::schema::Schema;

/// Entries kept at most; when full, all are dropped (a client sending endless distinct filters
/// costs a compile per request, as it would without the cache).
const MAX_ENTRIES: usize = 1024;
/// Texts longer than this are compiled every time.
const MAX_KEY: usize = 2048;

/// A list's statements, without its paging.
pub(crate) struct CompiledList {
    /// `SELECT … LIMIT ? OFFSET ?`: its last two placeholders take the page size and offset.
    pub(crate) sql: String,
    /// The values of its other placeholders.
    pub(crate) params: Vec<Value>,
    /// `SELECT COUNT(*) …`, over the first `count_params` of `params`.
    pub(crate) count_sql: String,
    pub(crate) count_params: usize,
    /// Whether, and how, a count kept by the storage layer may answer the total.
    pub(crate) kept: Kept,
    /// Whether the statement may be kept: nothing in it depends on the request beyond the key.
    pub(crate) reusable: bool,
}

/// Which kept count may answer a list's total.
#[derive(Clone)]
pub(crate) enum Kept {
    /// None: the total is counted by SQL.
    No,
    /// Every row of the collection.
    All,
    /// The rows whose number field lies in the range.
    Range(String, NumberRange),
}

/// The compiled lists of one schema.
#[derive(Default)]
pub(crate) struct ListCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// The schema the entries were compiled over (held, so that its address is not reused).
    schema: Option<Arc<Schema>>,
    lists: HashMap<String, Arc<CompiledList>>,
}

/// What a list's statement is compiled from: the collection, whether the requester is a
/// superuser (no rule, no guards), and the client's filter and sort texts (the rule is the
/// collection's). `None` when the statement may not be kept: a text with `@` in it (see the
/// module's doc), or texts too long.
pub(crate) fn key(
    collection_id: &str,
    superuser: bool,
    rule: &str,
    filter: &str,
    sort: &str,
) -> Option<String> {
    if filter.len() + sort.len() > MAX_KEY || [rule, filter, sort].iter().any(|t| t.contains('@')) {
        return None;
    }
    let mut k = String::with_capacity(collection_id.len() + filter.len() + sort.len() + 4);
    k.push_str(collection_id);
    k.push(if superuser { '\u{1}' } else { '\u{2}' });
    k.push_str(filter);
    k.push('\u{0}');
    k.push_str(sort);
    Some(k)
}

impl ListCache {
    /// The list compiled for `key` over `schema`, if kept.
    pub(crate) fn get(&self, schema: &Arc<Schema>, key: &str) -> Option<Arc<CompiledList>> {
        let e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match &e.schema {
            Some(s) if Arc::ptr_eq(s, schema) => e.lists.get(key).cloned(),
            _ => None,
        }
    }

    /// Keeps `list`, compiled for `key` over `schema` (the entries of an older schema go).
    pub(crate) fn put(&self, schema: &Arc<Schema>, key: String, list: Arc<CompiledList>) {
        let mut e = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if !e.schema.as_ref().is_some_and(|s| Arc::ptr_eq(s, schema)) {
            e.schema = Some(schema.clone());
            e.lists.clear();
        }
        if e.lists.len() >= MAX_ENTRIES {
            e.lists.clear();
        }
        e.lists.insert(key, list);
    }
}
