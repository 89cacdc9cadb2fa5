//! Compilation of an [`Expr`] to SQL with bound parameters.
//!
//! The public types are the contract with kiln-core; the SQL shapes are produced by the private
//! `sqlgen` module.

use crate::ast::{Expr, Ident, Literal, Op, OpKind, Operand};
use crate::datetime::{macro_value, MacroValue};
use crate::dialect::SqlDialect;
use crate::error::FilterError;
use crate::sqlgen::{like_pattern, COp, Comparison, Kind, Src, Val};
use crate::Param;

/// Accumulates bound parameters while SQL text is built; shared by the compiler, the resolver and
/// the caller so that placeholders of one statement are numbered consistently.
pub struct SqlBuilder<'d> {
    dialect: &'d dyn SqlDialect,
    params: Vec<Param>,
}

impl<'d> SqlBuilder<'d> {
    /// An empty builder for `dialect`.
    pub fn new(dialect: &'d dyn SqlDialect) -> Self {
        SqlBuilder {
            dialect,
            params: Vec::new(),
        }
    }
    /// Binds `p` and returns its placeholder text.
    pub fn push(&mut self, p: Param) -> String {
        self.params.push(p);
        self.dialect.placeholder(self.params.len())
    }
    /// The dialect placeholders and SQL snippets are written for.
    pub fn dialect(&self) -> &'d dyn SqlDialect {
        self.dialect
    }
    /// The parameters bound so far, in placeholder order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }
    /// The bound parameters, in placeholder order.
    pub fn into_params(self) -> Vec<Param> {
        self.params
    }
}

/// How an identifier reads in SQL.
///
/// A *known value*: when `expr` is exactly the placeholder of the single parameter the resolver
/// bound during this `resolve` call (e.g. `@request.auth.id` → `?3` bound to the user id) and that
/// parameter is not [`Param::Null`], the compiler treats the identifier like a literal of that
/// value, as PocketBase does: `author = @request.auth.id` becomes `(author = ?3)` (index
/// friendly) instead of a COALESCE comparison, and on the right of `~`/`!~` the compiler
/// rewrites that parameter to its [`crate::like_pattern`].
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// SQL expression of the value. For a multi-valued identifier, the expression of one item,
    /// valid inside `multi.source`. An expression that is not a single token is wrapped in
    /// parentheses by the compiler.
    pub expr: String,
    /// Set when the identifier yields zero or more values per row (multi-select, multi relation,
    /// back-relation, `:each`, `@collection.*`).
    pub multi: Option<Multi>,
    /// The value is never NULL (e.g. NOT NULL numeric/bool columns): no COALESCE and no
    /// `IS NULL` test is generated for it. Compared with `null`/`''` it is compared with `''`
    /// directly (`x = ''`).
    pub no_coalesce: bool,
    /// The value is a number or a boolean (a typed column on PostgreSQL, never text): compared
    /// with the empty text it is only ever NULL-or-not (`x = ''` → `x IS NULL`), and with another
    /// such value NULL-safely, so no `''` meets a number column.
    pub typed: bool,
    /// A condition the comparison needs besides the value (PocketBase's condition on the
    /// value's row, such as an email's visibility), ANDed to the whole comparison.
    pub also: Option<String>,
    /// Compared as it is, without PocketBase's NULL fallback (its `NullFallbackDisabled`, for
    /// JSON paths): in `=`/`!=` NULL-safely, so a missing value is neither `''` nor anything
    /// else but `null`.
    pub strict: bool,
}

impl Resolved {
    /// The null value, as PocketBase's resolver gives it for a missing `@request.*` value:
    /// `''` in `=`/`!=`, SQL `NULL` elsewhere (like the `null` literal).
    pub fn null() -> Resolved {
        Resolved::value(NULL_VALUE, false)
    }

    /// A single value, nothing else to hold.
    pub fn value(expr: impl Into<String>, no_coalesce: bool) -> Resolved {
        Resolved {
            expr: expr.into(),
            multi: None,
            no_coalesce,
            typed: false,
            also: None,
            strict: false,
        }
    }
}

/// [`Resolved::expr`] of [`Resolved::null`].
const NULL_VALUE: &str = "NULL";

