//! The `_jobs` table, created when the app opens: one row per job, its state and its lease.

use kiln_db::Conn;

use crate::error::Result;

/// Creates `_jobs` and its indexes if missing (one definition for SQLite and PostgreSQL).
///
/// `status`: `queued` (waits for `run_at`), `running` (leased by `node` until `lease_until`),
/// `done`, `failed` (its attempts ran out: the dead letters). A `unique_key` is unique among
/// the jobs not yet finished.
pub fn ensure_table(conn: &Conn<'_>) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_jobs\" (
            \"id\" TEXT PRIMARY KEY NOT NULL,
            \"name\" TEXT NOT NULL,
            \"payload\" TEXT NOT NULL DEFAULT 'null',
            \"status\" TEXT NOT NULL DEFAULT 'queued',
            \"attempts\" INTEGER NOT NULL DEFAULT 0,
            \"max_attempts\" INTEGER NOT NULL DEFAULT 5,
            \"backoff\" BIGINT NOT NULL DEFAULT 1000,
            \"run_at\" BIGINT NOT NULL,
            \"lease_until\" BIGINT NOT NULL DEFAULT 0,
            \"node\" TEXT NOT NULL DEFAULT '',
            \"unique_key\" TEXT NOT NULL DEFAULT '',
            \"last_error\" TEXT NOT NULL DEFAULT '',
            \"created\" BIGINT NOT NULL,
            \"updated\" BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS \"idx__jobs_due\" ON \"_jobs\" (\"status\", \"run_at\");
        CREATE UNIQUE INDEX IF NOT EXISTS \"idx__jobs_unique\" ON \"_jobs\" (\"unique_key\")
            WHERE \"unique_key\" <> '' AND \"status\" IN ('queued', 'running');",
    )?;
    Ok(())
}
