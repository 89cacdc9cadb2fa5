//! Kiln's storage layer.
//!
//! [`Db`] owns the database connections. On SQLite there is exactly one writer connection, owned by
//! a dedicated thread that runs every write closure inside `BEGIN IMMEDIATE … COMMIT`, and a pool of
//! read-only connections used inline on the caller's thread (a point read costs a few microseconds,
//! less than a thread hop). On PostgreSQL a pool of connections serves reads and concurrent write
//! transactions. Closures see a [`Conn`], which hides the driver, so the code above is written once
//! for every engine; SQL differences live in [`Dialect`].

mod blocking;
mod conn;
mod counts;
mod db;
mod dialect;
mod error;
pub mod metrics;
mod pg;
mod sqlite;
mod value;

pub use conn::{Conn, RawRows, Row};
pub use counts::{NumberCmp, NumberRange};
pub use db::Db;
pub use dialect::{ColumnKind, Dialect};
pub use error::DbError;
pub use pg::shared::Shared;
pub use pg::{Notice, PgOptions};
pub use sqlite::{sqlite_tables, SqliteOptions};
pub use value::{Value, ValueRef};
