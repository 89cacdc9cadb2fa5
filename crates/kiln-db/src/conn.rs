//! A connection handed to read and write closures, hiding the driver.

use crate::pg::{PgRow, PgSession};
use crate::{DbError, Dialect, Value, ValueRef};

/// One open connection: a pooled reader, or the writer inside its transaction.
pub struct Conn<'a> {
    inner: Driver<'a>,
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
        }
    }

    pub(crate) fn pg(s: &'a PgSession) -> Self {
        Conn {
            inner: Driver::Pg(s),
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
