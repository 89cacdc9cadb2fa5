//! One PostgreSQL connection with its prepared-statement cache.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::mem::ManuallyDrop;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

use super::error::map_err;
use crate::{DbError, Value};

/// Statements kept prepared per connection; the cache is emptied when it fills.
/// (name, type name) of each column of a result.
pub(crate) type NamedTypes = Vec<(String, String)>;

const MAX_CACHED: usize = 256;

/// Advisory lock key taken by every transaction that changes the schema, so that nodes sharing
/// a database apply collection changes one at a time ("kiln" in ASCII).
const DDL_LOCK: i64 = 0x6b69_6c6e;

/// A connection, used by one thread at a time. Kiln's SQL is written with SQLite's `?N`
/// placeholders; they are rewritten to `$N` once per statement text, when it is prepared.
pub(crate) struct PgSession {
    client: ManuallyDrop<RefCell<Client>>,
    stmts: RefCell<HashMap<String, Statement>>,
    /// The schema generation the cached statements were prepared against.
    pub(super) generation: Cell<u64>,
    /// A transaction is open (a write, or a savepoint opened outside one).
    in_txn: Cell<bool>,
    /// Savepoints open in a transaction that a savepoint itself started (on a reader).
    implicit: Cell<u32>,
    /// This transaction holds [`DDL_LOCK`] (it changed the schema).
    pub(super) changed_schema: Cell<bool>,
}

impl PgSession {
    pub(super) fn new(client: Client, generation: u64) -> PgSession {
        PgSession {
            client: ManuallyDrop::new(RefCell::new(client)),
            stmts: RefCell::new(HashMap::new()),
            generation: Cell::new(generation),
            in_txn: Cell::new(false),
            implicit: Cell::new(0),
            changed_schema: Cell::new(false),
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    /// Whether the server still answers (an empty query), within `timeout`.
    pub(super) fn is_valid(&self, timeout: std::time::Duration) -> bool {
        self.client.borrow_mut().is_valid(timeout).is_ok()
    }

    pub(super) fn in_txn(&self) -> bool {
        self.in_txn.get()
    }

    /// Forgets the prepared statements (after a schema change).
    pub(super) fn clear_cache(&self) {
        self.stmts.borrow_mut().clear();
    }

    fn prepare(&self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.stmts.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&dollar_placeholders(sql))
            .map_err(map_err)?;
        let mut cache = self.stmts.borrow_mut();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// Runs a statement with the cached plan; outside a transaction, a plan made stale by a
    /// schema change elsewhere is dropped and the statement prepared again once.
    fn run<T>(
        &self,
        sql: &str,
        params: &[Value],
        op: impl Fn(&mut Client, &Statement, &[&(dyn ToSql + Sync)]) -> Result<T, postgres::Error>,
    ) -> Result<T, DbError> {
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let result = self.prepare(sql).and_then(|stmt| {
            match op(&mut self.client.borrow_mut(), &stmt, &refs) {
                Err(e) if !self.in_txn.get() && is_stale_plan(&e) => {
                    self.clear_cache();
                    let stmt = self.prepare(sql)?;
                    op(&mut self.client.borrow_mut(), &stmt, &refs).map_err(map_err)
                }
                other => other.map_err(map_err),
            }
        });
        result.map_err(|e| with_statement(e, sql))
    }

    pub(crate) fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        self.run(sql, params, |c, s, p| c.query(s, p))
    }

    pub(crate) fn execute(&self, sql: &str, params: &[Value]) -> Result<usize, DbError> {
        self.run(sql, params, |c, s, p| c.execute(s, p))
            .map(|n| n as usize)
    }

    /// Runs schema statements. Inside a write, the first one takes [`DDL_LOCK`] until commit.
    pub(crate) fn execute_ddl(&self, sql: &str) -> Result<(), DbError> {
        self.before_ddl()?;
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(|e| with_statement(map_err(e), sql))
    }

    /// Inside a write, takes [`DDL_LOCK`] (once); clears the statement cache.
    fn before_ddl(&self) -> Result<(), DbError> {
        if self.in_txn.get() && !self.changed_schema.get() {
            self.client
                .borrow_mut()
                .execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])
                .map_err(map_err)?;
            self.changed_schema.set(true);
        }
        self.clear_cache();
        Ok(())
    }

    /// Runs one statement written by a superuser (no parameters, not cached): its columns
    /// (name, type name) and rows.
    pub(crate) fn raw_query(&self, sql: &str) -> Result<(NamedTypes, Vec<Row>), DbError> {
        let mut client = self.client.borrow_mut();
        let stmt = client
            .prepare(sql)
            .map_err(|e| with_statement(map_err(e), sql))?;
        let columns = stmt
            .columns()
            .iter()
            .map(|c| (c.name().to_owned(), c.type_().name().to_uppercase()))
            .collect();
        let rows = client
            .query(&stmt, &[])
            .map_err(|e| with_statement(map_err(e), sql))?;
        Ok((columns, rows))
    }

    /// Runs `;`-separated statements written by a superuser, as schema statements (the DDL
    /// lock, the statement cache cleared); returns the rows changed by the last one.
    pub(crate) fn raw_execute(&self, sql: &str) -> Result<u64, DbError> {
        self.before_ddl()?;
        let messages = self
            .client
            .borrow_mut()
            .simple_query(sql)
            .map_err(|e| with_statement(map_err(e), sql))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
                _ => None,
            })
            .next_back()
            .unwrap_or(0))
    }

    pub(crate) fn columns_of(&self, sql: &str) -> Result<Vec<String>, DbError> {
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&dollar_placeholders(sql))
            .map_err(map_err)?;
        Ok(stmt.columns().iter().map(|c| c.name().to_owned()).collect())
    }

    /// Transaction control for [`crate::Conn`]'s savepoints. A savepoint outside a transaction
    /// (on a reader) opens one, as SQLite does, and releasing the outermost one ends it.
    pub(crate) fn control(&self, sql: &str) -> Result<(), DbError> {
        let mut client = self.client.borrow_mut();
        if sql.starts_with("SAVEPOINT") {
            if !self.in_txn.get() {
                client.batch_execute("BEGIN").map_err(map_err)?;
                self.in_txn.set(true);
                self.implicit.set(1);
            } else if self.implicit.get() > 0 {
                self.implicit.set(self.implicit.get() + 1);
            }
            return client.batch_execute(sql).map_err(map_err);
        }
        client.batch_execute(sql).map_err(map_err)?;
        if sql.starts_with("RELEASE") && self.implicit.get() > 0 {
            self.implicit.set(self.implicit.get() - 1);
            if self.implicit.get() == 0 {
                self.in_txn.set(false);
                client.batch_execute("COMMIT").map_err(map_err)?;
            }
        }
        Ok(())
    }

    /// Starts a write transaction.
    pub(super) fn begin(&self) -> Result<(), DbError> {
        self.client
            .borrow_mut()
            .batch_execute("BEGIN")
            .map_err(map_err)?;
        self.in_txn.set(true);
        self.changed_schema.set(false);
        Ok(())
    }

    /// Ends the write transaction: commits, or rolls back.
    pub(super) fn finish(&self, commit: bool) -> Result<(), DbError> {
        self.in_txn.set(false);
        self.implicit.set(0);
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        self.client.borrow_mut().batch_execute(sql).map_err(map_err)
    }
}

