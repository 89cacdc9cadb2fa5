//! Exact counts kept in memory beside SQLite's tables: how many rows a table holds, and how many
//! of a number column's values fall in a range, each in O(log n).
//!
//! Why: SQLite's `COUNT(*)` visits every matching index entry (~23 ns each here), so a list's
//! total costs more as its table grows; a soak whose lists count ranges of a growing table fell
//! from 12,700 to 3,000 requests/s past a million rows (issue 21). PostgreSQL is not served from
//! here: several processes write to it, and its counts stay SQL.
//!
//! What is kept is built on demand: the first count asked of a `(table, column)` is answered by
//! SQL and asks the writer thread to read the column once (`SELECT rowid, column`), inside its
//! transaction, so that no write falls between the read and the tracking of later writes; it is
//! answered from once that transaction has committed.
//!
//! How it stays exact: the writer connection's update hook notes the rowid of every row a
//! statement inserts, updates or deletes in a tracked table (a savepoint rolled back included);
//! after each COMMIT, before any write of the group is answered, the writer reads those rows again
//! and moves their values. A request that starts after a write's answer therefore counts it, as a
//! `COUNT(*)` would. What the update hook does not report drops everything kept (built again on
//! demand, at most once per ten times the last build took):
//! - a statement prepared on the writer that may change the schema (its authorizer sees every
//!   statement as it is prepared: a table rebuilt or renamed, a column dropped);
//! - Kiln's own VACUUM, which renumbers rowids: nothing is kept or answered while it runs;
//! - another process's commit (`PRAGMA data_version` moved), looked for at most once a second,
//!   at a commit or when the writer has been idle for a second: a process that writes to the
//!   file while Kiln runs may leave totals wrong for up to about a second;
//! - SQL Kiln did not write and that may write ([`crate::Conn::foreign`], `POST /api/sql`): a
//!   `REPLACE`'s deletes, a DELETE without WHERE (SQLite's truncate optimization) or a rowid
//!   update are not reported; Kiln's own statements do none of these outside
//!   [`crate::Conn::forget_counts`];
//! - a failed COMMIT.
//!
//! Tables with triggers or foreign-key actions, values that are not numbers (a NULL, a text
//! written by foreign SQL), rowids far beyond the row count and more than [`MAX_VALUES`] values
//! in all are not kept: their counts stay SQL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef as SqlValue;
use rusqlite::Connection;

/// Values kept at most, over every column (16 bytes each: ~128 MiB).
pub const MAX_VALUES: usize = 8 << 20;
/// Rows one commit may touch in a table before its counts are dropped rather than followed (each
/// is read again after the commit).
const MAX_TOUCHED: usize = 100_000;
/// A block of [`Ranked`] holds up to twice this many values.
const BLOCK: usize = 1024;
/// Tables with fewer rows are counted by SQL (a few microseconds), without the cost every commit
/// pays while something is kept; looked at again after [`SMALL_PAUSE`].
const MIN_ROWS: usize = 2_000;
const SMALL_PAUSE: Duration = Duration::from_secs(10);
/// How often, at most, the writer asks whether another connection committed.
const OTHER_WRITERS_EVERY: Duration = Duration::from_secs(1);
/// Integers beyond this lose precision as `f64`: such a column is not kept.
const EXACT_INT: i64 = 1 << 53;

/// A comparison of a number column with a number, one term of a [`NumberRange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberCmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// The values a conjunction of comparisons with finite numbers lets through: an interval, less
/// some points. `NumberRange::all()` counts every row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumberRange {
    /// Lower bound and whether it is included.
    lo: Option<(f64, bool)>,
    /// Upper bound and whether it is included.
    hi: Option<(f64, bool)>,
    except: Vec<f64>,
}

impl NumberRange {
    /// Every value.
    pub fn all() -> NumberRange {
        NumberRange::default()
    }

