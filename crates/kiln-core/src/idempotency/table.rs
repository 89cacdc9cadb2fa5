//! The `_idempotency` table, created when the app opens.

use kiln_db::Conn;

use crate::error::Result;

/// Creates `_idempotency` if missing (the same definition on SQLite and PostgreSQL).
pub fn ensure_table(conn: &Conn<'_>) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_idempotency\" (
            \"scope\" TEXT NOT NULL,
            \"key\" TEXT NOT NULL,
            \"fingerprint\" TEXT NOT NULL,
            \"status\" INTEGER NOT NULL DEFAULT 0,
            \"body\" TEXT NOT NULL DEFAULT '',
            \"created\" BIGINT NOT NULL,
            PRIMARY KEY (\"scope\", \"key\")
        )",
    )?;
    Ok(())
}
