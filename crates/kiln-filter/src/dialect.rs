//! What the compiler asks of a SQL database.

/// What differs between SQL databases, as far as the filter language is concerned.
/// kiln-core implements it on top of kiln-db's dialect.
pub trait SqlDialect {
    /// Placeholder for the `n`-th (1-based) bound parameter: `?1` on SQLite, `$1` on PostgreSQL.
    fn placeholder(&self, n: usize) -> String;
    /// Case-insensitive LIKE with `\` as escape character.
    fn like(&self, lhs: &str, rhs: &str, negate: bool) -> String;
    /// Great-circle distance in kilometres between two points given as SQL expressions.
    fn geo_distance(&self, lon_a: &str, lat_a: &str, lon_b: &str, lat_b: &str) -> String;
    /// `strftime(format, value, modifiers...)` as SQLite defines it.
    fn strftime(&self, format: &str, value: &str, modifiers: &[String]) -> String;
    /// String concatenation of SQL expressions.
    fn concat(&self, parts: &[&str]) -> String;
}
