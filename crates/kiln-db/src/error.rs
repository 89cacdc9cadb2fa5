//! Storage errors.

use std::fmt;

/// What went wrong in the storage layer. Callers map each kind explicitly; the message of
/// [`DbError::Query`] is for logs, never for API clients.
#[derive(Debug)]
pub enum DbError {
    /// The database could not be opened or created (permissions, missing directory, a refused
    /// PostgreSQL login or unknown database).
    Open(String),
    /// The database server cannot be reached (down, restarting, network); worth retrying later.
    Unavailable(String),
    /// The file is not a database, or is damaged.
    Corrupt(String),
    /// A UNIQUE constraint failed; carries the driver's message naming the columns.
    UniqueViolation(String),
    /// A FOREIGN KEY / CHECK / NOT NULL constraint failed.
    Constraint(String),
    /// The database is busy beyond the busy timeout.
    Busy,
    /// The writer thread is gone (the process is shutting down).
    Closed,
    /// Any other driver error (bad SQL, I/O).
    Query(String),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Open(m) => write!(f, "cannot open the database: {m}"),
            DbError::Corrupt(m) => write!(f, "the database file is damaged or not a database: {m}"),
            DbError::UniqueViolation(m) => write!(f, "unique constraint violated: {m}"),
            DbError::Constraint(m) => write!(f, "constraint violated: {m}"),
            DbError::Busy => f.write_str("the database is busy"),
            DbError::Closed => f.write_str("the database writer has stopped"),
            DbError::Unavailable(m) => write!(f, "the database cannot be reached: {m}"),
            DbError::Query(m) => write!(f, "database error: {m}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        if let rusqlite::Error::SqliteFailure(code, msg) = &e {
            let text = msg.clone().unwrap_or_else(|| e.to_string());
            return match code.code {
                C::ConstraintViolation => {
                    if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        || code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    {
                        DbError::UniqueViolation(text)
                    } else {
                        DbError::Constraint(text)
                    }
                }
                C::DatabaseBusy | C::DatabaseLocked => DbError::Busy,
                C::NotADatabase | C::DatabaseCorrupt => DbError::Corrupt(text),
                C::CannotOpen | C::PermissionDenied | C::ReadOnly => DbError::Open(text),
                _ => DbError::Query(text),
            };
        }
        DbError::Query(e.to_string())
    }
}