    /// Narrows the range to the values `v` that also satisfy `v cmp x`. `x` must be finite.
    pub fn and(&mut self, cmp: NumberCmp, x: f64) {
        debug_assert!(x.is_finite());
        let x = x + 0.0; // -0.0 is 0.0
        let tighter_lo = |cur: Option<(f64, bool)>, new: (f64, bool)| match cur {
            Some(c) if c.0 > new.0 || (c.0 == new.0 && !c.1) => Some(c),
            _ => Some(new),
        };
        let tighter_hi = |cur: Option<(f64, bool)>, new: (f64, bool)| match cur {
            Some(c) if c.0 < new.0 || (c.0 == new.0 && !c.1) => Some(c),
            _ => Some(new),
        };
        match cmp {
            NumberCmp::Gt => self.lo = tighter_lo(self.lo, (x, false)),
            NumberCmp::Ge => self.lo = tighter_lo(self.lo, (x, true)),
            NumberCmp::Lt => self.hi = tighter_hi(self.hi, (x, false)),
            NumberCmp::Le => self.hi = tighter_hi(self.hi, (x, true)),
            NumberCmp::Eq => {
                self.lo = tighter_lo(self.lo, (x, true));
                self.hi = tighter_hi(self.hi, (x, true));
            }
            NumberCmp::Ne => {
                if !self.except.contains(&x) {
                    self.except.push(x);
                }
            }
        }
    }

    fn contains(&self, v: f64) -> bool {
        self.lo.is_none_or(|(lo, incl)| v > lo || (incl && v == lo))
            && self.hi.is_none_or(|(hi, incl)| v < hi || (incl && v == hi))
    }
}

/// A sorted multiset of numbers that counts its members below a value in O(log n): sorted blocks
/// of up to `2 × BLOCK` values, with a Fenwick tree over the blocks' lengths.
#[derive(Debug, Default)]
struct Ranked {
    blocks: Vec<Vec<f64>>,
    /// Fenwick tree (1-based) over `blocks[i].len()`.
    tree: Vec<usize>,
    len: usize,
}

fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl Ranked {
    fn from_sorted(values: &[f64]) -> Ranked {
        let mut r = Ranked {
            blocks: values.chunks(BLOCK).map(<[f64]>::to_vec).collect(),
            tree: Vec::new(),
            len: values.len(),
        };
        r.rebuild();
        r
    }

    fn rebuild(&mut self) {
        let n = self.blocks.len();
        let mut t = vec![0usize; n + 1];
        for i in 1..=n {
            t[i] += self.blocks[i - 1].len();
            let parent = i + lowbit(i);
            if parent <= n {
                t[parent] += t[i];
            }
        }
        self.tree = t;
    }

    fn add(&mut self, block: usize, grow: bool) {
        let mut i = block + 1;
        while i < self.tree.len() {
            if grow {
                self.tree[i] += 1;
            } else {
                self.tree[i] -= 1;
            }
            i += lowbit(i);
        }
    }

    /// Values in the blocks before `block`.
    fn before(&self, block: usize) -> usize {
        let (mut i, mut sum) = (block, 0);
        while i > 0 {
            sum += self.tree[i];
            i -= lowbit(i);
        }
        sum
    }

    fn insert(&mut self, x: f64) {
        if self.blocks.is_empty() {
            self.blocks.push(vec![x]);
            self.len = 1;
            self.rebuild();
            return;
        }
        let b = self
            .blocks
            .partition_point(|blk| blk[blk.len() - 1] < x)
            .min(self.blocks.len() - 1);
        let blk = &mut self.blocks[b];
        let at = blk.partition_point(|v| *v < x);
        blk.insert(at, x);
        self.len += 1;
        if blk.len() > 2 * BLOCK {
            let tail = blk.split_off(BLOCK);
            self.blocks.insert(b + 1, tail);
            self.rebuild();
        } else {
            self.add(b, true);
        }
    }

    /// Removes one `x`; false if there is none.
    fn remove(&mut self, x: f64) -> bool {
        let b = self.blocks.partition_point(|blk| blk[blk.len() - 1] < x);
        let Some(blk) = self.blocks.get_mut(b) else {
            return false;
        };
        let at = blk.partition_point(|v| *v < x);
        if blk.get(at) != Some(&x) {
            return false;
        }
        blk.remove(at);
        self.len -= 1;
        if blk.is_empty() {
            self.blocks.remove(b);
            self.rebuild();
        } else {
            self.add(b, false);
        }
        true
    }

    /// Values `< x`, or `<= x` when `inclusive`.
    fn below(&self, x: f64, inclusive: bool) -> usize {
        let under = |v: &f64| if inclusive { *v <= x } else { *v < x };
        let b = self
            .blocks
            .partition_point(|blk| under(&blk[blk.len() - 1]));
        match self.blocks.get(b) {
            None => self.len,
            Some(blk) => self.before(b) + blk.partition_point(under),
        }
    }

    fn count(&self, r: &NumberRange) -> usize {
        let upper = r.hi.map_or(self.len, |(hi, incl)| self.below(hi, incl));
        let lower = r.lo.map_or(0, |(lo, incl)| self.below(lo, !incl));
        let mut n = upper.saturating_sub(lower);
        for &x in &r.except {
            if n > 0 && r.contains(x) {
                n -= self.below(x, true) - self.below(x, false);
            }
        }
        n
    }
}

