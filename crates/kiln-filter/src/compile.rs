//! Compilation of an [`Expr`] to SQL with bound parameters.
//!
//! CONTRACT (implemented by the helper; signatures fixed, kiln-core depends on them).

use crate::ast::Expr;
use crate::error::FilterError;
use crate::ast::Ident;
use crate::Param;

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

/// Accumulates bound parameters while SQL text is built; shared by the compiler, the resolver and
/// the caller so that placeholders of one statement are numbered consistently.
pub struct SqlBuilder<'d> {
    dialect: &'d dyn SqlDialect,
    params: Vec<Param>,
}

impl<'d> SqlBuilder<'d> {
    pub fn new(dialect: &'d dyn SqlDialect) -> Self {
        SqlBuilder { dialect, params: Vec::new() }
    }
    /// Binds `p` and returns its placeholder text.
    pub fn push(&mut self, p: Param) -> String {
        self.params.push(p);
        self.dialect.placeholder(self.params.len())
    }
    pub fn dialect(&self) -> &'d dyn SqlDialect {
        self.dialect
    }
    pub fn params(&self) -> &[Param] {
        &self.params
    }
    pub fn into_params(self) -> Vec<Param> {
        self.params
    }
}

/// How an identifier reads in SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// SQL expression of the value. For a multi-valued identifier, the expression of one item,
    /// valid inside `multi.source`.
    pub expr: String,
    /// Set when the identifier yields zero or more values per row (multi-select, multi relation,
    /// back-relation, `:each`, `@collection.*`).
    pub multi: Option<Multi>,
    /// The value is never NULL (e.g. NOT NULL numeric/bool columns): no COALESCE needed.
    pub no_coalesce: bool,
}

/// A correlated subquery that enumerates the items of a multi-valued identifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Multi {
    /// `FROM ... [WHERE ...]` clause; `Resolved::expr` is valid in its scope.
    pub source: String,
}

/// Maps identifiers to SQL. Implemented by kiln-core, which knows collections, relations and the
/// request; it binds any value it needs through the builder.
pub trait Resolver {
    fn resolve(&mut self, ident: &Ident, b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError>;
}

/// Options of one compilation.
#[derive(Debug, Clone, Copy)]
pub struct CompileOptions {
    /// Current time in Unix milliseconds, for the datetime macros (`@now`, `@todayStart`, ...).
    pub now_ms: i64,
}

/// The result of compiling a whole expression on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    pub sql: String,
    pub params: Vec<Param>,
}

/// Compiles `expr` to a boolean SQL expression. All literals are bound through `b`.
pub fn compile(
    expr: &Expr,
    resolver: &mut dyn Resolver,
    b: &mut SqlBuilder<'_>,
    opts: &CompileOptions,
) -> Result<String, FilterError> {
    let _ = (expr, resolver, b, opts);
    todo!("helper implements")
}
