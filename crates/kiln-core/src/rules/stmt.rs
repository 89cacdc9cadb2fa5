//! [`Stmt`]: one SQL statement built from rules, client filters and sort terms.

use std::cell::Cell;

use kiln_db::{Conn, Dialect};
use kiln_filter::{compile, parse, CompileOptions, Ident, Limits, Param, Resolver, SqlBuilder};

use super::joins::{Guards, Joins};
use super::resolver::{Mode, RecordResolver, RULE_LIMITS};
use crate::error::CoreError;
use crate::request::RequestInfo;
use crate::rules::dialect::FilterDialect;
use crate::schema::collection::Collection;
use crate::schema::Schema;

/// One SQL statement being built from rules, client filters and sort terms: its bound
/// parameters (numbered in push order), its subquery alias counter, the related rows its
/// expressions join and the list-rule guards its client filters and sorts collected. Every
/// place that turns PocketBase expressions into SQL goes through it, so they share one
/// numbering, one set of joins and one set of guards; [`Stmt::condition`] puts them together.
pub struct Stmt<'a> {
    schema: &'a Schema,
    req: &'a RequestInfo,
    d: Dialect,
    b: SqlBuilder<'static>,
    aliases: Cell<usize>,
    dynamic: Cell<bool>,
    now_ms: i64,
    joins: Joins,
    guards: Guards,
    new_record: bool,
}

impl<'a> Stmt<'a> {
    /// A statement over `schema` for the requester of `req`, in dialect `d`.
    pub fn new(schema: &'a Schema, d: Dialect, req: &'a RequestInfo) -> Self {
        Stmt {
            schema,
            req,
            d,
            b: SqlBuilder::new(FilterDialect::of(d)),
            aliases: Cell::new(0),
            dynamic: Cell::new(false),
            now_ms: crate::datetime::now_ms(),
            joins: Joins::default(),
            guards: Guards::default(),
            new_record: false,
        }
    }

    /// This statement's base row is a record being created (a createRule): as in PocketBase,
    /// which checks the rule against a stand-in collection, a back-relation from it fails the
    /// rule instead of finding other records (or the record itself).
    pub fn for_new_record(mut self) -> Self {
        self.new_record = true;
        self
    }

    /// Binds `p`; returns its placeholder.
    pub fn push(&mut self, p: Param) -> String {
        self.b.push(p)
    }

    /// How many parameters are bound so far.
    pub fn param_count(&self) -> usize {
        self.b.params().len()
    }

    /// The bound parameters, as database values, in placeholder order.
    pub fn params(&self) -> Vec<kiln_db::Value> {
        self.b
            .params()
            .iter()
            .cloned()
            .map(super::resolver::to_db)
            .collect()
    }

    /// Whether what the statement compiled so far read the request (`@request.*`) or compiled a
    /// related collection's listRule that may (or a datetime macro): then its SQL or values may
    /// differ for another request. The texts handed to it are the caller's to look at.
    pub fn is_dynamic(&self) -> bool {
        self.dynamic.get()
    }

    /// The list-rule guards that client filters and sorts of this statement collected; the
    /// statement's WHERE must hold each of them ([`Stmt::condition`] adds them).
    pub fn guards(&self) -> &Guards {
        &self.guards
    }

    /// The statement's whole condition on its base row: `conds` (the rules and filters compiled
    /// by it) and its guards, all held by one combination of its joined rows. `None` when there
    /// is nothing to hold.
    pub fn condition(&self, mut conds: Vec<String>) -> Option<String> {
        conds.extend(self.guards.conditions().map(str::to_owned));
        if conds.is_empty() {
            return None;
        }
        Some(self.joins.wrap(&conds.join(" AND "), "_ku"))
    }

