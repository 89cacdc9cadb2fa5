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
use kiln_filter::{compile, parse, CompileOptions, FilterError, Ident, Limits, Multi, Param, Resolved, Resolver, SqlBuilder};

use super::FilterDialect;
use crate::error::CoreError;
use crate::records::model::json_to_column;
use crate::request::RequestInfo;
use crate::schema::{Collection, Field, FieldKind, Schema};

/// Where an expression comes from, which decides what it may reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An API rule written by a superuser: `@request.*` and `@collection.*` allowed.
    Rule,
    /// A client's `filter` parameter: `@request.*` and `@collection.*` only for superusers.
    ClientFilter,
}

/// How deep rules of related collections are applied inside a relation path.
const MAX_RULE_DEPTH: usize = 3;

struct RecordResolver<'a> {
    schema: &'a Schema,
    req: &'a RequestInfo,
    mode: Mode,
    d: Dialect,
    base: &'a Collection,
    base_alias: &'a str,
    aliases: &'a Cell<usize>,
    depth: usize,
    now_ms: i64,
    /// `@collection` joins: (name or alias as written, SQL alias, collection).
    joins: Vec<(String, String, &'a Collection)>,
}

fn unknown(raw: &str) -> FilterError {
    FilterError::UnknownField(raw.to_owned())
}

