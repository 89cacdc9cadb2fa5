//! Maps the identifiers of filters and rules to SQL over collection tables.
//!
//! A field path becomes a column of the base row, a correlated scalar subquery (single relations)
//! or a correlated set (multi relations, back-relations, multi-valued fields, `:each`), which the
//! filter compiler turns into EXISTS subqueries. `@collection.*` references become rows of an
//! outer LEFT JOIN, shared by every reference to the same name or alias, and the whole expression
//! is wrapped in an EXISTS over those joins — PocketBase's semantics without DISTINCT.

use std::cell::Cell;

use serde_json::Value;

use kiln_db::Dialect;
use kiln_filter::{
    compile, parse, CompileOptions, FilterError, Ident, Limits, Multi, Param, Resolved, Resolver,
    SqlBuilder,
};

use super::FilterDialect;
use crate::error::CoreError;
use crate::records::model::json_to_column;
use crate::request::RequestInfo;
use crate::schema::{Collection, Field, FieldKind, Schema};

/// Where an expression comes from, which decides what it may reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// An API rule written by a superuser: `@request.*` and `@collection.*` allowed.
    Rule,
    /// A client's `filter` parameter: `@request.*` and `@collection.*` only for superusers.
    ClientFilter,
}

/// Rules are written by superusers: no length limit, a generous expression count.
const RULE_LIMITS: Limits = Limits {
    max_len: usize::MAX,
    max_exprs: 1000,
};

struct RecordResolver<'a, 'g> {
    schema: &'a Schema,
    req: &'a RequestInfo,
    mode: Mode,
    d: Dialect,
    base: &'a Collection,
    base_alias: &'a str,
    aliases: &'a Cell<usize>,
    now_ms: i64,
    /// `@collection` joins: (name or alias as written, SQL alias, collection).
    joins: Vec<(String, String, &'a Collection)>,
    /// The statement's list-rule guards, shared by every client filter and sort term in it.
    guards: &'g mut Guards,
    /// The base row is a record being created (see [`Stmt::for_new_record`]).
    new_record: bool,
}

/// Conditions a statement's WHERE must also hold because a client filter or sort reached into
/// related collections: PocketBase applies each joined collection's listRule to the *whole row*
/// (`rel.id = '' || (listRule)`), so a record whose related row the requester may not list
/// drops out of the result instead of comparing as if the relation were empty. Keyed by the
/// relation path, so `doc.a = 1 || doc.b = 2` adds one guard.
#[derive(Debug, Default)]
pub struct Guards {
    items: Vec<(String, String)>,
}

impl Guards {
    /// The guard conditions, each a self-contained boolean SQL expression.
    pub fn conditions(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(_, sql)| sql.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn has(&self, key: &str) -> bool {
        self.items.iter().any(|(k, _)| k == key)
    }
}

fn unknown(raw: &str) -> FilterError {
    FilterError::UnknownField(raw.to_owned())
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A JSON value as a bound parameter.
fn json_param(v: &Value) -> Param {
    match v {
        Value::Null => Param::Null,
        Value::Bool(b) => Param::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Param::Int(i),
            None => Param::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => Param::Text(s.clone()),
        other => Param::Text(other.to_string()),
    }
}

/// A stored value as a bound parameter.
pub fn db_param(v: kiln_db::Value) -> Param {
    match v {
        kiln_db::Value::Null => Param::Null,
        kiln_db::Value::Int(i) => Param::Int(i),
        kiln_db::Value::Float(f) => Param::Float(f),
        kiln_db::Value::Text(s) => Param::Text(s),
        kiln_db::Value::Blob(_) => Param::Null,
    }
}

/// A path segment and its modifier: `title:lower` → ("title", Some("lower")).
fn split_modifier(s: &str) -> (&str, Option<&str>) {
    match s.split_once(':') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    }
}

/// A relation path's steps without modifiers (`doc.team`): what keys a [`Guards`] entry.
fn path_key(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| split_modifier(s).0)
        .collect::<Vec<_>>()
        .join(".")
}

/// The rows a field path walks through, kept in two renderings: inner joins (`from` +
/// `wheres`), used while the path is single-valued (a correlated scalar subquery, at most one
/// row) and for a record's own multi-valued field; and `chain`, every relation step LEFT JOINed
/// as PocketBase joins it, used for the set of a path that went through a multi-valued relation
/// step: a record without related rows, or a related row without rows at a later step, is one
/// item whose values are NULL, never a missing item.
struct PathState {
    from: Vec<String>,
    wheres: Vec<String>,
    /// The steps as `LEFT JOIN item ON cond`, after `from[0]` when `anchored`, otherwise after
    /// a one-row stand-in for the base row.
    chain: String,
    /// The path starts at a row of its own (`from[0]` where `wheres[0]`: the auth record, the
    /// submitted relation ids) instead of at the statement's base row.
    anchored: bool,
    multi: bool,
    /// The path went through a relation or back-relation (its items are related rows).
    joined: bool,
    /// Conditions an item of a multi-valued path must meet to match (see `Resolved::also`): the
    /// listRules of the rows joined after a multi-valued step.
    also: Vec<String>,
    /// The path so far starts at the statement's base row and went only through single
    /// relations: a related row's listRule guards the whole row (see [`Guards`]). After a
    /// multi-valued step it filters that step's items instead.
    guard_whole_row: bool,
}

impl PathState {
    fn new(guard_whole_row: bool) -> Self {
        PathState {
            from: Vec::new(),
            wheres: Vec::new(),
            chain: String::new(),
            anchored: false,
            multi: false,
            joined: false,
            also: Vec::new(),
            guard_whole_row,
        }
    }

