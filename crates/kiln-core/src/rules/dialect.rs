//! Adapts kiln-db's dialect to what the filter compiler asks of a database.

use kiln_db::Dialect;
use kiln_filter::SqlDialect;

/// kiln-db's [`Dialect`] seen through kiln-filter's [`SqlDialect`].
#[derive(Debug, Clone, Copy)]
pub struct FilterDialect(pub Dialect);

impl FilterDialect {
    /// The adapter of `d`, for builders that outlive any one statement.
    pub fn of(d: Dialect) -> &'static FilterDialect {
        static SQLITE: FilterDialect = FilterDialect(Dialect::Sqlite);
        static POSTGRES: FilterDialect = FilterDialect(Dialect::Postgres);
        match d {
            Dialect::Sqlite => &SQLITE,
            Dialect::Postgres => &POSTGRES,
        }
    }
}

impl SqlDialect for FilterDialect {
    fn placeholder(&self, n: usize) -> String {
        self.0.placeholder(n)
    }
    fn like(&self, lhs: &str, rhs: &str, negate: bool) -> String {
        self.0.like(lhs, rhs, negate)
    }
    fn geo_distance(&self, lon_a: &str, lat_a: &str, lon_b: &str, lat_b: &str) -> String {
        self.0.geo_distance(lon_a, lat_a, lon_b, lat_b)
    }
    fn strftime(&self, format: &str, value: &str, modifiers: &[String]) -> String {
        self.0.strftime(format, value, modifiers)
    }
    fn concat(&self, parts: &[&str]) -> String {
        self.0.concat(parts)
    }
}
