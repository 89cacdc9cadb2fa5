//! A connection handed to read and write closures, hiding the driver.

use crate::pg::{PgRow, PgSession};
use crate::{DbError, Dialect, Value, ValueRef};

/// One open connection: a pooled reader, or the writer inside its transaction.
pub struct Conn<'a> {
    inner: Driver<'a>,
    /// SQLite's writer: the counts its transaction must keep true.
    counts: Option<&'a crate::counts::Counts>,
}

enum Driver<'a> {
    Sqlite(&'a rusqlite::Connection),
    Pg(&'a PgSession),
}

/// One result row, valid inside the callback that receives it.
pub struct Row<'r, 's> {
    inner: RowDriver<'r, 's>,
}

enum RowDriver<'r, 's> {
    Sqlite(&'r rusqlite::Row<'s>),
    Pg(&'r PgRow),
}

impl<'r, 's> Row<'r, 's> {
    pub(crate) fn pg(row: &'r PgRow) -> Self {
        Row {
            inner: RowDriver::Pg(row),
        }
    }

    /// The value of column `idx`, borrowed.
    pub fn get(&self, idx: usize) -> ValueRef<'r> {
        match &self.inner {
            RowDriver::Sqlite(r) => match r.get_ref(idx) {
                Ok(v) => v.into(),
                Err(_) => ValueRef::Null,
            },
            RowDriver::Pg(r) => crate::pg::value_at(r, idx),
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        match &self.inner {
            RowDriver::Sqlite(r) => r.as_ref().column_count(),
            RowDriver::Pg(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Name of column `idx`.
    pub fn column_name(&self, idx: usize) -> &str {
        match &self.inner {
            RowDriver::Sqlite(r) => r.as_ref().column_name(idx).unwrap_or(""),
            RowDriver::Pg(r) => r.columns().get(idx).map(|c| c.name()).unwrap_or(""),
        }
    }

    /// Text of column `idx` (empty for NULL).
    pub fn text(&self, idx: usize) -> String {
        self.get(idx).as_str().to_owned()
    }

    pub fn int(&self, idx: usize) -> i64 {
        match self.get(idx) {
            ValueRef::Int(i) => i,
            other => other.as_f64() as i64,
        }
    }
}

impl<'a> Conn<'a> {
    pub(crate) fn sqlite(c: &'a rusqlite::Connection) -> Self {
        Conn {
            inner: Driver::Sqlite(c),
            counts: None,
        }
    }

    /// SQLite's writer connection, inside its transaction.
    pub(crate) fn sqlite_writer(
        c: &'a rusqlite::Connection,
        counts: &'a crate::counts::Counts,
    ) -> Self {
        Conn {
            inner: Driver::Sqlite(c),
            counts: Some(counts),
        }
    }

    pub(crate) fn pg(s: &'a PgSession) -> Self {
        Conn {
            inner: Driver::Pg(s),
            counts: None,
        }
    }

    /// Says that this transaction changes rows in a way SQLite's update hook does not report (a
    /// DELETE without WHERE: SQLite empties the table at once): the counts kept in memory are
    /// dropped (see `counts.rs`). Nothing elsewhere.
    pub fn forget_counts(&self) {
        if let Some(counts) = self.counts {
            counts.forget();
        }
    }

    /// Says that `sql`, which Kiln did not write (an app's hook, a migration), runs next in this
    /// transaction: unless it only reads, the counts kept in memory are dropped — it may delete
    /// rows through `REPLACE`, empty a table or change rowids, none of which SQLite's update hook
    /// reports. Nothing on a reader or on PostgreSQL.
    pub fn foreign(&self, sql: &str) {
        if let (Some(counts), Driver::Sqlite(c)) = (self.counts, &self.inner) {
            let reads = c.prepare_cached(sql).is_ok_and(|s| s.readonly());
            if !reads {
                counts.forget();
            }
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Driver::Sqlite(_) => Dialect::Sqlite,
            Driver::Pg(_) => Dialect::Postgres,
        }
    }

    /// Runs `sql` (cached prepared statement) and calls `f` for each row.
    pub fn query(
        &self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(&Row<'_, '_>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        match self.inner {
            Driver::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                while let Some(row) = rows.next()? {
                    f(&Row {
                        inner: RowDriver::Sqlite(row),
                    })?;
                }
                Ok(())
            }
            Driver::Pg(s) => {
                for row in s.query(sql, params)? {
                    f(&Row::pg(&row))?;
                }
                Ok(())
            }
        }
    }

    /// Runs `sql` and maps the first row, if any.
    pub fn query_one<R>(
        &self,
        sql: &str,
        params: &[Value],
        f: impl FnOnce(&Row<'_, '_>) -> Result<R, DbError>,
    ) -> Result<Option<R>, DbError> {
        match self.inner {
            Driver::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                match rows.next()? {
                    Some(row) => Ok(Some(f(&Row {
                        inner: RowDriver::Sqlite(row),
                    })?)),
                    None => Ok(None),
                }
            }
            Driver::Pg(s) => match s.query(sql, params)?.first() {
                Some(row) => Ok(Some(f(&Row::pg(row))?)),
                None => Ok(None),
            },
        }
    }

    /// Runs a single scalar query returning an integer (e.g. `SELECT COUNT(*)`).
    pub fn query_i64(&self, sql: &str, params: &[Value]) -> Result<i64, DbError> {
        Ok(self.query_one(sql, params, |r| Ok(r.int(0)))?.unwrap_or(0))
    }

    /// Executes one statement; returns the number of changed rows.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<usize, DbError> {
        match self.inner {
            Driver::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))?)
            }
            Driver::Pg(s) => s.execute(sql, params),
        }
    }

    /// Executes several `;`-separated statements without parameters (DDL). Not cached.
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        match self.inner {
            Driver::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Driver::Pg(s) => s.execute_ddl(sql),
        }
    }

    /// Runs one statement written by a superuser (`POST /api/sql`; not cached, no parameters)
    /// and returns its columns and first `max_rows` rows, every value as text.
    pub fn raw_query(&self, sql: &str, max_rows: usize) -> Result<RawRows, DbError> {
        let mut out = RawRows::default();
        match self.inner {
            Driver::Sqlite(c) => {
                let mut stmt = c.prepare(sql)?;
                out.columns = stmt
                    .columns()
                    .iter()
                    .map(|col| {
                        (
                            col.name().to_owned(),
                            col.decl_type().unwrap_or("").to_owned(),
                        )
                    })
                    .collect();
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    if out.rows.len() >= max_rows {
                        break;
                    }
                    out.rows.push(raw_row(&Row {
                        inner: RowDriver::Sqlite(row),
                    }));
                }
            }
            Driver::Pg(s) => {
                let (columns, rows) = s.raw_query(sql)?;
                out.columns = columns;
                out.rows = rows
                    .iter()
                    .take(max_rows)
                    .map(|r| raw_row(&Row::pg(r)))
                    .collect();
            }
        }
        Ok(out)
    }

    /// Runs `;`-separated statements written by a superuser inside the caller's transaction
    /// (`POST /api/sql`); returns the rows changed by the last one. Statements that would end
    /// or nest the transaction (`BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`, `END`)
    /// are refused before anything runs.
    pub fn raw_execute(&self, sql: &str) -> Result<u64, DbError> {
        if let Some(word) = transaction_control(sql) {
            return Err(DbError::Query(format!(
                "{word} is not allowed: the query runs in a transaction of its own"
            )));
        }
        self.forget_counts();
        match self.inner {
            Driver::Sqlite(c) => {
                c.execute_batch(sql)?;
                Ok(c.changes())
            }
            Driver::Pg(s) => s.raw_execute(sql),
        }
    }

    /// Column names a query yields, without running it.
    pub fn columns_of(&self, sql: &str) -> Result<Vec<String>, DbError> {
        match self.inner {
            Driver::Sqlite(c) => {
                let stmt = c.prepare(sql)?;
                Ok(stmt.column_names().into_iter().map(str::to_owned).collect())
            }
            Driver::Pg(s) => s.columns_of(sql),
        }
    }

    /// Runs a transaction-control statement without parameters (`SAVEPOINT`, `RELEASE`, …).
    fn control(&self, sql: &str) -> Result<(), DbError> {
        match self.inner {
            Driver::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Driver::Pg(s) => s.control(sql),
        }
    }

    /// Runs `f` inside a savepoint: its changes are undone if it fails. Lets a batch or a
    /// collection migration fail part-way without aborting the surrounding transaction.
    pub fn savepoint<R, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Conn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        self.control("SAVEPOINT kiln_sp")?;
        match f(self) {
            Ok(r) => {
                self.control("RELEASE kiln_sp")?;
                Ok(r)
            }
            Err(e) => {
                let _ = self.control("ROLLBACK TO kiln_sp");
                let _ = self.control("RELEASE kiln_sp");
                Err(e)
            }
        }
    }

    /// Runs `f` inside a savepoint and always undoes its changes, returning its result. Used to
    /// test a rule against a row that is not to be kept.
    pub fn trial<R, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Conn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        self.control("SAVEPOINT kiln_trial")?;
        let result = f(self);
        self.control("ROLLBACK TO kiln_trial")?;
        self.control("RELEASE kiln_trial")?;
        result
    }
}