/// One kept column (or, for `column: None`, the table's rows, each counted as 0).
#[derive(Debug)]
struct Column {
    column: Option<String>,
    ranked: Ranked,
    /// The value of each rowid; NaN where there is no row.
    by_rowid: Vec<f64>,
}

impl Column {
    /// Moves `rowid` to `value` (`None`: the row is gone). False if the value cannot be kept.
    fn set(&mut self, rowid: i64, value: Option<f64>) -> bool {
        let Ok(i) = usize::try_from(rowid) else {
            return false;
        };
        if let Some(old) = self.by_rowid.get(i).copied().filter(|v| !v.is_nan()) {
            self.ranked.remove(old);
            self.by_rowid[i] = f64::NAN;
        }
        if let Some(v) = value {
            if i >= self.by_rowid.len() {
                if i > 2 * self.by_rowid.len() + 65_536 {
                    return false;
                }
                self.by_rowid.resize(i + 1, f64::NAN);
            }
            self.by_rowid[i] = v;
            self.ranked.insert(v);
        }
        true
    }
}

/// Where a `(table, column)` stands.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// A build is queued on the writer.
    Building,
    /// Built (kept, or dropped since), or too small to be worth it: not built again before.
    Pause(Instant),
    /// Cannot be kept (see the module's doc); stays SQL until everything is dropped.
    Refused,
}

/// Per column (`None`: the rows) where it stands.
type Wants = Vec<(Option<String>, Want)>;
/// A touched row after a commit: its rowid and, unless it is gone, its kept columns' values in
/// their order (`None` for a value that is not a number).
type RowValues = (i64, Option<Vec<Option<f64>>>);

/// Any failure reading a column: it is not kept.
fn refused<E>(_: E) -> Skip {
    Skip::Refused
}

/// Why a column is not kept.
enum Skip {
    /// Fewer rows than [`MIN_ROWS`]: counted by SQL, looked at again later.
    Small,
    /// See [`Want::Refused`].
    Refused,
}

/// What only the writer thread touches.
#[derive(Debug, Default)]
struct WriterSide {
    /// Rowids written since the last commit, per kept table.
    touched: HashMap<String, Vec<i64>>,
    /// Columns read in the transaction under way: answered only once it has committed (they may
    /// count rows an earlier write of the group added, which a reader does not see yet).
    built: Vec<(String, Column)>,
    /// The writer's `PRAGMA data_version` when the first column was kept, and when it was last
    /// read.
    data_version: Option<(i64, Instant)>,
}

/// The counts kept for one SQLite database. See the module's doc.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Kept columns per table.
    tables: RwLock<HashMap<String, Vec<Column>>>,
    /// Whether anything is kept: the update hook's fast way out.
    active: AtomicBool,
    /// A statement that may change the schema was prepared on the writer (its authorizer).
    schema_statement: AtomicBool,
    /// Kiln's maintenance connection is rebuilding the file (VACUUM renumbers rowids): nothing is
    /// kept or answered meanwhile.
    suspended: AtomicBool,
    writer: Mutex<WriterSide>,
    /// Per table, per column (`None`: the rows), found without allocating a key.
    wants: Mutex<HashMap<String, Wants>>,
}