/// A correlated subquery that enumerates the items of a multi-valued identifier.
///
/// The compiler writes `EXISTS (SELECT 1 {source} AND <condition on the item>)` and
/// `NOT EXISTS (SELECT 1 {source} AND NOT ...)`, so `source` must:
/// - be `FROM <tables> WHERE <condition>` — always with a `WHERE` (use `WHERE 1=1` if there is
///   no condition; a source without any `WHERE` gets ` WHERE 1=1` appended);
/// - have a condition that binds at least as tightly as `AND` (parenthesise it if it has `OR`),
///   and no `GROUP BY`/`ORDER BY`/`LIMIT`;
/// - use table aliases that are unique within the whole statement: when both sides of a
///   comparison are multi-valued, one source's subquery is nested inside the other's, and the
///   items of both are referenced there.
///
/// Within one `geoDistance(...)` call, arguments whose sources have identical text enumerate the
/// same items together (e.g. `orgs.office.lon` and `orgs.office.lat` of the same org); any other
/// two sources of a comparison are combined as all pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Multi {
    /// `FROM ... WHERE ...` clause; `Resolved::expr` is valid in its scope.
    pub source: String,
    /// Set when the identifier is a value of the statement's shared join rows, as PocketBase
    /// joins every relation a statement reaches once and tests each *combination* of joined rows
    /// (so `tags.name ?= "a" && tags.color ?= "red"` needs one tag that is both). Then
    /// [`Resolved::expr`] is the value in the combination being tested (no quantifier is
    /// generated for "any" operators), and this is the same value over `source`'s own rows:
    /// an all-of operator also requires that no item of `source` compares false. `source`
    /// then always has an item (a missing related row is one item of NULL values).
    pub shared_item: Option<String>,
}

/// Maps identifiers to SQL. Implemented by kiln-core, which knows collections, relations and the
/// request; it binds any value it needs through the builder.
pub trait Resolver {
    /// Resolves one identifier (its raw text is in `ident.raw`); errors are returned as they are
    /// by [`compile`] (typically [`FilterError::UnknownField`] or [`FilterError::Forbidden`]).
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
    /// Boolean SQL expression with numbered placeholders.
    pub sql: String,
    /// The values of the placeholders, in order.
    pub params: Vec<Param>,
}

/// Deepest `And`/`Or` nesting [`compile`] accepts (parsed expressions nest at most
/// [`crate::MAX_DEPTH`] groups, so this only guards hand-built trees).
const MAX_COMPILE_DEPTH: usize = 256;

/// Compiles `expr` to a boolean SQL expression. All literals are bound through `b`.
///
/// The result is fully parenthesised, so it can be combined with other conditions as is.
/// Semantics follow PocketBase's `tools/search` filter resolver:
/// - `=`/`!=` treat NULL and `''` as the same value and never yield NULL (`x = '' OR x IS NULL`,
///   `COALESCE(a, '') = COALESCE(b, '')`, `x != ? OR x IS NULL` ...; see [`Resolved::no_coalesce`]);
/// - `~`/`!~` with a literal on the right bind [`crate::like_pattern`] of it, otherwise wrap the
///   right side in `'%' || x || '%'`;
/// - `<`, `<=`, `>`, `>=` compare as they are (`null` is SQL `NULL`);
/// - a multi-valued operand ([`Resolved::multi`]) must match for all its items (`=`, `>`, ...)
///   or for at least one (`?=`, `?>`, ...); an empty set behaves as one empty value;
/// - datetime macros are computed from [`CompileOptions::now_ms`] (UTC) and bound.
pub fn compile(
    expr: &Expr,
    resolver: &mut dyn Resolver,
    b: &mut SqlBuilder<'_>,
    opts: &CompileOptions,
) -> Result<String, FilterError> {
    let mut c = Compiler {
        resolver,
        b,
        now_ms: opts.now_ms,
        also: Vec::new(),
    };
    c.expr(expr, 0)
}

/// Parses and compiles `text` on its own: a convenience for callers (and tests) that do not
/// share the builder with other SQL.
pub fn compile_text(
    text: &str,
    limits: crate::Limits,
    resolver: &mut dyn Resolver,
    dialect: &dyn SqlDialect,
    opts: &CompileOptions,
) -> Result<Sql, FilterError> {
    let expr = crate::parse(text, limits)?;
    let mut b = SqlBuilder::new(dialect);
    let sql = compile(&expr, resolver, &mut b, opts)?;
    Ok(Sql {
        sql,
        params: b.into_params(),
    })
}