    /// A path that starts at the rows of `item` where `cond` holds.
    fn anchored(item: String, cond: String, multi: bool, joined: bool) -> Self {
        PathState {
            from: vec![item],
            wheres: vec![cond],
            anchored: true,
            multi,
            joined,
            ..PathState::new(false)
        }
    }

    /// Adds the rows of `item` (a table or a `json_each`) where `on` holds, to both renderings.
    fn join(&mut self, item: String, on: Option<String>) {
        let cond = on.as_deref().unwrap_or("1=1");
        self.chain.push_str(&format!(" LEFT JOIN {item} ON {cond}"));
        self.from.push(item);
        self.wheres.extend(on);
    }

    /// The inner-join rendering: `FROM ... WHERE ...` text pieces.
    fn inner(&self) -> (String, String) {
        let wheres = if self.wheres.is_empty() {
            "1=1".to_owned()
        } else {
            self.wheres.join(" AND ")
        };
        (self.from.join(", "), wheres)
    }

    /// The LEFT JOIN rendering: `FROM ... WHERE ...` text pieces; `unit` is a fresh alias for
    /// the one-row stand-in. Never empty unless the path is anchored.
    fn left(&self, unit: &str) -> (String, String) {
        if self.anchored {
            let (root, cond) = (&self.from[0], &self.wheres[0]);
            (format!("{root}{}", self.chain), cond.clone())
        } else {
            (format!("(SELECT 1) {unit}{}", self.chain), "1=1".to_owned())
        }
    }
}

impl<'a, 'g> RecordResolver<'a, 'g> {
    fn alias(&self, prefix: &str) -> String {
        let n = self.aliases.get() + 1;
        self.aliases.set(n);
        format!("{prefix}{n}")
    }

    fn by_name(&self, name: &str) -> Option<&'a Collection> {
        let schema: &'a Schema = self.schema;
        schema.get(name).map(|c| &**c)
    }

