//! The `_webhook_events` table, created when the app opens: each inbound event once, by its
//! endpoint and the sender's event id.

use kiln_db::Conn;

use crate::error::Result;

/// Creates `_webhook_events` if missing (one definition for SQLite and PostgreSQL).
pub fn ensure_table(conn: &Conn<'_>) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_webhook_events\" (
            \"endpoint\" TEXT NOT NULL,
            \"event_id\" TEXT NOT NULL,
            \"type\" TEXT NOT NULL DEFAULT '',
            \"job\" TEXT NOT NULL DEFAULT '',
            \"received\" BIGINT NOT NULL,
            PRIMARY KEY (\"endpoint\", \"event_id\")
        )",
    )?;
    Ok(())
}