impl Drop for PgSession {
    /// Closing a connection blocks on its own small runtime, which cannot run on a thread that
    /// drives async tasks: there it is closed on a thread of its own.
    fn drop(&mut self) {
        // SAFETY: `client` is taken exactly once, here, and never used after.
        #[allow(unsafe_code)]
        let client = unsafe { ManuallyDrop::take(&mut self.client) };
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::Builder::new()
                .name("kiln-pg-close".into())
                .spawn(move || drop(client));
        } else {
            drop(client);
        }
    }
}

/// Names the statement in a query error, for the logs (never sent to clients).
fn with_statement(e: DbError, sql: &str) -> DbError {
    match e {
        DbError::Query(m) => {
            let end = sql
                .char_indices()
                .nth(300)
                .map(|(i, _)| i)
                .unwrap_or(sql.len());
            DbError::Query(format!("{m} (in: {})", &sql[..end]))
        }
        other => other,
    }
}

/// Whether a statement failed because its cached plan predates a schema change.
fn is_stale_plan(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::FEATURE_NOT_SUPPORTED
            || *c == SqlState::INVALID_SQL_STATEMENT_NAME
            || *c == SqlState::UNDEFINED_TABLE
    })
}

/// Rewrites SQLite placeholders (`?1`, or bare `?` numbered in order) to PostgreSQL's `$N`,
/// leaving string literals, quoted identifiers and comments alone.
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut bare = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for q in chars.by_ref() {
                    out.push(q);
                    if q == c {
                        break; // a doubled quote re-enters the same state on the next char
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for q in chars.by_ref() {
                    out.push(q);
                    if q == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                out.push('$');
                if !chars.peek().is_some_and(char::is_ascii_digit) {
                    bare += 1;
                    out.push_str(&bare.to_string());
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::dollar_placeholders as d;

    #[test]
    fn placeholders_are_rewritten_outside_literals() {
        assert_eq!(
            d("SELECT * FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT * FROM t WHERE a = $1 AND b = $12"
        );
        assert_eq!(d("SELECT ? , ?"), "SELECT $1 , $2");
        assert_eq!(
            d("SELECT '?1', \"a?\" FROM t WHERE x = ?2"),
            "SELECT '?1', \"a?\" FROM t WHERE x = $2"
        );
        assert_eq!(d("SELECT 'it''s ?' || ?1"), "SELECT 'it''s ?' || $1");
        assert_eq!(d("SELECT 1 -- what?\n, ?3"), "SELECT 1 -- what?\n, $3");
    }
}