    fn by_id(&self, id: &str) -> Option<&'a Collection> {
        let schema: &'a Schema = self.schema;
        schema.by_id(id).map(|c| &**c)
    }

    fn superuser(&self) -> bool {
        self.req.is_superuser()
    }

    /// Whether related collections' listRules apply to this expression: only to a client's filter
    /// and sort, never to API rules (PocketBase resolves rules with every field visible), and
    /// never for superusers.
    fn applies_list_rules(&self) -> bool {
        self.mode == Mode::ClientFilter && !self.superuser()
    }

    /// `target`'s listRule compiled over its row `alias`, as an API rule (no further list rules
    /// apply inside it). `Ok(None)` when anyone may list; an error when only superusers may, as
    /// PocketBase refuses such a filter.
    fn list_rule_sql(
        &self,
        raw: &str,
        target: &Collection,
        alias: &str,
        b: &mut SqlBuilder<'_>,
    ) -> Result<Option<String>, FilterError> {
        let rule = match &target.list_rule {
            None => return Err(unknown(raw)),
            Some(r) if r.trim().is_empty() => return Ok(None),
            Some(r) => r,
        };
        let expr = parse(rule, RULE_LIMITS)?;
        let mut unused = Guards::default();
        let mut nested = RecordResolver {
            schema: self.schema,
            req: self.req,
            mode: Mode::Rule,
            d: self.d,
            base: target,
            base_alias: alias,
            aliases: self.aliases,
            now_ms: self.now_ms,
            joins: Vec::new(),
            guards: &mut unused,
            new_record: false,
        };
        let sql = compile(
            &expr,
            &mut nested,
            b,
            &CompileOptions {
                now_ms: self.now_ms,
            },
        )?;
        Ok(Some(nested.wrap_joins(sql)))
    }

    /// Applies `target`'s listRule to the row `alias` just joined into `st` by the path step
    /// `segments[..=i]`: as a guard on the whole row while the path is single-valued, as a
    /// condition on the step's items once it is not.
    fn restrict_joined(
        &mut self,
        raw: &str,
        segments: &[&str],
        i: usize,
        target: &Collection,
        alias: &str,
        st: &mut PathState,
        b: &mut SqlBuilder<'_>,
    ) -> Result<(), FilterError> {
        if !self.applies_list_rules() {
            return Ok(());
        }
        if !st.guard_whole_row {
            if let Some(cond) = self.list_rule_sql(raw, target, alias, b)? {
                // A LEFT JOINed step's missing row passes (PocketBase: `id = '' || (listRule)`).
                st.also
                    .push(format!("({alias}.\"id\" IS NULL OR ({cond}))"));
                // The whole row, too: a record drops out when none of its join combinations
                // so far passes the listRules (a missing row, LEFT JOINed, passes).
                let key = format!("{}*", path_key(&segments[..=i]));
                if !self.guards.has(&key) {
                    let (from, wheres) = st.left(&self.alias("_kd"));
                    let sql = format!(
                        "EXISTS (SELECT 1 FROM {from} WHERE {wheres} AND {})",
                        st.also.join(" AND ")
                    );
                    self.guards.items.push((key, sql));
                }
            }
            return Ok(());
        }
        let key = path_key(&segments[..=i]);
        if self.guards.has(&key) {
            return Ok(());
        }
        if let Some(cond) = self.list_rule_sql(raw, target, alias, b)? {
            // The row passes when the related row is missing or the requester may list it; a
            // NULL rule result fails, as in a WHERE clause.
            let (from, wheres) = st.inner();
            let sql = format!(
                "NOT EXISTS (SELECT 1 FROM {from} WHERE {wheres} AND NOT COALESCE(({cond}), FALSE))"
            );
            self.guards.items.push((key, sql));
        }
        Ok(())
    }

    /// Wraps an expression in an EXISTS over the `@collection` joins it referenced.
    fn wrap_joins(&self, sql: String) -> String {
        if self.joins.is_empty() {
            return sql;
        }
        let mut from = String::from("(SELECT 1) _kd");
        for (_, alias, c) in &self.joins {
            from.push_str(&format!(
                " LEFT JOIN {} {alias} ON 1=1",
                self.d.quote(&c.name)
            ));
        }
        format!("EXISTS (SELECT 1 FROM {from} WHERE {sql})")
    }

    /// Resolves `segments` starting at collection `coll` whose row is `alias` in scope.
    fn resolve_path(
        &mut self,
        raw: &str,
        mut coll: &'a Collection,
        mut alias: String,
        segments: &[&str],
        mut st: PathState,
        b: &mut SqlBuilder<'_>,
    ) -> Result<Resolved, FilterError> {
        let d = self.d;
        let mut i = 0;
        let expr: String;
        let mut no_coalesce = false;
        let mut length = false;
        // The row alias of an auth collection's email being compared by a non-superuser.
        let mut email_of: Option<String> = None;
        loop {
            let last = i + 1 == segments.len();
            let (name, modifier) = split_modifier(segments[i]);
            if modifier.is_some() && !last {
                return Err(unknown(raw));
            }
            if let Some((cname, fname)) = name.split_once("_via_") {
                let target = self.by_name(cname).ok_or_else(|| unknown(raw))?;
                let rel = target.field(fname).ok_or_else(|| unknown(raw))?;
                let FieldKind::Relation { collection_id, .. } = &rel.kind else {
                    return Err(unknown(raw));
                };
                // A record being created is not in its collection yet: PocketBase checks its
                // createRule against a stand-in collection, where no back-relation resolves.
                let from_new_record = self.new_record && alias == self.base_alias;
                if collection_id != &coll.id || target.is_view() || from_new_record {
                    return Err(unknown(raw));
                }
                if rel.hidden && self.applies_list_rules() {
                    return Err(unknown(raw));
                }
                let a = self.alias("_kb");
                let col = format!("{a}.{}", d.quote(&rel.name));
                let on = if rel.is_multi() {
                    let j = self.alias("_kj");
                    format!(
                        "EXISTS (SELECT 1 FROM {} WHERE {j}.value = {alias}.\"id\")",
                        d.json_each_from(&col, &j)
                    )
                } else {
                    format!("{col} = {alias}.\"id\"")
                };
                st.join(format!("{} {a}", d.quote(&target.name)), Some(on));
                st.multi = true;
                st.joined = true;
                st.guard_whole_row = false;
                self.restrict_joined(raw, segments, i, target, &a, &mut st, b)?;
                coll = target;
                alias = a;
                if last {
                    expr = format!("{alias}.\"id\"");
                    break;
                }
                i += 1;
                continue;
            }
            let field: &'a Field = coll.field(name).ok_or_else(|| unknown(raw))?;
            if field.hidden && self.applies_list_rules() {
                return Err(unknown(raw));
            }
            if matches!(field.kind, FieldKind::Password { .. }) {
                return Err(unknown(raw));
            }
            let col = format!("{alias}.{}", d.quote(&field.name));
            if last {
                let mut e = col.clone();
                match modifier {
                    Some("each") => {
                        if !(field.is_multi() || matches!(field.kind, FieldKind::Json { .. })) {
                            return Err(unknown(raw));
                        }
                        let j = self.alias("_kj");
                        st.join(d.json_each_from(&col, &j), None);
                        st.multi = true;
                        e = format!("{j}.value");
                    }
                    Some("length") => {
                        if !(field.is_multi() || matches!(field.kind, FieldKind::Json { .. })) {
                            return Err(unknown(raw));
                        }
                        e = d.json_array_length(&col);
                        no_coalesce = true;
                        length = true;
                    }
                    None | Some("lower") => {
                        no_coalesce =
                            matches!(field.kind, FieldKind::Number { .. } | FieldKind::Bool);
                    }
                    Some(_) => return Err(unknown(raw)),
                }
                if field.name == "email" && coll.is_auth() && self.applies_list_rules() {
                    email_of = Some(alias.clone());
                }
                if modifier == Some("lower") {
                    e = d.lower(&e);
                }
                expr = e;
                break;
            }
            // `rel.id` of a single relation is the relation field itself: no join, so no
            // listRule of the related collection either (PocketBase's "id" shortcut).
            if !field.is_multi()
                && matches!(field.kind, FieldKind::Relation { .. })
                && i + 2 == segments.len()
                && segments[i + 1] == "id"
            {
                expr = col;
                break;
            }
            match &field.kind {
                FieldKind::Relation { collection_id, .. } => {
                    let target = self.by_id(collection_id).ok_or_else(|| unknown(raw))?;
                    let a = self.alias("_kr");
                    st.joined = true;
                    let table = format!("{} {a}", d.quote(&target.name));
                    if field.is_multi() {
                        let j = self.alias("_kj");
                        st.join(d.json_each_from(&col, &j), None);
                        st.multi = true;
                        st.join(table, Some(format!("{a}.\"id\" = {j}.value")));
                        st.guard_whole_row = false;
                    } else {
                        st.join(table, Some(format!("{a}.\"id\" = {col}")));
                    }
                    self.restrict_joined(raw, segments, i, target, &a, &mut st, b)?;
                    coll = target;
                    alias = a;
                    i += 1;
                }
                FieldKind::Json { .. } | FieldKind::GeoPoint => {
                    let keys: Vec<&str> = segments[i + 1..]
                        .iter()
                        .map(|s| split_modifier(s).0)
                        .collect();
                    if keys.iter().any(|k| !is_key(k)) {
                        return Err(unknown(raw));
                    }
                    if matches!(field.kind, FieldKind::GeoPoint)
                        && (keys.len() != 1 || !matches!(keys[0], "lon" | "lat"))
                    {
                        return Err(unknown(raw));
                    }
                    let (_, m) = split_modifier(segments[segments.len() - 1]);
                    let mut e = d.json_extract(&col, &keys);
                    match m {
                        None => {}
                        Some("lower") => e = d.lower(&e),
                        Some(_) => return Err(unknown(raw)),
                    }
                    expr = e;
                    break;
                }
                _ => return Err(unknown(raw)),
            }
        }
        // An auth record's email counts in a non-superuser's filter only where it is visible:
        // PocketBase ANDs `emailVisibility = TRUE` of its row to the comparison.
        let visible = email_of.map(|a| format!("{a}.\"emailVisibility\" = TRUE"));
        if st.from.is_empty() {
            return Ok(Resolved {
                expr,
                multi: None,
                no_coalesce,
                also: visible,
            });
        }
        if st.multi {
            let (from, wheres) = if st.joined {
                st.left(&self.alias("_kd"))
            } else {
                st.inner()
            };
            let empty_fails = visible.is_some();
            st.also.extend(visible);
            let also = (!st.also.is_empty()).then(|| st.also.join(" AND "));
            Ok(Resolved {
                expr,
                multi: Some(Multi {
                    source: format!("FROM {from} WHERE ({wheres})"),
                    empty_fails,
                    joined_rows: st.joined,
                    never_empty: st.joined && !st.anchored,
                }),
                no_coalesce: false,
                also,
            })
        } else {
            let (from, wheres) = st.inner();
            let also =
                visible.map(|v| format!("EXISTS (SELECT 1 FROM {from} WHERE {wheres} AND {v})"));
            let value = format!("(SELECT {expr} FROM {from} WHERE {wheres} LIMIT 1)");
            // the length of a missing row's field is 0 (PocketBase's LEFT JOIN of no row)
            let value = if length {
                format!("COALESCE({value}, 0)")
            } else {
                value
            };
            Ok(Resolved {
                expr: value,
                multi: None,
                no_coalesce: length,
                also,
            })
        }
    }

    /// A bound value; arrays become a set over the bound JSON.
    fn bound(
        &mut self,
        v: &Value,
        modifier: Option<&str>,
        b: &mut SqlBuilder<'_>,
        raw: &str,
    ) -> Result<Resolved, FilterError> {
        let d = self.d;
        match (modifier, v) {
            (Some("length"), Value::Array(a)) => Ok(Resolved {
                expr: b.push(Param::Int(a.len() as i64)),
                multi: None,
                no_coalesce: true,
                also: None,
            }),
            (Some("length"), _) => Ok(Resolved {
                expr: b.push(Param::Int(0)),
                multi: None,
                no_coalesce: true,
                also: None,
            }),
            (None | Some("each") | Some("lower"), Value::Array(_)) => {
                let p = b.push(Param::Text(v.to_string()));
                let j = self.alias("_kj");
                let item = if modifier == Some("lower") {
                    d.lower(&format!("{j}.value"))
                } else {
                    format!("{j}.value")
                };
                Ok(Resolved {
                    expr: item,
                    multi: Some(Multi {
                        source: format!("FROM {} WHERE 1=1", d.json_each_from(&p, &j)),
                        empty_fails: false,
                        joined_rows: false,
                        never_empty: false,
                    }),
                    no_coalesce: false,
                    also: None,
                })
            }
            (Some("lower"), v) => Ok(Resolved {
                expr: d.lower(&b.push(json_param(v))),
                multi: None,
                no_coalesce: false,
                also: None,
            }),
            (None | Some("each"), v) => Ok(Resolved {
                expr: b.push(json_param(v)),
                multi: None,
                no_coalesce: false,
                also: None,
            }),
            _ => Err(unknown(raw)),
        }
    }

    fn resolve_request(
        &mut self,
        raw: &str,
        rest: &str,
        b: &mut SqlBuilder<'_>,
    ) -> Result<Resolved, FilterError> {
        let segments: Vec<&str> = rest.split('.').collect();
        let (head, head_mod) = split_modifier(segments[0]);
        let single = |s: &str| Value::String(s.to_owned());
        match head {
            "method" | "context" if segments.len() == 1 => {
                let v = if head == "method" {
                    single(&self.req.method)
                } else {
                    single(self.req.context)
                };
                self.bound(&v, head_mod, b, raw)
            }
            "query" | "headers" if segments.len() == 2 => {
                let (key, m) = split_modifier(segments[1]);
                let map = if head == "query" {
                    &self.req.query
                } else {
                    &self.req.headers
                };
                let v = map
                    .get(key)
                    .map(|s| single(s))
                    .unwrap_or(Value::String(String::new()));
                self.bound(&v, m, b, raw)
            }
            "auth" if segments.len() >= 2 => {
                let Some(auth) = self.req.auth.clone() else {
                    // A guest's auth fields are NULL (PocketBase): `=`/`!=` read them as `""`,
                    // while `<`, `>`, `~` never hold (`n <= @request.auth.age` is no way in).
                    let (_, m) = split_modifier(segments[segments.len() - 1]);
                    return self.bound(&Value::Null, m, b, raw);
                };
                let (name, m) = split_modifier(segments[1]);
                if segments.len() == 2 {
                    let v = match name {
                        "collectionId" => single(&auth.collection.id),
                        "collectionName" => single(&auth.collection.name),
                        _ => match auth.collection.field(name) {
                            Some(f) if !matches!(f.kind, FieldKind::Password { .. }) => {
                                auth.get(name).cloned().unwrap_or(Value::Null)
                            }
                            Some(_) => return Err(unknown(raw)),
                            // A field this auth collection does not have (a rule may serve users of
                            // several collections): NULL, as in PocketBase.
                            None => Value::Null,
                        },
                    };
                    return self.bound(&v, m, b, raw);
                }
                // A path through the auth record's relations: start from its row.
                let coll = self
                    .by_id(&auth.collection.id)
                    .ok_or_else(|| unknown(raw))?;
                let a = self.alias("_ka");
                let p = b.push(Param::Text(auth.id().to_owned()));
                let st = PathState::anchored(
                    format!("{} {a}", self.d.quote(&coll.name)),
                    format!("{a}.\"id\" = {p}"),
                    false,
                    false,
                );
                self.resolve_path(raw, coll, a, &segments[1..], st, b)
            }
            "body" if segments.len() >= 2 => {
                let (name, m) = split_modifier(segments[1]);
                let field = self.base.field(name);
                let present = self.req.body.contains_key(name);
                let v = self.req.body.get(name).cloned().unwrap_or(Value::Null);
                // `:each` / `:length` need a multi-valued field (PocketBase: "doesn't support
                // multivalue operations").
                if matches!(m, Some("each" | "length")) && !field.is_some_and(|f| f.is_multi()) {
                    return Err(unknown(raw));
                }
                if segments.len() == 2 {
                    return match m {
                        Some("isset") => Ok(Resolved {
                            expr: b.push(Param::Bool(present)),
                            multi: None,
                            no_coalesce: true,
                            also: None,
                        }),
                        Some("changed") => {
                            let f = field.ok_or_else(|| unknown(raw))?;
                            if !present {
                                return Ok(Resolved {
                                    expr: b.push(Param::Bool(false)),
                                    multi: None,
                                    no_coalesce: true,
                                    also: None,
                                });
                            }
                            let p = b.push(db_param(json_to_column(f, &v)));
                            let col = format!("{}.{}", self.base_alias, self.d.quote(&f.name));
                            Ok(Resolved {
                                expr: format!(
                                    "(CASE WHEN {} THEN 0 ELSE 1 END)",
                                    self.d.is(&col, &p)
                                ),
                                multi: None,
                                no_coalesce: true,
                                also: None,
                            })
                        }
                        _ => {
                            let typed = match field {
                                Some(f) if !v.is_array() && present => {
                                    match db_param(json_to_column(f, &v)) {
                                        Param::Int(i) => Value::from(i),
                                        Param::Float(x) => serde_json::Number::from_f64(x)
                                            .map(Value::Number)
                                            .unwrap_or(Value::Null),
                                        Param::Text(s) => Value::String(s),
                                        _ => v.clone(),
                                    }
                                }
                                _ => v.clone(),
                            };
                            self.bound(&typed, m, b, raw)
                        }
                    };
                }
                // `@request.body.rel.field`: a path starting at the submitted related record.
                let f = field.ok_or_else(|| unknown(raw))?;
                let FieldKind::Relation { collection_id, .. } = &f.kind else {
                    return Err(unknown(raw));
                };
                let target = self.by_id(collection_id).ok_or_else(|| unknown(raw))?;
                let a = self.alias("_kq");
                let ids = match &v {
                    Value::Array(_) => v.to_string(),
                    Value::String(s) => Value::Array(vec![Value::String(s.clone())]).to_string(),
                    _ => "[]".into(),
                };
                let p = b.push(Param::Text(ids));
                let j = self.alias("_kj");
                let st = PathState::anchored(
                    format!(
                        "{} JOIN {} {a} ON {a}.\"id\" = {j}.value",
                        self.d.json_each_from(&p, &j),
                        self.d.quote(&target.name)
                    ),
                    "1=1".to_owned(),
                    f.is_multi(),
                    true,
                );
                self.resolve_path(raw, target, a, &segments[2..], st, b)
            }
            _ => Err(unknown(raw)),
        }
    }

    fn resolve_collection(
        &mut self,
        raw: &str,
        rest: &str,
        b: &mut SqlBuilder<'_>,
    ) -> Result<Resolved, FilterError> {
        let segments: Vec<&str> = rest.split('.').collect();
        if segments.len() < 2 {
            return Err(unknown(raw));
        }
        let (cname, alias_name) = split_modifier(segments[0]);
        let key = segments[0].to_owned();
        let coll = self.by_name(cname).ok_or_else(|| unknown(raw))?;
        let _ = alias_name;
        let alias = match self.joins.iter().find(|(k, _, _)| *k == key) {
            Some((_, a, _)) => a.clone(),
            None => {
                let a = self.alias("_kc");
                self.joins.push((key, a.clone(), coll));
                a
            }
        };
        self.resolve_path(raw, coll, alias, &segments[1..], PathState::new(false), b)
    }
}