struct Compiler<'a, 'd> {
    resolver: &'a mut dyn Resolver,
    b: &'a mut SqlBuilder<'d>,
    now_ms: i64,
    /// The [`Resolved::also`] conditions of the single-valued operands of the comparison being
    /// compiled.
    also: Vec<String>,
}

fn invalid(msg: String) -> FilterError {
    FilterError::InvalidFunction(msg)
}

/// An error of a comparison's operand `o`, named as PocketBase names it (`invalid left operand
/// "x" - ...`). [`FilterError::Forbidden`] stays as it is: callers answer it on its own.
fn in_operand(e: FilterError, o: &Operand, right: bool) -> FilterError {
    let literal = match o {
        Operand::Ident(ident) => ident.raw.clone(),
        Operand::Func { name, .. } => name.clone(),
        Operand::Macro(name) => format!("@{name}"),
        Operand::Literal(_) => return e,
    };
    match e {
        FilterError::Forbidden(_) => e,
        cause => FilterError::Operand {
            right,
            literal,
            cause: Box::new(cause),
        },
    }
}

/// Wraps an SQL expression from the resolver in parentheses unless it is a single token.
fn atom(sql: &str) -> String {
    let simple = !sql.is_empty()
        && sql.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '"' | '`' | '$' | '?' | '[' | ']')
        });
    if simple {
        sql.to_string()
    } else {
        format!("({sql})")
    }
}

/// Whether `sql` contains the word `WHERE` (any case).
fn has_where(sql: &str) -> bool {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w.eq_ignore_ascii_case("where"))
}

/// The text of a known parameter value, as PocketBase stringifies it for a LIKE pattern.
fn param_text(p: &Param) -> Option<String> {
    match p {
        Param::Text(s) => Some(s.clone()),
        Param::Int(i) => Some(i.to_string()),
        Param::Float(f) => Some(f.to_string()),
        Param::Bool(v) => Some(v.to_string()),
        Param::Null => None,
    }
}

impl Compiler<'_, '_> {
    fn expr(&mut self, e: &Expr, depth: usize) -> Result<String, FilterError> {
        if depth > MAX_COMPILE_DEPTH {
            return Err(FilterError::Syntax(format!(
                "max nested groups reached (max: {MAX_COMPILE_DEPTH})"
            )));
        }
        let (items, sep, none) = match e {
            Expr::Cmp { left, op, right } => return self.comparison(left, *op, right),
            Expr::And(items) => (items, " AND ", "(1=1)"),
            Expr::Or(items) => (items, " OR ", "(1=0)"),
        };
        let mut parts = Vec::with_capacity(items.len());
        for item in items {
            parts.push(self.expr(item, depth + 1)?);
        }
        Ok(match parts.len() {
            0 => none.to_string(),
            1 => parts.pop().unwrap_or_default(),
            _ => format!("({})", parts.join(sep)),
        })
    }

    fn comparison(
        &mut self,
        left: &Operand,
        op: Op,
        right: &Operand,
    ) -> Result<String, FilterError> {
        let mut srcs = Vec::new();
        let like = matches!(op.kind, OpKind::Like | OpKind::NotLike);
        let left = self
            .operand(left, false, &mut srcs, None)
            .map_err(|e| in_operand(e, left, false))?;
        let right = self
            .operand(right, like, &mut srcs, None)
            .map_err(|e| in_operand(e, right, true))?;
        let cmp = Comparison {
            left,
            op,
            right,
            srcs,
        };
        let sql = cmp.sql(self.b.dialect());
        if self.also.is_empty() {
            return Ok(sql);
        }
        let also = std::mem::take(&mut self.also);
        Ok(format!("({sql} AND {})", also.join(" AND ")))
    }

    /// Binds a literal value; `like`: as the right operand of `~`/`!~`.
    fn bind(&mut self, p: Param, like: bool) -> Val {
        if like {
            let text = param_text(&p).unwrap_or_default();
            let ph = self.b.push(Param::Text(like_pattern(&text)));
            return Val::like_ready(ph, Kind::NonEmpty);
        }
        let number = matches!(p, Param::Int(_) | Param::Float(_));
        let ph = self.b.push(p);
        if number {
            Val::bound_number(ph)
        } else {
            Val::new(ph, Kind::NonEmpty)
        }
    }