/// What [`Conn::raw_query`] returns.
#[derive(Debug, Default)]
pub struct RawRows {
    /// Name and declared type of each column (`""` when the engine knows none, as for an
    /// expression on SQLite).
    pub columns: Vec<(String, String)>,
    /// The rows, each value as text (`None`: NULL).
    pub rows: Vec<Vec<Option<String>>>,
}

fn raw_row(row: &Row<'_, '_>) -> Vec<Option<String>> {
    (0..row.len())
        .map(|i| match row.get(i) {
            ValueRef::Null => None,
            ValueRef::Int(n) => Some(n.to_string()),
            ValueRef::Float(x) => Some(x.to_string()),
            ValueRef::Text(t) => Some(t.to_owned()),
            ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        })
        .collect()
}

/// The first statement of `sql` that controls transactions, by its leading keyword. Statements
/// are split on `;` outside quotes, identifiers in quotes and comments.
fn transaction_control(sql: &str) -> Option<&'static str> {
    const WORDS: [&str; 7] = [
        "BEGIN",
        "COMMIT",
        "END",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "ABORT",
    ];
    let bytes = sql.as_bytes();
    let mut i = 0;
    let mut at_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                while i < bytes.len() && bytes[i] != close {
                    i += 1;
                }
                at_start = false;
            }
            b';' => at_start = true,
            c if c.is_ascii_whitespace() => {}
            c if at_start && c.is_ascii_alphabetic() => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !b.is_ascii_alphabetic())
                    .map_or(bytes.len(), |n| i + n);
                let word = &sql[i..end];
                if let Some(w) = WORDS.iter().find(|w| w.eq_ignore_ascii_case(word)) {
                    return Some(w);
                }
                at_start = false;
                i = end;
                continue;
            }
            _ => at_start = false,
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::transaction_control;

    #[test]
    fn transaction_control_is_found_in_any_statement() {
        assert_eq!(transaction_control("DELETE FROM t"), None);
        assert_eq!(transaction_control("DELETE FROM t; COMMIT"), Some("COMMIT"));
        assert_eq!(
            transaction_control("  -- x\n/* y */ begin; select 1"),
            Some("BEGIN")
        );
        assert_eq!(transaction_control("UPDATE t SET a = 'COMMIT; x'"), None);
        assert_eq!(transaction_control("UPDATE t SET \"end\" = 1"), None);
        assert_eq!(
            transaction_control("DELETE FROM t;savepoint a"),
            Some("SAVEPOINT")
        );
        assert_eq!(
            transaction_control("DROP TABLE x; ReLeAsE a"),
            Some("RELEASE")
        );
        assert_eq!(
            transaction_control("INSERT INTO t VALUES (1) -- ; COMMIT"),
            None
        );
        assert_eq!(
            transaction_control("UPDATE t SET a = CASE WHEN 1 THEN 2 END"),
            None
        );
    }
}