impl Resolver for RecordResolver<'_, '_> {
    fn resolve(&mut self, ident: &Ident, b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError> {
        let raw = ident.raw.as_str();
        let restricted = self.mode == Mode::ClientFilter && !self.superuser();
        if let Some(rest) = raw.strip_prefix("@request.") {
            if restricted {
                return Err(FilterError::Forbidden("@request".into()));
            }
            return self.resolve_request(raw, rest, b);
        }
        if let Some(rest) = raw.strip_prefix("@collection.") {
            if restricted {
                return Err(FilterError::Forbidden("@collection".into()));
            }
            return self.resolve_collection(raw, rest, b);
        }
        if raw.starts_with('@') {
            return Err(unknown(raw));
        }
        let segments: Vec<&str> = raw.split('.').collect();
        let base = self.base;
        self.resolve_path(
            raw,
            base,
            self.base_alias.to_owned(),
            &segments,
            PathState::new(true),
            b,
        )
    }
}

/// One SQL statement being built from rules, client filters and sort terms: its bound
/// parameters (numbered in push order), its subquery alias counter and the list-rule guards its
/// client filters and sorts collected. Every place that turns PocketBase expressions into SQL
/// goes through it, so they share one numbering and one set of guards.
pub struct Stmt<'a> {
    schema: &'a Schema,
    req: &'a RequestInfo,
    d: Dialect,
    b: SqlBuilder<'static>,
    aliases: Cell<usize>,
    now_ms: i64,
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
            now_ms: crate::datetime::now_ms(),
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
            .map(crate::records::query::to_db)
            .collect()
    }

    /// The list-rule guards that client filters and sorts of this statement collected; the
    /// statement's WHERE must hold each of them.
    pub fn guards(&self) -> &Guards {
        &self.guards
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
            now_ms: self.now_ms,
            joins: Vec::new(),
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
        let now_ms = self.now_ms;
        let (mut r, b) = self.resolver(base, base_alias, mode);
        let sql = compile(&expr, &mut r, b, &CompileOptions { now_ms })?;
        Ok(r.wrap_joins(sql))
    }

    /// An API rule over `base` (whose row is `base_alias` in the statement) as a boolean SQL
    /// expression. Rules see every field of every collection they reach.
    pub fn rule(
        &mut self,
        base: &'a Collection,
        base_alias: &'a str,
        text: &str,
    ) -> Result<String, CoreError> {
        self.expr(base, base_alias, Mode::Rule, text)
    }

    /// A client's filter over `base` as a boolean SQL expression. For non-superusers, hidden
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
        if resolved.multi.is_some() || !r.joins.is_empty() {
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