    /// Compiles one operand. `geo`: inside a `geoDistance` call that started at source index
    /// `geo`, whose multi-valued arguments are quantified with "any" and share identical sources.
    fn operand(
        &mut self,
        o: &Operand,
        like: bool,
        srcs: &mut Vec<Src>,
        geo: Option<usize>,
    ) -> Result<COp, FilterError> {
        let v = match o {
            Operand::Literal(Literal::Null) => Val::new("NULL", Kind::Null),
            Operand::Literal(Literal::Text(s)) if s.is_empty() => {
                if like {
                    Val::like_ready("'%%'", Kind::EmptyText)
                } else {
                    Val::new("''", Kind::EmptyText)
                }
            }
            Operand::Literal(Literal::Text(s)) => self.bind(Param::Text(s.clone()), like),
            Operand::Literal(Literal::Int(i)) => self.bind(Param::Int(*i), like),
            Operand::Literal(Literal::Float(f)) => self.bind(Param::Float(*f), like),
            Operand::Literal(Literal::Bool(v)) => {
                if like {
                    // PocketBase writes the `true`/`false` identifiers as 1/0
                    let ph = self
                        .b
                        .push(Param::Text(if *v { "%1%" } else { "%0%" }.into()));
                    Val::like_ready(ph, Kind::NonEmpty)
                } else {
                    self.bind(Param::Bool(*v), false)
                }
            }
            Operand::Macro(name) => match macro_value(name, self.now_ms) {
                Some(MacroValue::Text(s)) => self.bind(Param::Text(s), like),
                Some(MacroValue::Int(i)) => self.bind(Param::Int(i), like),
                None => return Err(FilterError::UnknownField(format!("@{name}"))),
            },
            Operand::Ident(ident) => return self.ident(ident, like, srcs, geo),
            Operand::Func { name, args } => return self.func(name, args, srcs),
        };
        Ok(COp::Val(v))
    }

    fn ident(
        &mut self,
        ident: &Ident,
        like: bool,
        srcs: &mut Vec<Src>,
        geo: Option<usize>,
    ) -> Result<COp, FilterError> {
        let before = self.b.params.len();
        let r = self.resolver.resolve(ident, self.b)?;
        let nullable = !r.no_coalesce;
        let unknown = |typed| {
            if r.strict {
                Kind::Strict
            } else {
                Kind::Unknown { nullable, typed }
            }
        };
        if let Some(also) = &r.also {
            self.also.push(also.clone());
        }
        if let Some(multi) = r.multi {
            let mut from = multi.source;
            if !has_where(&from) {
                from.push_str(" WHERE 1=1");
            }
            let existing = geo.and_then(|start| {
                srcs.iter()
                    .enumerate()
                    .skip(start)
                    .find(|(_, s)| s.from == from)
                    .map(|(i, _)| i)
            });
            let src = match existing {
                Some(i) => i,
                None => {
                    let shared_item = multi
                        .shared_item
                        .map(|e| Val::new(atom(&e), unknown(r.typed)));
                    srcs.push(Src {
                        from,
                        any_only: geo.is_some(),
                        shared_item,
                    });
                    srcs.len() - 1
                }
            };
            return Ok(COp::Item {
                src,
                item: Val::new(atom(&r.expr), unknown(r.typed)),
            });
        }
        if r.expr == NULL_VALUE {
            return Ok(COp::Val(Val::new(NULL_VALUE, Kind::Null)));
        }
        // a single parameter bound by the resolver and used as the whole expression is a known
        // value, handled like a literal (as PocketBase does with resolver params)
        let n = self.b.params.len();
        if n == before + 1 && r.expr.trim() == self.b.dialect().placeholder(n) {
            let idx = n - 1;
            if let Some(text) = self.b.params.get(idx).and_then(param_text) {
                let ph = r.expr.trim().to_string();
                if like {
                    if let Some(p) = self.b.params.get_mut(idx) {
                        *p = Param::Text(like_pattern(&text));
                    }
                    return Ok(COp::Val(Val::like_ready(ph, Kind::NonEmpty)));
                }
                if matches!(
                    self.b.params.get(idx),
                    Some(Param::Int(_) | Param::Float(_))
                ) {
                    return Ok(COp::Val(Val::bound_number(ph)));
                }
                let empty = matches!(self.b.params.get(idx), Some(Param::Text(s)) if s.is_empty());
                let kind = if empty {
                    Kind::EmptyText
                } else {
                    Kind::NonEmpty
                };
                return Ok(COp::Val(Val::new(ph, kind)));
            }
        }
        Ok(COp::Val(Val::new(atom(&r.expr), unknown(r.typed))))
    }