    fn resolver<'s>(
        &'s mut self,
        base: &'a Collection,
        base_alias: &'a str,
        mode: Mode,
    ) -> (RecordResolver<'s, 's>, &'s mut SqlBuilder<'static>)
    where
        'a: 's,
    {
        let r = RecordResolver {
            schema: self.schema,
            req: self.req,
            mode,
            d: self.d,
            base,
            base_alias,
            aliases: &self.aliases,
            dynamic: &self.dynamic,
            now_ms: self.now_ms,
            joins: &mut self.joins,
            guards: &mut self.guards,
            new_record: self.new_record,
        };
        (r, &mut self.b)
    }

    fn expr(
        &mut self,
        base: &'a Collection,
        base_alias: &'a str,
        mode: Mode,
        text: &str,
    ) -> Result<String, CoreError> {
        let limits = match mode {
            Mode::ClientFilter => Limits::default(),
            Mode::Rule => RULE_LIMITS,
        };
        let expr = parse(text, limits)?;
        self.compile_expr(base, base_alias, mode, &expr)
    }

    fn compile_expr(
        &mut self,
        base: &'a Collection,
        base_alias: &'a str,
        mode: Mode,
        expr: &kiln_filter::Expr,
    ) -> Result<String, CoreError> {
        let now_ms = self.now_ms;
        let (mut r, b) = self.resolver(base, base_alias, mode);
        Ok(compile(expr, &mut r, b, &CompileOptions { now_ms })?)
    }

    /// An API rule over `base` (whose row is `base_alias` in the statement) as a boolean SQL
    /// expression over the statement's joins: use it only inside [`Stmt::condition`] (or take
    /// [`Stmt::rule_condition`]). Rules see every field of every collection they reach.
    pub fn rule(
        &mut self,
        base: &'a Collection,
        base_alias: &'a str,
        text: &str,
    ) -> Result<String, CoreError> {
        self.expr(base, base_alias, Mode::Rule, text)
    }

    /// An API rule that is all the statement holds, as its whole condition (the rule over the
    /// statement's joins, see [`Stmt::condition`]).
    pub fn rule_condition(
        &mut self,
        base: &'a Collection,
        base_alias: &'a str,
        text: &str,
    ) -> Result<String, CoreError> {
        let rule = self.rule(base, base_alias, text)?;
        Ok(self.condition(vec![rule]).unwrap_or_default())
    }

    /// A client's filter over `base` as a boolean SQL expression over the statement's joins (use
    /// it inside [`Stmt::condition`]). For non-superusers, hidden
    /// fields and `@request`/`@collection` are refused, and the related rows it reaches add
    /// [`Guards`].
    pub fn filter(
        &mut self,
        base: &'a Collection,
        base_alias: &'a str,
        text: &str,
    ) -> Result<String, CoreError> {
        self.expr(base, base_alias, Mode::ClientFilter, text)
    }

    /// [`Stmt::filter`] of a filter already parsed (with [`kiln_filter::Limits::default`]).
    pub fn filter_parsed(
        &mut self,
        base: &'a Collection,
        base_alias: &'a str,
        expr: &kiln_filter::Expr,
    ) -> Result<String, CoreError> {
        self.compile_expr(base, base_alias, Mode::ClientFilter, expr)
    }

    /// One sort term of a client (an identifier) over `base`; fails for multi-valued ones.
    pub fn sort_term(
        &mut self,
        base: &'a Collection,
        base_alias: &'a str,
        ident: &str,
    ) -> Result<String, CoreError> {
        let (mut r, b) = self.resolver(base, base_alias, Mode::ClientFilter);
        let resolved = r.resolve(
            &Ident {
                raw: ident.to_owned(),
            },
            b,
        )?;
        if resolved.multi.is_some() {
            return Err(CoreError::BadQuery(format!(
                "cannot sort by the multi-valued {ident:?}"
            )));
        }
        Ok(resolved.expr)
    }
}

/// Checks that `rule` compiles against `base` within `schema` (collection validation).
pub fn check_rule(schema: &Schema, base: &Collection, rule: &str) -> Result<(), String> {
    let req = RequestInfo::default();
    let mut stmt = Stmt::new(schema, Dialect::Sqlite, &req);
    stmt.rule(base, "_kt", rule)
        .map(|_| ())
        .map_err(|e| match e {
            CoreError::BadQuery(m) => m,
            other => other.to_string(),
        })
}

/// Whether the row `id` of `c` matches `rule`, on any connection (inside a write transaction or
/// on a reader).
pub(crate) fn row_matches(
    conn: &Conn<'_>,
    schema: &Schema,
    c: &Collection,
    id: &str,
    rule: &str,
    req: &RequestInfo,
) -> crate::error::Result<bool> {
    let d = conn.dialect();
    let table = d.quote(&c.name);
    let mut stmt = Stmt::new(schema, d, req);
    let idp = stmt.push(Param::Text(id.to_owned()));
    let cond = stmt.rule_condition(c, &table, rule)?;
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {table}.\"id\" = {idp} AND {cond}");
    Ok(conn.query_i64(&sql, &stmt.params())? > 0)
}
