//! PostgreSQL errors as [`DbError`]s.

use postgres::error::SqlState;

use crate::DbError;

/// Maps a driver error. A unique violation is reported in SQLite's words
/// (`UNIQUE constraint failed: table.a, table.b`), the form the layers above read the
/// offending columns from.
pub(crate) fn map_err(e: postgres::Error) -> DbError {
    let Some(db) = e.as_db_error() else {
        // the driver's message names the step ("error performing TLS handshake"); its causes say why
        let mut msg = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            let text = c.to_string();
            if !msg.contains(&text) {
                msg = format!("{msg}: {text}");
            }
            cause = c.source();
        }
        return if e.is_closed()
            || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
        {
            DbError::Unavailable(msg)
        } else {
            DbError::Query(msg)
        };
    };
    let code = db.code();
    let msg = db.message().to_owned();
    if *code == SqlState::UNIQUE_VIOLATION {
        let table = db.table().unwrap_or("");
        let cols = db.detail().map(key_columns).unwrap_or_default();
        let cols: Vec<String> = cols.iter().map(|c| format!("{table}.{c}")).collect();
        return DbError::UniqueViolation(format!("UNIQUE constraint failed: {}", cols.join(", ")));
    }
    match code.code() {
        // integrity constraints
        c if c.starts_with("23") => DbError::Constraint(msg),
        // serialization failure, deadlock, lock not available, query cancelled by timeout
        "40001" | "40P01" | "55P03" | "57014" => DbError::Busy,
        // connection exceptions, server shutting down or starting up
        c if c.starts_with("08") || c.starts_with("57P") => DbError::Unavailable(msg),
        // unknown database, bad login
        "3D000" | "28P01" | "28000" => DbError::Open(msg),
        _ => DbError::Query(msg),
    }
}

/// The column list of a unique violation's detail, `Key (a, lower(b))=(…) already exists.`;
/// an expression yields the column it is applied to.
fn key_columns(detail: &str) -> Vec<String> {
    let Some(inner) = detail
        .strip_prefix("Key (")
        .and_then(|d| d.split(")=(").next())
    else {
        return Vec::new();
    };
    inner
        .split(", ")
        .map(|part| {
            let word = part.rsplit('(').next().unwrap_or(part);
            let word = word.split([')', ':', ' ']).next().unwrap_or(word);
            word.trim_matches('"').to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::key_columns;

    #[test]
    fn unique_detail_names_columns() {
        assert_eq!(
            key_columns("Key (email)=(a@b.c) already exists."),
            ["email"]
        );
        assert_eq!(key_columns("Key (a, b)=(1, 2) already exists."), ["a", "b"]);
        assert_eq!(
            key_columns("Key (lower(email::text))=(x) already exists."),
            ["email"]
        );
        assert_eq!(
            key_columns("Key (\"userName\")=(x) already exists."),
            ["userName"]
        );
        assert!(key_columns("something else").is_empty());
    }
}
