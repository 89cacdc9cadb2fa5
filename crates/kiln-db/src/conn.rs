//! A connection handed to read and write closures, hiding the driver.

use crate::{DbError, Dialect, Value, ValueRef};

/// One open connection: a pooled reader, or the writer inside its transaction.
pub struct Conn<'a> {
    pub(crate) inner: &'a rusqlite::Connection,
    pub(crate) dialect: Dialect,
}

/// One result row, valid inside the callback that receives it.
pub struct Row<'r, 's> {
    inner: &'r rusqlite::Row<'s>,
}

impl<'r, 's> Row<'r, 's> {
    /// The value of column `idx`, borrowed.
    pub fn get(&self, idx: usize) -> ValueRef<'r> {
        match self.inner.get_ref(idx) {
            Ok(v) => v.into(),
            Err(_) => ValueRef::Null,
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.inner.as_ref().column_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Name of column `idx`.
    pub fn column_name(&self, idx: usize) -> &str {
        self.inner.as_ref().column_name(idx).unwrap_or("")
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
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Runs `sql` (cached prepared statement) and calls `f` for each row.
    pub fn query(
        &self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(&Row<'_, '_>) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut stmt = self.inner.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        while let Some(row) = rows.next()? {
            f(&Row { inner: row })?;
        }
        Ok(())
    }

    /// Runs `sql` and maps the first row, if any.
    pub fn query_one<R>(
        &self,
        sql: &str,
        params: &[Value],
        f: impl FnOnce(&Row<'_, '_>) -> Result<R, DbError>,
    ) -> Result<Option<R>, DbError> {
        let mut stmt = self.inner.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        match rows.next()? {
            Some(row) => Ok(Some(f(&Row { inner: row })?)),
            None => Ok(None),
        }
    }

    /// Runs a single scalar query returning an integer (e.g. `SELECT COUNT(*)`).
    pub fn query_i64(&self, sql: &str, params: &[Value]) -> Result<i64, DbError> {
        Ok(self.query_one(sql, params, |r| Ok(r.int(0)))?.unwrap_or(0))
    }

    /// Executes one statement; returns the number of changed rows.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<usize, DbError> {
        let mut stmt = self.inner.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))?)
    }

    /// Executes several `;`-separated statements without parameters (DDL). Not cached.
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.inner.execute_batch(sql)?)
    }

    /// Checks that `sql` is a single statement that parses against the current schema, without
    /// running it. Used to validate index definitions and view queries.
    pub fn check_sql(&self, sql: &str) -> Result<(), DbError> {
        let stmt = self.inner.prepare(sql)?;
        drop(stmt);
        Ok(())
    }

    /// Column names a query yields, without running it.
    pub fn columns_of(&self, sql: &str) -> Result<Vec<String>, DbError> {
        let stmt = self.inner.prepare(sql)?;
        Ok(stmt.column_names().into_iter().map(str::to_owned).collect())
    }

    /// Runs `f` inside a savepoint: its changes are undone if it fails. Lets a batch or a
    /// collection migration fail part-way without aborting the surrounding transaction.
    pub fn savepoint<R, E: From<DbError>>(&self, f: impl FnOnce(&Conn<'_>) -> Result<R, E>) -> Result<R, E> {
        self.inner.execute_batch("SAVEPOINT kiln_sp").map_err(DbError::from)?;
        match f(self) {
            Ok(r) => {
                self.inner.execute_batch("RELEASE kiln_sp").map_err(DbError::from)?;
                Ok(r)
            }
            Err(e) => {
                let _ = self.inner.execute_batch("ROLLBACK TO kiln_sp; RELEASE kiln_sp");
                Err(e)
            }
        }
    }

    /// Runs `f` inside a savepoint and always undoes its changes, returning its result. Used to
    /// test a rule against a row that is not to be kept.
    pub fn trial<R, E: From<DbError>>(&self, f: impl FnOnce(&Conn<'_>) -> Result<R, E>) -> Result<R, E> {
        self.inner.execute_batch("SAVEPOINT kiln_trial").map_err(DbError::from)?;
        let result = f(self);
        self.inner.execute_batch("ROLLBACK TO kiln_trial; RELEASE kiln_trial").map_err(DbError::from)?;
        result
    }
}
