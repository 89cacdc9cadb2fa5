//! Reading records: view by id and list with rules, filter, sort and paging.

use std::sync::Arc;

use kiln_db::Value as DbValue;
use kiln_filter::Param;

use super::list_cache::{self, CompiledList, Kept};
use super::model::Record;
use crate::app::App;
use crate::error::{CoreError, Result};
use crate::request::RequestInfo;
use crate::rules::stmt::Stmt;
use crate::schema::collection::Collection;
use crate::schema::Schema;

/// PocketBase's paging defaults and limits.
pub const DEFAULT_PER_PAGE: i64 = 30;
pub const MAX_PER_PAGE: i64 = 1000;
/// At most this many sort terms.
pub const MAX_SORT_FIELDS: usize = 8;

/// The query parameters of a list request.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub page: i64,
    pub per_page: i64,
    pub sort: String,
    pub filter: String,
    pub skip_total: bool,
}

/// One page of records.
#[derive(Debug)]
pub struct ListResult {
    pub items: Vec<Record>,
    pub page: i64,
    pub per_page: i64,
    /// -1 when the total was skipped.
    pub total_items: i64,
    pub total_pages: i64,
}

/// A non-superuser's filter or sort may not mention `@request.*` or `@collection.*`: PocketBase
/// refuses them anywhere in the text, string literals included.
fn check_client_text(text: &str, req: &RequestInfo) -> Result<()> {
    if req.is_superuser() {
        return Ok(());
    }
    if text.contains("@request.") {
        return Err(CoreError::FilterForbidden("@request"));
    }
    if text.contains("@collection.") {
        return Err(CoreError::FilterForbidden("@collection"));
    }
    Ok(())
}

/// The statement that counts whether `rule` and the client's `filter` hold for `record` as it is
/// in memory: they run over a one-row derived table with the record's columns, named apart from
/// the collection's table — so, as in PocketBase, a back-relation or `@collection` reference to
/// the collection does not see the record itself. The filter is a client's, as on a list: for a
/// non-superuser no `@request.*`/`@collection.*`, and related rows only if listable. `None` when
/// neither is given (everything matches). `new_record`: the record is being created (see
/// [`Stmt::for_new_record`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn snapshot_query(
    schema: &Schema,
    d: kiln_db::Dialect,
    c: &Collection,
    record: &Record,
    rule: Option<&str>,
    filter: Option<&str>,
    req: &RequestInfo,
    new_record: bool,
) -> Result<Option<(String, Vec<DbValue>)>> {
    let rule = rule.filter(|r| !r.trim().is_empty());
    let filter = filter.filter(|f| !f.trim().is_empty());
    if rule.is_none() && filter.is_none() {
        return Ok(None);
    }
    if let Some(f) = filter {
        check_client_text(f, req)?;
    }
    let mut stmt = Stmt::new(schema, d, req);
    if new_record {
        stmt = stmt.for_new_record();
    }
    let cols: Vec<String> = c
        .fields
        .iter()
        .zip(record.column_values())
        .map(|(f, v)| {
            format!(
                "{} AS {}",
                d.typed(
                    &stmt.push(crate::rules::resolver::db_param(v)),
                    f.column_kind()
                ),
                d.quote(&f.name)
            )
        })
        .collect();
    let mut conds = Vec::new();
    if let Some(rule) = rule {
        conds.push(stmt.rule(c, "\"_ksnap\"", rule)?);
    }
    if let Some(filter) = filter {
        conds.push(stmt.filter(c, "\"_ksnap\"", filter)?);
    }
    let cond = stmt.condition(conds).unwrap_or_else(|| "1=1".to_owned());
    let sql = format!(
        "WITH \"_ksnap\" AS (SELECT {}) SELECT COUNT(*) FROM \"_ksnap\" WHERE {cond}",
        cols.join(", "),
    );
    Ok(Some((sql, stmt.params())))
}

/// Which rule an access check uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    List,
    View,
    Update,
    Delete,
}

