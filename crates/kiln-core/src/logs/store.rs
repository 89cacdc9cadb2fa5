//! Where the log lives: `auxiliary.db` on SQLite (PocketBase's file and table), the main
//! database on PostgreSQL.

use std::path::Path;

use kiln_db::{Db, DbError, Dialect, SqliteOptions};

/// PocketBase's `_logs` table (its aux migration, but for the quoting). Its indexes on `message`
/// and on an expression of `created` are left out: they cost a quarter of a request's logging
/// and serve no query Kiln makes (PocketBase adds them only when it creates the table; it reads
/// a table without them all the same). Retention deletes and sorts use the index on `created`.
const SQLITE_DDL: &str = r#"
CREATE TABLE IF NOT EXISTS "_logs" (
    "id"      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
    "level"   INTEGER DEFAULT 0 NOT NULL,
    "message" TEXT DEFAULT '' NOT NULL,
    "data"    JSON DEFAULT '{}' NOT NULL,
    "created" TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_logs_level on "_logs" ("level");
CREATE INDEX IF NOT EXISTS idx_logs_created on "_logs" ("created");
"#;

const POSTGRES_DDL: &str = r#"
CREATE TABLE IF NOT EXISTS "_logs" (
    "id"      TEXT PRIMARY KEY NOT NULL,
    "level"   BIGINT DEFAULT 0 NOT NULL,
    "message" TEXT DEFAULT '' NOT NULL,
    "data"    TEXT DEFAULT '{}' NOT NULL,
    "created" TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_logs_level on "_logs" ("level");
CREATE INDEX IF NOT EXISTS idx_logs_created on "_logs" ("created");
"#;

/// Opens the log's store beside `main` and makes sure its table exists.
pub(crate) fn open(data_dir: &Path, main: &Db) -> Result<Db, DbError> {
    let (db, ddl) = match main.dialect() {
        Dialect::Sqlite => {
            let opts = SqliteOptions {
                max_idle_readers: 2,
                ..SqliteOptions::default()
            };
            (
                Db::open_sqlite(&data_dir.join("auxiliary.db"), opts)?,
                SQLITE_DDL,
            )
        }
        Dialect::Postgres => (main.clone(), POSTGRES_DDL),
    };
    // Nodes starting together on one PostgreSQL database may race to create the table: the
    // loser's second try finds it.
    if db
        .write_blocking(move |conn| conn.execute_batch(ddl))
        .is_err()
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
        db.write_blocking(move |conn| conn.execute_batch(ddl))?;
    }
    Ok(db)
}
