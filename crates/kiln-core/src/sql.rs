//! `POST /api/sql`: SQL written by a superuser, run as PocketBase 0.40 runs it. A query that
//! starts like a write (`INSERT`, `CREATE`, `UPDATE`, `DELETE`, `DROP`, `DETACH`, `ALTER`,
//! `REPLACE`) runs in a write transaction of its own and reports the rows it changed; anything
//! else runs on a reader and returns its first rows, every value as text.

use std::time::Instant;

use serde::Serialize;

use crate::app::App;
use crate::error::{Action, CoreError, FieldError, Result};

/// Rows returned at most (PocketBase's limit).
pub const MAX_ROWS: usize = 1000;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 5000;

const WRITE_PREFIXES: [&str; 8] = [
    "INSERT", "CREATE", "UPDATE", "DELETE", "DROP", "DETACH", "ALTER", "REPLACE",
];

/// One column of a result.
#[derive(Debug, Serialize)]
pub struct SqlColumn {
    pub name: String,
    /// The declared type (SQLite) or type name (PostgreSQL); empty for an expression on SQLite.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always true: neither engine tells reliably (PocketBase answers the same).
    pub nullable: bool,
}

/// What a query did, as PocketBase answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlResult {
    /// Milliseconds the query took.
    pub exec_time: u64,
    pub affected_rows: u64,
    pub columns: Vec<SqlColumn>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// Whether PocketBase would run `query` as a write: a known write keyword first, not `SELECT`.
fn is_write(query: &str) -> bool {
    let head: String = query.chars().take(8).collect::<String>().to_uppercase();
    !head.starts_with("SELECT") && WRITE_PREFIXES.iter().any(|p| head.starts_with(p))
}

/// A superuser's query as PocketBase's forms check it: required, at most [`MAX_QUERY_CHARS`].
pub(crate) fn check_query(query: &str) -> Result<()> {
    // blank only when empty: spaces pass the form and fail as an empty query (as PocketBase)
    if query.is_empty() {
        let e = FieldError::required();
        return Err(CoreError::validation(Action::ValidateForm, "query", e));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        let e = FieldError::new(
            "validation_length_too_long",
            format!("The length must be no more than {MAX_QUERY_CHARS}."),
        )
        .with_params(serde_json::json!({ "max": MAX_QUERY_CHARS, "min": 0 }));
        return Err(CoreError::validation(Action::ValidateForm, "query", e));
    }
    Ok(())
}

impl App {
    /// Runs a superuser's SQL (see the module docs). After a write the collections are read
    /// again, and the other nodes told, since the query may have changed them.
    pub async fn run_sql(&self, query: &str) -> Result<SqlResult> {
        check_query(query)?;
        let query = query.trim();
        if query.is_empty() {
            return Err(CoreError::SqlFailed("empty query".into()));
        }
        // the database's own words, without Kiln's "database error" prefix
        let failed = |e: kiln_db::DbError| {
            CoreError::SqlFailed(match e {
                kiln_db::DbError::Query(m) => m,
                other => other.to_string(),
            })
        };
        let started = Instant::now();
        let mut result = SqlResult {
            exec_time: 0,
            affected_rows: 0,
            columns: Vec::new(),
            rows: Vec::new(),
        };
        if is_write(query) {
            let q = query.to_owned();
            result.affected_rows = self
                .db()
                .write_long(move |c| c.savepoint(|c| c.raw_execute(&q)))
                .await
                .map_err(failed)?;
            self.reload_schema();
            self.announce_schema_change();
        } else {
            let db = self.db().clone();
            let q = query.to_owned();
            // off the async threads: a superuser's query may take long
            let rows = tokio::task::spawn_blocking(move || db.read(|c| c.raw_query(&q, MAX_ROWS)))
                .await
                .map_err(|_| CoreError::Internal("the SQL query panicked".into()))?
                .map_err(failed)?;
            result.columns = rows
                .columns
                .into_iter()
                .map(|(name, kind)| SqlColumn {
                    name,
                    kind,
                    nullable: true,
                })
                .collect();
            result.rows = rows.rows;
        }
        result.exec_time = started.elapsed().as_millis() as u64;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::is_write;

    #[test]
    fn writes_are_told_by_their_first_word() {
        assert!(is_write("delete from posts"));
        assert!(is_write("INSERT INTO x VALUES (1)"));
        assert!(is_write("Drop table x"));
        assert!(!is_write("select * from x"));
        assert!(!is_write("WITH a AS (SELECT 1) SELECT * FROM a"));
        assert!(!is_write("PRAGMA table_info(x)"));
        assert!(!is_write("délété"));
    }
}