    fn func(
        &mut self,
        name: &str,
        args: &[Operand],
        srcs: &mut Vec<Src>,
    ) -> Result<COp, FilterError> {
        match name {
            "geoDistance" => self.geo_distance(args, srcs),
            "strftime" => self.strftime(args, srcs),
            _ => Err(invalid(format!("unknown function {name:?}"))),
        }
    }

    fn geo_distance(&mut self, args: &[Operand], srcs: &mut Vec<Src>) -> Result<COp, FilterError> {
        if args.len() != 4 {
            return Err(invalid(format!(
                "[geoDistance] expected 4 arguments, got {}",
                args.len()
            )));
        }
        let start = srcs.len();
        let mut out = Vec::with_capacity(4);
        for (i, arg) in args.iter().enumerate() {
            let ok = matches!(
                arg,
                Operand::Ident(_)
                    | Operand::Macro(_)
                    | Operand::Literal(
                        Literal::Int(_) | Literal::Float(_) | Literal::Null | Literal::Bool(_)
                    )
            );
            if !ok {
                return Err(invalid(format!(
                    "[geoDistance] argument {i} must be an identifier or number"
                )));
            }
            // `true`/`false` are the numbers 1/0 here, as in PocketBase
            let numeric;
            let arg = match arg {
                Operand::Literal(Literal::Bool(v)) => {
                    numeric = Operand::Literal(Literal::Int(i64::from(*v)));
                    &numeric
                }
                _ => arg,
            };
            out.push(self.operand(arg, false, srcs, Some(start))?);
        }
        Ok(COp::Geo(out))
    }

    fn strftime(&mut self, args: &[Operand], srcs: &mut Vec<Src>) -> Result<COp, FilterError> {
        let n = args.len();
        if n < 1 {
            return Err(invalid(format!(
                "[strftime] expected at least 1 arguments, got {n}"
            )));
        }
        if n > 10 {
            return Err(invalid(format!(
                "[strftime] too many arguments (max allowed 10, got {n})"
            )));
        }
        let format = match &args[0] {
            Operand::Literal(Literal::Text(f)) => self.b.push(Param::Text(f.clone())),
            _ => {
                return Err(invalid(
                    "[strftime] expects the first argument to be a format string".into(),
                ))
            }
        };
        let value = match args.get(1) {
            None => None,
            Some(Operand::Func { .. }) => {
                return Err(invalid(
                    "[strftime] expects the second argument to be of a valid time-value type"
                        .into(),
                ))
            }
            Some(v) => Some(Box::new(self.operand(v, false, srcs, None)?)),
        };
        let mut mods = Vec::with_capacity(n.saturating_sub(2));
        for (i, m) in args.iter().skip(2).enumerate() {
            match m {
                Operand::Literal(Literal::Text(t)) => {
                    mods.push(self.b.push(Param::Text(t.clone())))
                }
                _ => {
                    return Err(invalid(format!(
                        "[strftime] invalid modifier argument {i} - can be only string"
                    )))
                }
            }
        }
        Ok(COp::Strftime {
            format,
            value,
            mods,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_are_single_tokens() {
        assert_eq!(atom("t.col"), "t.col");
        assert_eq!(atom("[[t.col]]"), "[[t.col]]");
        assert_eq!(atom("\"t\".\"col\""), "\"t\".\"col\"");
        assert_eq!(atom("?12"), "?12");
        assert_eq!(atom("lower(t.col)"), "(lower(t.col))");
        assert_eq!(atom("a || b"), "(a || b)");
        assert_eq!(atom(""), "()");
    }

    #[test]
    fn where_detection_is_by_word() {
        assert!(has_where("FROM x WHERE 1=1"));
        assert!(has_where("FROM x\nwhere(a)"));
        assert!(!has_where("FROM json_each(t.nowhere) AS nw"));
        assert!(!has_where("FROM where_clauses"));
    }

    #[test]
    fn known_values_are_stringified_like_pocketbase() {
        assert_eq!(param_text(&Param::Text("a".into())).as_deref(), Some("a"));
        assert_eq!(param_text(&Param::Int(-3)).as_deref(), Some("-3"));
        assert_eq!(param_text(&Param::Float(100.0)).as_deref(), Some("100"));
        assert_eq!(param_text(&Param::Float(0.25)).as_deref(), Some("0.25"));
        assert_eq!(param_text(&Param::Bool(true)).as_deref(), Some("true"));
        assert_eq!(param_text(&Param::Null), None);
    }
}
