//! The history of the app's migrations (`pb_migrations`): PocketBase's `_migrations` table, one
//! row per applied file, so that an app moved from PocketBase does not apply its files again.
//! The files themselves are JavaScript (kiln-hooks runs them).

use kiln_db::Conn;

use crate::app::App;
use crate::error::Result;

/// Creates `_migrations` if missing (PocketBase's definition; BIGINT, which SQLite reads as its
/// INTEGER, holds the microseconds on PostgreSQL too).
pub fn ensure_table(conn: &Conn<'_>) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_migrations\" (
            \"file\" VARCHAR(255) PRIMARY KEY NOT NULL,
            \"applied\" BIGINT NOT NULL
        )",
    )?;
    Ok(())
}

/// Notes `file` as applied now (microseconds, as PocketBase).
pub fn record(conn: &Conn<'_>, file: &str) -> Result<()> {
    ensure_table(conn)?;
    conn.execute(
        "INSERT INTO \"_migrations\" (\"file\", \"applied\") VALUES (?1, ?2)",
        &[
            file.to_owned().into(),
            (crate::datetime::now_ms() * 1000).into(),
        ],
    )?;
    Ok(())
}

/// Forgets `file` (reverted, or its file is gone).
pub fn forget(conn: &Conn<'_>, file: &str) -> Result<()> {
    ensure_table(conn)?;
    conn.execute(
        "DELETE FROM \"_migrations\" WHERE \"file\" = ?1",
        &[file.to_owned().into()],
    )?;
    Ok(())
}

impl App {
    /// Every applied migration's file, the last applied first (PocketBase's order for `down`).
    pub async fn applied_migrations(&self) -> Result<Vec<String>> {
        self.db()
            .write(|conn| {
                ensure_table(conn)?;
                let mut files = Vec::new();
                conn.query(
                    "SELECT \"file\" FROM \"_migrations\" ORDER BY \"applied\" DESC, \"file\" DESC",
                    &[],
                    |row| {
                        files.push(row.text(0));
                        Ok(())
                    },
                )?;
                Ok(files)
            })
            .await
    }
}
