//! The `_certs` table, created when the app opens.

use kiln_db::Conn;

use crate::error::Result;

/// Creates `_certs` if missing (the same definition on SQLite and PostgreSQL).
pub(crate) fn ensure_table(conn: &Conn<'_>) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_certs\" (
            \"key\" TEXT PRIMARY KEY NOT NULL,
            \"value\" TEXT NOT NULL,
            \"expires\" BIGINT NOT NULL DEFAULT 0,
            \"updated\" BIGINT NOT NULL
        )",
    )?;
    Ok(())
}