/// The state of `column` in `wants`, added as `Building` if missing.
fn want_of<'w>(
    wants: &'w mut HashMap<String, Wants>,
    table: &str,
    column: Option<&str>,
) -> &'w mut Want {
    if !wants.contains_key(table) {
        wants.insert(table.to_owned(), Vec::new());
    }
    let cols = wants.get_mut(table).expect("inserted above");
    let at = match cols.iter().position(|(c, _)| c.as_deref() == column) {
        Some(at) => at,
        None => {
            cols.push((column.map(str::to_owned), Want::Building));
            cols.len() - 1
        }
    };
    &mut cols[at].1
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A stored value as a number that compares in SQL as it does as `f64`; `None` otherwise.
fn number(v: SqlValue<'_>) -> Option<f64> {
    match v {
        SqlValue::Integer(i) if (-EXACT_INT..=EXACT_INT).contains(&i) => Some(i as f64),
        SqlValue::Real(f) if f.is_finite() => Some(f + 0.0),
        _ => None,
    }
}

impl Counts {
    /// The rows of `table` whose `column` lies in `range` (every row for `None`), if kept.
    /// Otherwise `None`, and `true` in the second place when the caller should ask the writer to
    /// build it ([`Counts::build`]).
    pub(crate) fn count(
        &self,
        table: &str,
        column: Option<&str>,
        range: &NumberRange,
    ) -> (Option<i64>, bool) {
        if self.suspended.load(Ordering::Acquire) {
            return (None, false);
        }
        if let Some(cols) = self
            .tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(table)
        {
            if let Some(c) = cols.iter().find(|c| c.column.as_deref() == column) {
                return (Some(c.ranked.count(range) as i64), false);
            }
        }
        let mut wants = lock(&self.wants);
        let known = wants
            .get(table)
            .and_then(|cols| cols.iter().find(|(c, _)| c.as_deref() == column))
            .map(|(_, w)| *w);
        let build = match known {
            None => true,
            Some(Want::Pause(until)) => Instant::now() >= until,
            Some(Want::Building | Want::Refused) => false,
        };
        if build {
            *want_of(&mut wants, table, column) = Want::Building;
        }
        (None, build)
    }

    /// A queued build could not be sent to the writer.
    pub(crate) fn not_built(&self, table: &str, column: Option<&str>) {
        if let Some(cols) = lock(&self.wants).get_mut(table) {
            cols.retain(|(c, _)| c.as_deref() != column);
        }
    }

    /// Reads `column` of `table` on the writer connection, inside its transaction, to keep it
    /// from the transaction's commit on ([`Counts::committed`]).
    ///
    /// Locks, here and everywhere, are taken in one order: `wants`, `writer`, `tables`.
    pub(crate) fn build(&self, conn: &Connection, table: &str, column: Option<&str>) {
        let started = Instant::now();
        // outside a transaction (the writer could not begin one) another connection could
        // commit between the read and the commit that publishes it
        let built = if self.suspended.load(Ordering::Acquire) || conn.is_autocommit() {
            Err(Skip::Small)
        } else {
            self.read_column(conn, table, column)
        };
        let mut wants = lock(&self.wants);
        let want = want_of(&mut wants, table, column);
        let col = match built {
            Ok(col) => col,
            Err(Skip::Small) => {
                *want = Want::Pause(Instant::now() + SMALL_PAUSE);
                return;
            }
            Err(Skip::Refused) => {
                *want = Want::Refused;
                return;
            }
        };
        let mut w = lock(&self.writer);
        if w.data_version.is_none() {
            match data_version(conn) {
                Some(v) => w.data_version = Some((v, Instant::now())),
                None => {
                    *want = Want::Refused;
                    return;
                }
            }
        }
        w.touched.entry(table.to_owned()).or_default();
        w.built
            .retain(|(t, c)| t != table || c.column.as_deref() != column);
        w.built.push((table.to_owned(), col));
        self.active.store(true, Ordering::Release);
        // dropped later (a schema change, foreign SQL), it is built again at most once per ten
        // times this build took
        let pause = (started.elapsed() * 10).max(Duration::from_secs(1));
        *want = Want::Pause(Instant::now() + pause);
    }