fn is_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A JSON value as a bound parameter.
pub fn json_param(v: &Value) -> Param {
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

struct PathState {
    from: Vec<String>,
    wheres: Vec<String>,
    multi: bool,
}

impl<'a> RecordResolver<'a> {
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

    /// The condition that limits rows of a joined collection to what the requester may list.
    fn join_rule(&self, target: &Collection, alias: &str, b: &mut SqlBuilder<'_>) -> Result<Option<String>, FilterError> {
        if self.superuser() {
            return Ok(None);
        }
        match &target.list_rule {
            None => Ok(Some("1=0".into())),
            Some(r) if r.trim().is_empty() => Ok(None),
            Some(_) if self.depth >= MAX_RULE_DEPTH => Ok(Some("1=0".into())),
            Some(r) => {
                let expr = parse(r, Limits { max_len: usize::MAX, max_exprs: 1000 })?;
                let mut nested = RecordResolver {
                    schema: self.schema,
                    req: self.req,
                    mode: Mode::Rule,
                    d: self.d,
                    base: target,
                    base_alias: alias,
                    aliases: self.aliases,
                    depth: self.depth + 1,
                    now_ms: self.now_ms,
                    joins: Vec::new(),
                };
                let sql = compile(&expr, &mut nested, b, &CompileOptions { now_ms: self.now_ms })?;
                Ok(Some(nested.wrap_joins(sql)))
            }
        }
    }

    /// Wraps an expression in an EXISTS over the `@collection` joins it referenced.
    fn wrap_joins(&self, sql: String) -> String {
        if self.joins.is_empty() {
            return sql;
        }
        let mut from = String::from("(SELECT 1) _kd");
        for (_, alias, c) in &self.joins {
            from.push_str(&format!(" LEFT JOIN {} {alias} ON 1=1", self.d.quote(&c.name)));
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
        loop {
            let last = i + 1 == segments.len();
            let (name, modifier) = split_modifier(segments[i]);
            if modifier.is_some() && !last {
                return Err(unknown(raw));
            }
            if let Some((cname, fname)) = name.split_once("_via_") {
                let target = self.by_name(cname).ok_or_else(|| unknown(raw))?;
                let rel = target.field(fname).ok_or_else(|| unknown(raw))?;
                let FieldKind::Relation { collection_id, .. } = &rel.kind else { return Err(unknown(raw)) };
                if collection_id != &coll.id || target.is_view() {
                    return Err(unknown(raw));
                }
                let a = self.alias("_kb");
                let col = format!("{a}.{}", d.quote(&rel.name));
                st.from.push(format!("{} {a}", d.quote(&target.name)));
                if rel.is_multi() {
                    let j = self.alias("_kj");
                    st.wheres.push(format!(
                        "EXISTS (SELECT 1 FROM {} WHERE {j}.value = {alias}.\"id\")",
                        d.json_each_from(&col, &j)
                    ));
                } else {
                    st.wheres.push(format!("{col} = {alias}.\"id\""));
                }
                if let Some(cond) = self.join_rule(target, &a, b)? {
                    st.wheres.push(format!("({cond})"));
                }
                st.multi = true;
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
            if field.hidden && !self.superuser() && self.mode == Mode::ClientFilter {
                return Err(unknown(raw));
            }
            if matches!(field.kind, FieldKind::Password { .. }) {
                return Err(unknown(raw));
            }
            let col = format!("{alias}.{}", d.quote(&field.name));
            if last {
                let mut e = col.clone();
                match modifier {
                    None | Some("lower") if field.is_multi() => {
                        let j = self.alias("_kj");
                        st.from.push(d.json_each_from(&col, &j));
                        st.multi = true;
                        e = format!("{j}.value");
                    }
                    Some("each") => {
                        if !(field.is_multi() || matches!(field.kind, FieldKind::Json { .. })) {
                            return Err(unknown(raw));
                        }
                        let j = self.alias("_kj");
                        st.from.push(d.json_each_from(&col, &j));
                        st.multi = true;
                        e = format!("{j}.value");
                    }
                    Some("length") => {
                        if !(field.is_multi() || matches!(field.kind, FieldKind::Json { .. })) {
                            return Err(unknown(raw));
                        }
                        e = d.json_array_length(&col);
                        no_coalesce = true;
                    }
                    None | Some("lower") => {
                        no_coalesce = matches!(field.kind, FieldKind::Number { .. } | FieldKind::Bool);
                    }
                    Some(_) => return Err(unknown(raw)),
                }
                // A hidden email is no one's business but superusers': compare it as unknown.
                if field.name == "email" && coll.is_auth() && self.mode == Mode::ClientFilter && !self.superuser() {
                    e = format!("(CASE WHEN {alias}.\"emailVisibility\" THEN {e} ELSE NULL END)");
                    no_coalesce = false;
                }
                if modifier == Some("lower") {
                    e = d.lower(&e);
                }
                expr = e;
                break;
            }
            match &field.kind {
                FieldKind::Relation { collection_id, .. } => {
                    let target = self.by_id(collection_id).ok_or_else(|| unknown(raw))?;
                    let a = self.alias("_kr");
                    if field.is_multi() {
                        let j = self.alias("_kj");
                        st.from.push(d.json_each_from(&col, &j));
                        st.from.push(format!("{} {a}", d.quote(&target.name)));
                        st.wheres.push(format!("{a}.\"id\" = {j}.value"));
                        st.multi = true;
                    } else {
                        st.from.push(format!("{} {a}", d.quote(&target.name)));
                        st.wheres.push(format!("{a}.\"id\" = {col}"));
                    }
                    if let Some(cond) = self.join_rule(target, &a, b)? {
                        st.wheres.push(format!("({cond})"));
                    }
                    coll = target;
                    alias = a;
                    i += 1;
                }
                FieldKind::Json { .. } | FieldKind::GeoPoint => {
                    let keys: Vec<&str> = segments[i + 1..].iter().map(|s| split_modifier(s).0).collect();
                    if keys.iter().any(|k| !is_key(k)) {
                        return Err(unknown(raw));
                    }
                    if matches!(field.kind, FieldKind::GeoPoint) && (keys.len() != 1 || !matches!(keys[0], "lon" | "lat")) {
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
        if st.from.is_empty() {
            return Ok(Resolved { expr, multi: None, no_coalesce });
        }
        let wheres = if st.wheres.is_empty() { "1=1".to_owned() } else { st.wheres.join(" AND ") };
        if st.multi {
            Ok(Resolved { expr, multi: Some(Multi { source: format!("FROM {} WHERE ({wheres})", st.from.join(", ")) }), no_coalesce: false })
        } else {
            Ok(Resolved { expr: format!("(SELECT {expr} FROM {} WHERE {wheres} LIMIT 1)", st.from.join(", ")), multi: None, no_coalesce: false })
        }
    }

    /// A bound value; arrays become a set over the bound JSON.
    fn bound(&mut self, v: &Value, modifier: Option<&str>, b: &mut SqlBuilder<'_>, raw: &str) -> Result<Resolved, FilterError> {
        let d = self.d;
        match (modifier, v) {
            (Some("length"), Value::Array(a)) => {
                Ok(Resolved { expr: b.push(Param::Int(a.len() as i64)), multi: None, no_coalesce: true })
            }
            (Some("length"), _) => Ok(Resolved { expr: b.push(Param::Int(0)), multi: None, no_coalesce: true }),
            (None | Some("each") | Some("lower"), Value::Array(_)) => {
                let p = b.push(Param::Text(v.to_string()));
                let j = self.alias("_kj");
                let item = if modifier == Some("lower") { d.lower(&format!("{j}.value")) } else { format!("{j}.value") };
                Ok(Resolved { expr: item, multi: Some(Multi { source: format!("FROM {} WHERE 1=1", d.json_each_from(&p, &j)) }), no_coalesce: false })
            }
            (Some("lower"), v) => Ok(Resolved { expr: d.lower(&b.push(json_param(v))), multi: None, no_coalesce: false }),
            (None | Some("each"), v) => Ok(Resolved { expr: b.push(json_param(v)), multi: None, no_coalesce: false }),
            _ => Err(unknown(raw)),
        }
    }

    fn resolve_request(&mut self, raw: &str, rest: &str, b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError> {
        let segments: Vec<&str> = rest.split('.').collect();
        let (head, head_mod) = split_modifier(segments[0]);
        let single = |s: &str| Value::String(s.to_owned());
        match head {
            "method" | "context" if segments.len() == 1 => {
                let v = if head == "method" { single(&self.req.method) } else { single(self.req.context) };
                self.bound(&v, head_mod, b, raw)
            }
            "query" | "headers" if segments.len() == 2 => {
                let (key, m) = split_modifier(segments[1]);
                let map = if head == "query" { &self.req.query } else { &self.req.headers };
                let v = map.get(key).map(|s| single(s)).unwrap_or(Value::String(String::new()));
                self.bound(&v, m, b, raw)
            }
            "auth" if segments.len() >= 2 => {
                let Some(auth) = self.req.auth.clone() else {
                    let (_, m) = split_modifier(segments[segments.len() - 1]);
                    return self.bound(&Value::String(String::new()), m, b, raw);
                };
                let (name, m) = split_modifier(segments[1]);
                if segments.len() == 2 {
                    let v = match name {
                        "collectionId" => single(&auth.collection.id),
                        "collectionName" => single(&auth.collection.name),
                        _ => match auth.collection.field(name) {
                            Some(f) if !matches!(f.kind, FieldKind::Password { .. }) => auth.get(name).cloned().unwrap_or(Value::Null),
                            _ => return Err(unknown(raw)),
                        },
                    };
                    return self.bound(&v, m, b, raw);
                }
                // A path through the auth record's relations: start from its row.
                let coll = self.by_id(&auth.collection.id).ok_or_else(|| unknown(raw))?;
                let a = self.alias("_ka");
                let p = b.push(Param::Text(auth.id().to_owned()));
                let st = PathState { from: vec![format!("{} {a}", self.d.quote(&coll.name))], wheres: vec![format!("{a}.\"id\" = {p}")], multi: false };
                self.resolve_path(raw, coll, a, &segments[1..], st, b)
            }
            "body" if segments.len() >= 2 => {
                let (name, m) = split_modifier(segments[1]);
                let field = self.base.field(name);
                let present = self.req.body.contains_key(name);
                let v = self.req.body.get(name).cloned().unwrap_or(Value::Null);
                if segments.len() == 2 {
                    return match m {
                        Some("isset") => Ok(Resolved { expr: b.push(Param::Bool(present)), multi: None, no_coalesce: true }),
                        Some("changed") => {
                            let f = field.ok_or_else(|| unknown(raw))?;
                            if !present {
                                return Ok(Resolved { expr: b.push(Param::Bool(false)), multi: None, no_coalesce: true });
                            }
                            let p = b.push(db_param(json_to_column(f, &v)));
                            let col = format!("{}.{}", self.base_alias, self.d.quote(&f.name));
                            Ok(Resolved { expr: format!("(CASE WHEN {} THEN 0 ELSE 1 END)", self.d.is(&col, &p)), multi: None, no_coalesce: true })
                        }
                        _ => {
                            let typed = match field {
                                Some(f) if !v.is_array() && present => match db_param(json_to_column(f, &v)) {
                                    Param::Int(i) => Value::from(i),
                                    Param::Float(x) => serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null),
                                    Param::Text(s) => Value::String(s),
                                    _ => v.clone(),
                                },
                                _ => v.clone(),
                            };
                            self.bound(&typed, m, b, raw)
                        }
                    };
                }
                // `@request.body.rel.field`: a path starting at the submitted related record.
                let f = field.ok_or_else(|| unknown(raw))?;
                let FieldKind::Relation { collection_id, .. } = &f.kind else { return Err(unknown(raw)) };
                let target = self.by_id(collection_id).ok_or_else(|| unknown(raw))?;
                let a = self.alias("_kq");
                let ids = match &v {
                    Value::Array(_) => v.to_string(),
                    Value::String(s) => Value::Array(vec![Value::String(s.clone())]).to_string(),
                    _ => "[]".into(),
                };
                let p = b.push(Param::Text(ids));
                let j = self.alias("_kj");
                let st = PathState {
                    from: vec![self.d.json_each_from(&p, &j), format!("{} {a}", self.d.quote(&target.name))],
                    wheres: vec![format!("{a}.\"id\" = {j}.value")],
                    multi: f.is_multi(),
                };
                self.resolve_path(raw, target, a, &segments[2..], st, b)
            }
            _ => Err(unknown(raw)),
        }
    }

    fn resolve_collection(&mut self, raw: &str, rest: &str, b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError> {
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
        let st = PathState { from: vec![], wheres: vec![], multi: false };
        self.resolve_path(raw, coll, alias, &segments[1..], st, b)
    }
}

impl Resolver for RecordResolver<'_> {
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
        let st = PathState { from: vec![], wheres: vec![], multi: false };
        let base = self.base;
        self.resolve_path(raw, base, self.base_alias.to_owned(), &segments, st, b)
    }
}

/// Compiles a rule or client filter over `base` (whose row is `base_alias` in the statement) to
/// a boolean SQL expression, binding values through `b`. `aliases` numbers the subquery aliases
/// of one statement.
#[allow(clippy::too_many_arguments)]
pub fn compile_expr<'a>(
    schema: &'a Schema,
    base: &'a Collection,
    base_alias: &'a str,
    req: &'a RequestInfo,
    mode: Mode,
    text: &str,
    b: &mut SqlBuilder<'_>,
    aliases: &'a Cell<usize>,
    now_ms: i64,
) -> Result<String, CoreError> {
    let limits = match mode {
        Mode::ClientFilter => Limits::default(),
        Mode::Rule => Limits { max_len: usize::MAX, max_exprs: 1000 },
    };
    let expr = parse(text, limits)?;
    let d = match b.dialect().placeholder(1).starts_with('$') {
        true => Dialect::Postgres,
        false => Dialect::Sqlite,
    };
    let mut r = RecordResolver {
        schema,
        req,
        mode,
        d,
        base,
        base_alias,
        aliases,
        depth: 0,
        now_ms,
        joins: Vec::new(),
    };
    let sql = compile(&expr, &mut r, b, &CompileOptions { now_ms })?;
    Ok(r.wrap_joins(sql))
}

/// Checks that `rule` compiles against `base` within `schema` (collection validation).
pub fn check_rule(schema: &Schema, base: &Collection, rule: &str) -> Result<(), String> {
    let d = FilterDialect(Dialect::Sqlite);
    let mut b = SqlBuilder::new(&d);
    let aliases = Cell::new(0);
    let expr = parse(rule, Limits { max_len: usize::MAX, max_exprs: 1000 }).map_err(|e| e.to_string())?;
    let req = RequestInfo::default();
    let mut r = RecordResolver {
        schema,
        req: &req,
        mode: Mode::Rule,
        d: Dialect::Sqlite,
        base,
        base_alias: "_kt",
        aliases: &aliases,
        depth: MAX_RULE_DEPTH,
        now_ms: 0,
        joins: Vec::new(),
    };
    compile(&expr, &mut r, &mut b, &CompileOptions { now_ms: 0 }).map(|_| ()).map_err(|e| e.to_string())
}

/// Resolves one identifier (a sort term) over `base`; fails for multi-valued identifiers.
#[allow(clippy::too_many_arguments)]
pub fn resolve_single<'a>(
    schema: &'a Schema,
    base: &'a Collection,
    base_alias: &'a str,
    req: &'a RequestInfo,
    mode: Mode,
    ident: &str,
    b: &mut SqlBuilder<'_>,
    aliases: &'a Cell<usize>,
) -> Result<String, CoreError> {
    let d = match b.dialect().placeholder(1).starts_with('$') {
        true => Dialect::Postgres,
        false => Dialect::Sqlite,
    };
    let mut r = RecordResolver { schema, req, mode, d, base, base_alias, aliases, depth: 0, now_ms: 0, joins: Vec::new() };
    let resolved = r.resolve(&Ident { raw: ident.to_owned() }, b)?;
    if resolved.multi.is_some() || !r.joins.is_empty() {
        return Err(CoreError::BadQuery(format!("cannot sort by the multi-valued {ident:?}")));
    }
    Ok(resolved.expr)
}