/// The rule text to apply for `kind`, `Ok(None)` when nothing restricts the caller, or
/// `SuperuserOnly` when the rule is null.
pub(crate) fn rule_for<'c>(
    c: &'c Collection,
    kind: RuleKind,
    req: &RequestInfo,
) -> Result<Option<&'c str>> {
    if req.is_superuser() {
        return Ok(None);
    }
    let rule = match kind {
        RuleKind::List => &c.list_rule,
        RuleKind::View => &c.view_rule,
        RuleKind::Update => &c.update_rule,
        RuleKind::Delete => &c.delete_rule,
    };
    match rule {
        None => Err(CoreError::SuperuserOnly),
        Some(r) if r.trim().is_empty() => Ok(None),
        Some(r) => Ok(Some(r.as_str())),
    }
}

impl App {
    /// The collection of a records route (by name or id).
    pub fn records_collection(&self, name_or_id: &str) -> Result<Arc<Collection>> {
        self.schema()
            .get(name_or_id)
            .cloned()
            .ok_or(CoreError::MissingCollection)
    }

    /// Reads a record by id without any rule.
    pub fn find_record(&self, c: &Arc<Collection>, id: &str) -> Result<Option<Record>> {
        self.db().read(|conn| self.find_record_on(conn, c, id))
    }