    fn read_column(
        &self,
        conn: &Connection,
        table: &str,
        column: Option<&str>,
    ) -> Result<Column, Skip> {
        // Changes made by triggers and foreign-key actions are not all reported by the hook.
        let triggers: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'",
                [],
                |r| r.get(0),
            )
            .map_err(refused)?;
        let actions: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_foreign_key_list(?1) \
                 WHERE on_delete NOT IN ('NO ACTION', 'RESTRICT') \
                 OR on_update NOT IN ('NO ACTION', 'RESTRICT')",
                [table],
                |r| r.get(0),
            )
            .map_err(refused)?;
        // a table declared with ON CONFLICT REPLACE deletes rows the hook does not report
        let declared: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(refused)?;
        if triggers > 0 || actions > 0 || declared.to_ascii_uppercase().contains("REPLACE") {
            return Err(Skip::Refused);
        }
        let kept: usize = self
            .tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .flatten()
            .map(|c| c.ranked.len)
            .sum();
        let value = column.map_or_else(|| "0".to_owned(), quote);
        // the table itself, in rowid order (SQLite would rather scan a smaller covering index)
        let sql = format!("SELECT rowid, {value} FROM {} NOT INDEXED", quote(table));
        let mut stmt = conn.prepare(&sql).map_err(refused)?;
        let mut rows = stmt.query([]).map_err(refused)?;
        let mut values = Vec::new();
        let mut by_rowid = Vec::new();
        while let Some(row) = rows.next().map_err(refused)? {
            let rowid = usize::try_from(row.get::<_, i64>(0).map_err(refused)?).map_err(refused)?;
            let v = number(row.get_ref(1).map_err(refused)?).ok_or(Skip::Refused)?;
            if kept + values.len() >= MAX_VALUES || rowid >= 4 * MAX_VALUES {
                return Err(Skip::Refused);
            }
            if rowid >= by_rowid.len() {
                by_rowid.resize(rowid + 1, f64::NAN);
            }
            by_rowid[rowid] = v;
            values.push(v);
        }
        if values.len() < MIN_ROWS {
            return Err(Skip::Small);
        }
        // rowids far beyond the rows (most deleted): the array would cost more than it saves
        if by_rowid.len() > 4 * values.len() + 65_536 {
            return Err(Skip::Refused);
        }
        values.sort_unstable_by(f64::total_cmp);
        Ok(Column {
            column: column.map(str::to_owned),
            ranked: Ranked::from_sorted(&values),
            by_rowid,
        })
    }

    /// The update hook: `rowid` of `table` was written.
    pub(crate) fn touch(&self, table: &str, rowid: i64) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        if let Some(rows) = lock(&self.writer).touched.get_mut(table) {
            rows.push(rowid);
        }
    }

    /// The writer's authorizer: a statement is being prepared that may change the schema.
    pub(crate) fn schema_statement(&self) {
        if self.active.load(Ordering::Acquire) {
            self.schema_statement.store(true, Ordering::Release);
        }
    }

    /// Drops everything if another connection committed since the last look, a second ago or
    /// more (`PRAGMA data_version`: a few microseconds, not paid on every commit). The writer
    /// also calls it when it has been idle for a second.
    pub(crate) fn look_for_other_writers(&self, conn: &Connection) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let mut w = lock(&self.writer);
        let Some((seen, at)) = w.data_version else {
            return;
        };
        if at.elapsed() < OTHER_WRITERS_EVERY {
            return;
        }
        match data_version(conn) {
            Some(v) if v == seen => w.data_version = Some((v, Instant::now())),
            _ => {
                drop(w);
                self.forget();
            }
        }
    }

    /// After a COMMIT on the writer connection: the columns built in the transaction are kept
    /// from now on, and the touched rows' values, read again, replace the ones kept. Runs before
    /// the group's writes are answered.
    pub(crate) fn committed(&self, conn: &Connection) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        if self.schema_statement.swap(false, Ordering::AcqRel)
            || self.suspended.load(Ordering::Acquire)
        {
            self.forget();
            return;
        }
        self.look_for_other_writers(conn);
        let mut changes: Vec<(String, Vec<RowValues>)> = Vec::new();
        let mut overflow = Vec::new();
        {
            let mut w = lock(&self.writer);
            let built = std::mem::take(&mut w.built);
            if !built.is_empty() {
                let mut tables = self.tables.write().unwrap_or_else(|p| p.into_inner());
                for (table, col) in built {
                    let cols = tables.entry(table).or_default();
                    cols.retain(|c| c.column != col.column);
                    cols.push(col);
                }
            }
            for (table, rowids) in w.touched.iter_mut() {
                if rowids.is_empty() {
                    continue;
                }
                let mut rowids = std::mem::take(rowids);
                if rowids.len() > MAX_TOUCHED {
                    overflow.push(table.clone());
                    continue;
                }
                rowids.sort_unstable();
                rowids.dedup();
                match self.read_rows(conn, table, &rowids) {
                    Some(rows) => changes.push((table.clone(), rows)),
                    None => overflow.push(table.clone()),
                }
            }
        }
        if changes.is_empty() && overflow.is_empty() {
            return;
        }
        let mut refused: Vec<(String, Option<String>)> = Vec::new();
        let nothing_left = {
            let mut tables = self.tables.write().unwrap_or_else(|p| p.into_inner());
            for (table, rows) in changes {
                let Some(cols) = tables.get_mut(&table) else {
                    continue;
                };
                let mut gone = Vec::new();
                for (i, col) in cols.iter_mut().enumerate() {
                    for (rowid, values) in &rows {
                        let value = match values {
                            None => None,
                            Some(vs) => match vs[i] {
                                Some(v) => Some(v),
                                None => {
                                    gone.push(i);
                                    break;
                                }
                            },
                        };
                        if !col.set(*rowid, value) {
                            gone.push(i);
                            break;
                        }
                    }
                }
                gone.dedup();
                for &i in gone.iter().rev() {
                    refused.push((table.clone(), cols.remove(i).column));
                }
            }
            for table in overflow {
                tables.remove(&table);
            }
            tables.retain(|_, cols| !cols.is_empty());
            tables.is_empty()
        };
        if !refused.is_empty() {
            let mut wants = lock(&self.wants);
            for (table, column) in &refused {
                *want_of(&mut wants, table, column.as_deref()) = Want::Refused;
            }
        }
        if nothing_left {
            // this thread is the only one that builds: nothing can have been added meanwhile
            self.active.store(false, Ordering::Release);
            let mut w = lock(&self.writer);
            w.touched.clear();
            w.data_version = None;
        }
    }

    /// The current values of `rowids` in the kept columns of `table`.
    fn read_rows(&self, conn: &Connection, table: &str, rowids: &[i64]) -> Option<Vec<RowValues>> {
        let columns: Vec<String> = self
            .tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(table)?
            .iter()
            .map(|c| c.column.as_deref().map_or_else(|| "0".to_owned(), quote))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE rowid = ?1",
            columns.join(", "),
            quote(table)
        );
        let mut stmt = conn.prepare_cached(&sql).ok()?;
        let mut out = Vec::with_capacity(rowids.len());
        for &rowid in rowids {
            let mut rows = stmt.query([rowid]).ok()?;
            let values = rows.next().ok()?.map(|row| {
                (0..columns.len())
                    .map(|i| row.get_ref(i).ok().and_then(number))
                    .collect()
            });
            out.push((rowid, values));
        }
        Some(out)
    }

    /// Drops everything kept, and what could not be kept (built again on demand).
    pub(crate) fn forget(&self) {
        let mut wants = lock(&self.wants);
        let mut w = lock(&self.writer);
        let mut tables = self.tables.write().unwrap_or_else(|p| p.into_inner());
        tables.clear();
        self.active.store(false, Ordering::Release);
        w.touched.clear();
        w.built.clear();
        w.data_version = None;
        self.schema_statement.store(false, Ordering::Release);
        for cols in wants.values_mut() {
            cols.retain(|(_, want)| matches!(want, Want::Pause(_)));
        }
    }
}