    /// Records of `c` matching `filter` (the filter language, any field and `@collection`
    /// allowed: the app's own code asks), ordered by `sort`, `limit` of them (0: all) from
    /// `offset`, read on `conn` (a transaction the caller holds, or a read connection).
    pub fn records_where(
        &self,
        conn: &kiln_db::Conn<'_>,
        c: &Arc<Collection>,
        filter: &str,
        sort: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Record>> {
        let schema = self.schema();
        let d = conn.dialect();
        let plan = c.plan(d);
        let req = self.system_request()?;
        let mut stmt = Stmt::new(&schema, d, &req);
        let mut conds = Vec::new();
        if !filter.trim().is_empty() {
            conds.push(stmt.filter(c, &plan.table, filter)?);
        }
        let order = self.order_by(c, &plan.table, sort, &mut stmt)?;
        let where_sql = match stmt.condition(conds) {
            Some(cond) => format!(" WHERE {cond}"),
            None => String::new(),
        };
        let mut sql = format!(
            "SELECT {} FROM {}{where_sql}{order}",
            plan.columns, plan.table
        );
        if limit > 0 || offset > 0 {
            let l = stmt.push(Param::Int(if limit > 0 { limit } else { i64::MAX }));
            let o = stmt.push(Param::Int(offset.max(0)));
            sql.push_str(&format!(" LIMIT {l} OFFSET {o}"));
        }
        let params = stmt.params();
        let mut out = Vec::new();
        conn.query(&sql, &params, |row| {
            out.push(Record::from_row(c, row));
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads a record by id without any rule, on `conn`.
    pub fn find_record_on(
        &self,
        conn: &kiln_db::Conn<'_>,
        c: &Arc<Collection>,
        id: &str,
    ) -> Result<Option<Record>> {
        let plan = c.plan(conn.dialect());
        conn.query_one(&plan.select_by_id, &[DbValue::Text(id.to_owned())], |row| {
            Ok(Record::from_row(c, row))
        })
        .map_err(CoreError::from)
    }

    /// Reads a record by id if `kind`'s rule lets the requester see it; `NotFound` otherwise.
    pub fn find_record_with_rule(
        &self,
        c: &Arc<Collection>,
        id: &str,
        req: &RequestInfo,
        kind: RuleKind,
    ) -> Result<Record> {
        let Some(rule) = rule_for(c, kind, req)? else {
            return self.find_record(c, id)?.ok_or(CoreError::NotFound);
        };
        let schema = self.schema();
        let plan = c.plan(self.dialect());
        let mut stmt = Stmt::new(&schema, self.dialect(), req);
        let idp = stmt.push(Param::Text(id.to_owned()));
        let cond = stmt.rule_condition(c, &plan.table, rule)?;
        let sql = format!(
            "SELECT {} FROM {} WHERE {}.\"id\" = {idp} AND {cond}",
            plan.columns, plan.table, plan.table
        );
        let params = stmt.params();
        self.db()
            .read(|conn| {
                conn.query_one(&sql, &params, |row| Ok(Record::from_row(c, row)))
                    .map_err(CoreError::from)
            })?
            .ok_or(CoreError::NotFound)
    }

    /// Whether record `id` of `c` matches the rule expression `rule` for `req` (authRule,
    /// manageRule). An empty rule matches everything.
    pub fn record_matches(
        &self,
        c: &Arc<Collection>,
        id: &str,
        rule: &str,
        req: &RequestInfo,
    ) -> Result<bool> {
        if rule.trim().is_empty() {
            return Ok(true);
        }
        let schema = self.schema();
        self.db()
            .read(|conn| crate::rules::stmt::row_matches(conn, &schema, c, id, rule, req))
    }

    /// Whether `rule` and the client's `filter` (either may be absent) hold for `record` as it is
    /// in memory (an event's snapshot, e.g. of a record already deleted). See [`snapshot_query`].
    pub fn snapshot_matches(
        &self,
        c: &Arc<Collection>,
        record: &Record,
        rule: Option<&str>,
        filter: Option<&str>,
        req: &RequestInfo,
    ) -> Result<bool> {
        let schema = self.schema();
        match snapshot_query(&schema, self.dialect(), c, record, rule, filter, req, false)? {
            None => Ok(true),
            Some((sql, params)) => Ok(self.db().read(|conn| conn.query_i64(&sql, &params))? > 0),
        }
    }

    /// Lists records the requester may see, filtered, sorted and paged.
    pub fn list_records(
        &self,
        c: &Arc<Collection>,
        req: &RequestInfo,
        p: &ListParams,
    ) -> Result<ListResult> {
        let rule = rule_for(c, RuleKind::List, req)?;
        check_client_text(&p.filter, req)?;
        check_client_text(&p.sort, req)?;
        let schema = self.schema();
        let (filter, sort) = (p.filter.trim(), p.sort.trim());
        let key = list_cache::key(&c.id, req.is_superuser(), rule.unwrap_or(""), filter, sort);
        let cached = key
            .as_deref()
            .and_then(|k| self.inner().lists.get(&schema, k));
        let list = match cached {
            Some(list) => list,
            None => {
                let list = Arc::new(self.compile_list(&schema, c, req, rule, filter, sort)?);
                // (`c` comes from the schema of a moment ago: kept only if it is this one's)
                let current = schema.by_id(&c.id).is_some_and(|s| Arc::ptr_eq(s, c));
                if let (Some(k), true, true) = (key, list.reusable, current) {
                    self.inner().lists.put(&schema, k, list.clone());
                }
                list
            }
        };

        let per_page = match p.per_page {
            n if n <= 0 => DEFAULT_PER_PAGE,
            n => n.min(MAX_PER_PAGE),
        };
        let page = p.page.max(1);
        let offset = (page - 1).saturating_mul(per_page);
        let mut params = Vec::with_capacity(list.params.len() + 2);
        params.extend_from_slice(&list.params);
        params.extend([DbValue::Int(per_page), DbValue::Int(offset)]);
        let kept_total = match (&list.kept, p.skip_total) {
            (_, true) | (Kept::No, _) => None,
            (Kept::All, _) => self.db().count(&c.name, None, &kiln_db::NumberRange::all()),
            (Kept::Range(field, range), _) => self.db().count(&c.name, Some(field), range),
        };

        self.db().read(|conn| {
            let mut items = Vec::with_capacity(per_page.min(64) as usize);
            conn.query(&list.sql, &params, |row| {
                items.push(Record::from_row(c, row));
                Ok(())
            })?;
            let (total_items, total_pages) = if p.skip_total {
                (-1, -1)
            } else {
                let total = match kept_total {
                    Some(n) => n,
                    None => conn.query_i64(&list.count_sql, &params[..list.count_params])?,
                };
                (total, (total + per_page - 1) / per_page)
            };
            Ok(ListResult {
                items,
                page,
                per_page,
                total_items,
                total_pages,
            })
        })
    }

    /// Compiles a list's statements from its rule and the client's (trimmed) filter and sort.
    fn compile_list(
        &self,
        schema: &Schema,
        c: &Arc<Collection>,
        req: &RequestInfo,
        rule: Option<&str>,
        filter: &str,
        sort: &str,
    ) -> Result<CompiledList> {
        let d = self.dialect();
        let plan = c.plan(d);
        let mut stmt = Stmt::new(schema, d, req);
        let mut conds: Vec<String> = Vec::new();
        if let Some(rule) = rule {
            conds.push(stmt.rule(c, &plan.table, rule)?);
        }
        let filter = match filter {
            "" => None,
            text => Some(kiln_filter::parse(text, kiln_filter::Limits::default())?),
        };
        if let Some(expr) = &filter {
            conds.push(stmt.filter_parsed(c, &plan.table, expr)?);
        }
        let where_params = stmt.param_count();
        let order = self.order_by(c, &plan.table, sort, &mut stmt)?;
        // The related rows a filter or sort reached must be listable by the requester. Guards
        // exist only for non-superusers, whose sort terms bind nothing of their own (no
        // `@request.*`): every parameter bound so far then belongs to the WHERE clause.
        let guarded = !stmt.guards().is_empty();
        let count_params = if guarded {
            stmt.param_count()
        } else {
            where_params
        };
        let where_sql = match stmt.condition(conds) {
            Some(cond) => format!(" WHERE {cond}"),
            None => String::new(),
        };
        // the page size and offset, bound per request
        let limit = stmt.push(Param::Int(0));
        let off = stmt.push(Param::Int(0));
        let sql = format!(
            "SELECT {} FROM {}{where_sql}{order} LIMIT {limit} OFFSET {off}",
            plan.columns, plan.table
        );
        let mut params = stmt.params();
        params.truncate(params.len() - 2);
        // A public list of all rows, or of a range of one number field: the storage layer may
        // keep its count (SQLite). Not when the WHERE clause holds more than the filter: a rule,
        // or guards on related rows a sort reached (their listRules).
        let kept = if rule.is_some() || c.is_view() || guarded {
            Kept::No
        } else {
            match &filter {
                None => Kept::All,
                Some(expr) => match super::count::number_range(c, expr) {
                    Some((field, range)) => Kept::Range(field.to_owned(), range),
                    None => Kept::No,
                },
            }
        };
        Ok(CompiledList {
            sql,
            params,
            count_sql: format!("SELECT COUNT(*) FROM {}{where_sql}", plan.table),
            count_params,
            kept,
            reusable: !guarded && !stmt.is_dynamic(),
        })
    }

    fn order_by<'a>(
        &self,
        c: &'a Collection,
        table: &'a str,
        sort: &str,
        stmt: &mut Stmt<'a>,
    ) -> Result<String> {
        let d = self.dialect();
        let mut terms: Vec<String> = Vec::new();
        let mut last_desc = false;
        let mut random = false;
        let sort = sort.trim();
        for raw in sort.split(',').map(str::trim).filter(|_| !sort.is_empty()) {
            if raw.is_empty() || raw == "-" || raw == "+" {
                return Err(CoreError::BadQuery("empty sort term".into()));
            }
            if terms.len() >= MAX_SORT_FIELDS {
                return Err(CoreError::BadQuery(format!(
                    "at most {MAX_SORT_FIELDS} sort fields are allowed"
                )));
            }
            let (desc, name) = match raw.as_bytes()[0] {
                b'-' => (true, &raw[1..]),
                b'+' => (false, &raw[1..]),
                _ => (false, raw),
            };
            let dir = if desc { "DESC" } else { "ASC" };
            last_desc = desc;
            match name {
                "@random" => {
                    random = true;
                    terms.push(d.random().to_owned());
                }
                "@rowid" if !c.is_view() => terms.push(format!("{table}.{} {dir}", d.rowid())),
                _ => {
                    let expr = stmt.sort_term(c, table, name)?;
                    // Anything but a plain NOT NULL column (a relation or JSON path, a JSON
                    // field, a modifier) may be NULL: sort NULL first as SQLite does. NOT NULL
                    // columns keep the direction their indexes serve.
                    let not_null = !c.is_view()
                        && c.field(name)
                            .is_some_and(|f| f.column_kind() != kiln_db::ColumnKind::Json);
                    let dir = if not_null { dir } else { d.order_dir(desc) };
                    terms.push(format!("{expr} {dir}"));
                }
            }
        }
        // A stable order makes pages consistent; the rowid is free in every index.
        if !random && !c.is_view() {
            let dir = if last_desc { "DESC" } else { "ASC" };
            terms.push(format!("{table}.{} {dir}", d.rowid()));
        }
        if terms.is_empty() {
            return Ok(String::new());
        }
        Ok(format!(" ORDER BY {}", terms.join(", ")))
    }
}