/// `PRAGMA data_version` of `conn`: it moves when another connection commits.
fn data_version(conn: &Connection) -> Option<i64> {
    conn.prepare_cached("PRAGMA data_version")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .ok()
}

/// While [`Counts::suspend`]'s guard lives, nothing is kept or answered.
pub(crate) struct Suspended<'c>(&'c Counts);

impl Counts {
    /// Drops everything kept and keeps nothing until the guard is dropped (then drops again what
    /// may have been read meanwhile): for VACUUM on another connection, which renumbers rowids.
    pub(crate) fn suspend(&self) -> Suspended<'_> {
        self.suspended.store(true, Ordering::Release);
        self.forget();
        Suspended(self)
    }
}

impl Drop for Suspended<'_> {
    fn drop(&mut self) {
        self.0.forget();
        self.0.suspended.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), enough to draw test values.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn naive(values: &[f64], r: &NumberRange) -> usize {
        values
            .iter()
            .filter(|v| r.contains(**v) && !r.except.contains(v))
            .count()
    }

    fn random_range(rng: &mut Rng) -> NumberRange {
        let mut r = NumberRange::all();
        for _ in 0..rng.below(4) {
            let cmp = [
                NumberCmp::Eq,
                NumberCmp::Ne,
                NumberCmp::Gt,
                NumberCmp::Ge,
                NumberCmp::Lt,
                NumberCmp::Le,
            ][rng.below(6) as usize];
            r.and(
                cmp,
                rng.below(60) as f64 - 10.0 + [0.0, 0.5][rng.below(2) as usize],
            );
        }
        r
    }

    #[test]
    fn counts_match_a_scan_through_inserts_and_removals() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut values: Vec<f64> = (0..5000).map(|_| rng.below(50) as f64 - 5.0).collect();
        let mut sorted = values.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let mut ranked = Ranked::from_sorted(&sorted);
        for step in 0..20_000 {
            match rng.below(3) {
                0 if !values.is_empty() => {
                    let i = rng.below(values.len() as u64) as usize;
                    let v = values.swap_remove(i);
                    assert!(ranked.remove(v));
                }
                _ => {
                    let v = rng.below(50) as f64 - 5.0 + [0.0, 0.25][rng.below(2) as usize];
                    values.push(v);
                    ranked.insert(v);
                }
            }
            assert!(!ranked.remove(1000.0));
            if step % 50 == 0 {
                let r = random_range(&mut rng);
                assert_eq!(ranked.count(&r), naive(&values, &r), "{r:?}");
                assert_eq!(ranked.len, values.len());
            }
        }
        // everything out again: empty blocks go
        for v in values.drain(..) {
            assert!(ranked.remove(v));
        }
        assert_eq!(ranked.count(&NumberRange::all()), 0);
        assert!(ranked.blocks.is_empty());
        ranked.insert(3.0);
        assert_eq!(ranked.count(&NumberRange::all()), 1);
    }

    #[test]
    fn ranges_narrow_as_sql_would() {
        let values: Vec<f64> = vec![-1.0, 0.0, 0.0, 1.5, 2.0, 2.0, 3.0];
        let ranked = Ranked::from_sorted(&values);
        let count = |terms: &[(NumberCmp, f64)]| {
            let mut r = NumberRange::all();
            for (c, x) in terms {
                r.and(*c, *x);
            }
            ranked.count(&r)
        };
        assert_eq!(count(&[]), 7);
        assert_eq!(count(&[(NumberCmp::Eq, 0.0)]), 2);
        assert_eq!(count(&[(NumberCmp::Eq, -0.0)]), 2);
        assert_eq!(count(&[(NumberCmp::Ne, 2.0)]), 5);
        assert_eq!(count(&[(NumberCmp::Ge, 0.0), (NumberCmp::Lt, 2.0)]), 3);
        assert_eq!(count(&[(NumberCmp::Gt, 0.0), (NumberCmp::Le, 2.0)]), 3);
        assert_eq!(count(&[(NumberCmp::Gt, 2.0), (NumberCmp::Lt, 2.0)]), 0);
        assert_eq!(count(&[(NumberCmp::Ge, 2.0), (NumberCmp::Le, 2.0)]), 2);
        assert_eq!(count(&[(NumberCmp::Ge, 3.0), (NumberCmp::Le, 0.0)]), 0);
        assert_eq!(count(&[(NumberCmp::Eq, 2.0), (NumberCmp::Ne, 2.0)]), 0);
        assert_eq!(count(&[(NumberCmp::Ne, 0.0), (NumberCmp::Ne, 0.0)]), 5);
        assert_eq!(count(&[(NumberCmp::Ne, 9.0), (NumberCmp::Lt, 1.0)]), 3);
        assert_eq!(count(&[(NumberCmp::Gt, 5.0)]), 0);
        assert_eq!(count(&[(NumberCmp::Lt, -5.0)]), 0);
    }
}
