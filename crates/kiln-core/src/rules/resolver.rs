//! Maps the identifiers of filters and rules to SQL over collection tables.
//!
//! A field path becomes a column of the base row, a correlated scalar subquery (single
//! relations), or, once it goes through a multi-valued step (multiple relation, back-relation,
//! `:each`, `@collection`), a value of the statement's shared LEFT JOINs ([`Joins`]) together
//! with the same value over the path's own rows, which the filter compiler uses for all-of
//! operators — PocketBase's joins and multi-match subqueries, without DISTINCT.
use std::cell::Cell;

use serde_json::Value;

use kiln_db::Dialect;
use kiln_filter::{
    compile, parse, CompileOptions, FilterError, Ident, Limits, Multi, Param, Resolved, Resolver,
    SqlBuilder,
};

use super::joins::{Guards, Joins};
use super::path::{Leaf, PathState, Pending, Step};
use crate::records::model::json_to_column;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;
use crate::schema::field::{Field, FieldKind};
use crate::schema::Schema;

/// Where an expression comes from, which decides what it may reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// An API rule written by a superuser: `@request.*` and `@collection.*` allowed.
    Rule,
    /// A client's `filter` parameter: `@request.*` and `@collection.*` only for superusers.
    ClientFilter,
}

/// Rules are written by superusers: no length limit, a generous expression count.
pub(super) const RULE_LIMITS: Limits = Limits {
    max_len: usize::MAX,
    max_exprs: 1000,
};

pub(super) struct RecordResolver<'a, 'g> {
    pub(super) schema: &'a Schema,
    pub(super) req: &'a RequestInfo,
    pub(super) mode: Mode,
    pub(super) d: Dialect,
    pub(super) base: &'a Collection,
    pub(super) base_alias: &'a str,
    pub(super) aliases: &'a Cell<usize>,
    /// Set when the SQL or its values may depend on the request or the time: `@request.*`, a
    /// related listRule with `@` in it, and (to keep the rule simple) `@collection.*`. See
    /// [`super::stmt::Stmt::is_dynamic`].
    pub(super) dynamic: &'a Cell<bool>,
    pub(super) now_ms: i64,
    /// The statement's shared joins.
    pub(super) joins: &'g mut Joins,
    /// The statement's list-rule guards, shared by every client filter and sort term in it.
    pub(super) guards: &'g mut Guards,
    /// The base row is a record being created (see [`Stmt::for_new_record`]).
    pub(super) new_record: bool,
}

fn unknown(raw: &str) -> FilterError {
    FilterError::UnknownField(raw.to_owned())
}

/// PocketBase's error for a path whose last segment is not a field of its collection.
fn unknown_field(name: &str) -> FilterError {
    FilterError::Unresolved(format!("unknown field {name:?}"))
}

/// `collection_via_field` → (collection, field), as PocketBase's `^(\w+)_via_(\w+)$` splits it
/// (the first group is greedy: the last `_via_` that leaves both parts non-empty).
fn back_relation(name: &str) -> Option<(&str, &str)> {
    name.rmatch_indices("_via_")
        .map(|(i, sep)| (&name[..i], &name[i + sep.len()..]))
        .find(|(c, f)| !c.is_empty() && !f.is_empty())
}

/// A JSON value as Go's `cast.ToString` reads PocketBase's decoded request body: numbers are
/// float64 (`1.0` → "1", `1e21` → "1000000000000000000000"), `null`, arrays and objects "".
fn go_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_f64().map(|f| f.to_string()).unwrap_or_default(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    }
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-*@#".contains(&b))
}

/// PocketBase's `inflector.Columnify`: the characters a column or JSON key may hold (ASCII word
/// characters, `-`, `*`, `@`, `#`; never a quote), the others dropped.
fn columnify(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-*@#".contains(*c))
        .collect()
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

/// A bound filter parameter as a database value.
pub(crate) fn to_db(p: Param) -> kiln_db::Value {
    match p {
        Param::Null => kiln_db::Value::Null,
        Param::Bool(b) => kiln_db::Value::Int(b as i64),
        Param::Int(i) => kiln_db::Value::Int(i),
        Param::Float(f) => kiln_db::Value::Float(f),
        Param::Text(s) => kiln_db::Value::Text(s),
    }
}

/// [`to_db`] of each parameter.
pub(crate) fn to_db_params(ps: Vec<Param>) -> Vec<kiln_db::Value> {
    ps.into_iter().map(to_db).collect()
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
    /// apply inside it), self-contained (its own joins inside). `Ok(None)` when anyone may list;
    /// an error when only superusers may, as PocketBase refuses such a filter.
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
        if rule.contains('@') {
            self.dynamic.set(true); // `@request.*`, a datetime macro
        }
        let expr = parse(rule, RULE_LIMITS)?;
        let mut joins = Joins::default();
        let mut unused = Guards::default();
        let mut nested = RecordResolver {
            schema: self.schema,
            req: self.req,
            mode: Mode::Rule,
            d: self.d,
            base: target,
            base_alias: alias,
            aliases: self.aliases,
            dynamic: self.dynamic,
            now_ms: self.now_ms,
            joins: &mut joins,
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
        Ok(Some(joins.wrap(&sql, &self.alias("_kd"))))
    }

    /// Guards the whole row with `target`'s listRule, for the row just joined into `st` by the
    /// single-relation step `segments[..=i]` of a client filter (see [`Guards`]).
    fn guard_row(
        &mut self,
        raw: &str,
        segments: &[&str],
        i: usize,
        target: &Collection,
        st: &PathState<'a>,
        b: &mut SqlBuilder<'_>,
    ) -> Result<(), FilterError> {
        let key = path_key(&segments[..=i]);
        if self.guards.has(&key) {
            return Ok(());
        }
        if let Some(cond) = self.list_rule_sql(raw, target, &st.alias, b)? {
            // The row passes when the related row is missing or the requester may list it; a
            // NULL rule result fails, as in a WHERE clause.
            let (from, wheres) = st.inner();
            let sql = format!(
                "NOT EXISTS (SELECT 1 FROM {from} WHERE {wheres} AND NOT COALESCE(({cond}), FALSE))"
            );
            self.guards.add(key, sql);
        }
        Ok(())
    }

    /// The joins of `step` from the row `from` to the new row `to`: (item, ON condition).
    fn step_joins(&self, step: Step<'_>, from: &str, to: &str) -> Vec<(String, Option<String>)> {
        let d = self.d;
        match step {
            Step::Auth { table, id } => {
                vec![(format!("{table} {to}"), Some(format!("{to}.\"id\" = {id}")))]
            }
            Step::Body { table, ids } => {
                let j = self.alias("_kj");
                let on = format!(
                    "{to}.\"id\" IN (SELECT {j}.value FROM {})",
                    d.json_each_from(ids, &j)
                );
                vec![(format!("{table} {to}"), Some(on))]
            }
            Step::Every { table } => vec![(format!("{table} {to}"), None)],
            Step::Forward {
                column,
                multi: true,
                table,
            } => {
                let j = self.alias("_kj");
                vec![
                    (d.json_each_from(&format!("{from}.{column}"), &j), None),
                    (
                        format!("{table} {to}"),
                        Some(format!("{to}.\"id\" = {j}.value")),
                    ),
                ]
            }
            Step::Forward {
                column,
                multi: false,
                table,
            } => vec![(
                format!("{table} {to}"),
                Some(format!("{to}.\"id\" = {from}.{column}")),
            )],
            Step::Back {
                table,
                column,
                multi: true,
            } => {
                let j = self.alias("_kj");
                let on = format!(
                    "EXISTS (SELECT 1 FROM {} WHERE {j}.value = {from}.\"id\")",
                    d.json_each_from(&format!("{to}.{column}"), &j)
                );
                vec![(format!("{table} {to}"), Some(on))]
            }
            Step::Back {
                table,
                column,
                multi: false,
            } => vec![(
                format!("{table} {to}"),
                Some(format!("{to}.{column} = {from}.\"id\"")),
            )],
            Step::Each { column } => {
                vec![(d.json_each_from(&format!("{from}.{column}"), to), None)]
            }
        }
    }

    /// Takes `step` (path segment `seg`) on the path's own rows and on the shared joins.
    /// `rule_of`: the collection whose listRule the shared row must pass.
    fn step(
        &mut self,
        st: &mut PathState<'a>,
        seg: &str,
        step: Step<'_>,
        rule_of: Option<&'a Collection>,
        prefix: &str,
    ) {
        let to = self.alias(prefix);
        for (item, on) in self.step_joins(step, &st.alias, &to) {
            st.join(item, on);
        }
        st.alias = to;
        let key = format!("{}.{seg}", st.key);
        let shared = match self.joins.alias_of(&key) {
            Some(a) => a.to_owned(),
            None => {
                let sa = self.alias("_ks");
                let text: String = self
                    .step_joins(step, &st.shared, &sa)
                    .into_iter()
                    .map(|(item, on)| {
                        format!(" LEFT JOIN {item} ON {}", on.as_deref().unwrap_or("1=1"))
                    })
                    .collect();
                st.pending.push(Pending {
                    key: key.clone(),
                    alias: sa.clone(),
                    text,
                });
                sa
            }
        };
        if let Some(c) = rule_of {
            st.ruled.push((shared.clone(), c));
        }
        st.key = key;
        st.shared = shared;
    }

    /// The SQL of `leaf` over the row `alias`.
    fn leaf_sql(&self, leaf: &Leaf, alias: &str) -> String {
        let d = self.d;
        match leaf {
            Leaf::Column {
                column,
                lower,
                length,
            } => {
                let c = format!("{alias}.{column}");
                if *length {
                    d.json_array_length(&c)
                } else if *lower {
                    d.lower(&c)
                } else {
                    c
                }
            }
            Leaf::Json { column, keys } => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                d.json_extract(&format!("{alias}.{column}"), &keys)
            }
            Leaf::Item => format!("{alias}.value"),
        }
    }

    /// Resolves `segments` starting at collection `coll`, whose row is `st.alias`.
    fn resolve_path(
        &mut self,
        raw: &str,
        mut coll: &'a Collection,
        segments: &[&str],
        mut st: PathState<'a>,
        b: &mut SqlBuilder<'_>,
    ) -> Result<Resolved, FilterError> {
        let d = self.d;
        let mut i = 0;
        let leaf: Leaf;
        let mut no_coalesce = false;
        let mut typed = false;
        // An auth record's email compared by a non-superuser counts only where it is visible.
        let mut email = false;
        loop {
            let last = i + 1 == segments.len();
            let (name, modifier) = split_modifier(segments[i]);
            if modifier.is_some() && !last {
                return Err(unknown(raw));
            }
            // A name is a field of the collection first. The last one must be: a path that
            // ends in a back-relation (`comments_via_post`, `comments_via_post:length`) names
            // no value, as in PocketBase ("unknown field").
            if coll.field(name).is_none() && last {
                return Err(unknown_field(name));
            }
            if coll.field(name).is_none() {
                let (cname, fname) = back_relation(name).ok_or_else(|| unknown(raw))?;
                let target = self.by_name(cname).ok_or_else(|| unknown(raw))?;
                let rel = target.field(fname).ok_or_else(|| unknown(raw))?;
                let FieldKind::Relation { collection_id, .. } = &rel.kind else {
                    return Err(unknown(raw));
                };
                // A record being created is not in its collection yet: PocketBase checks its
                // createRule against a stand-in collection, where no back-relation resolves.
                let from_new_record = self.new_record && st.alias == self.base_alias;
                if collection_id != &coll.id || target.is_view() || from_new_record {
                    return Err(unknown(raw));
                }
                if rel.hidden && self.applies_list_rules() {
                    return Err(unknown(raw));
                }
                let table = d.quote(&target.name);
                let column = d.quote(&rel.name);
                st.multi = true;
                st.guard_whole_row = false;
                let rule_of = self.applies_list_rules().then_some(target);
                let step = Step::Back {
                    table: &table,
                    column: &column,
                    multi: rel.is_multi(),
                };
                self.step(&mut st, name, step, rule_of, "_kb");
                coll = target;
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
            let column = d.quote(&field.name);
            let multi_valued = field.is_multi() || matches!(field.kind, FieldKind::Json { .. });
            if last {
                leaf = match modifier {
                    Some("each") => {
                        if !multi_valued {
                            return Err(unknown(raw));
                        }
                        self.step(
                            &mut st,
                            segments[i],
                            Step::Each { column: &column },
                            None,
                            "_kj",
                        );
                        st.multi = true;
                        Leaf::Item
                    }
                    Some("length") => {
                        if !multi_valued {
                            return Err(unknown(raw));
                        }
                        no_coalesce = true;
                        typed = true;
                        Leaf::Column {
                            column,
                            lower: false,
                            length: true,
                        }
                    }
                    None | Some("lower") => {
                        no_coalesce =
                            matches!(field.kind, FieldKind::Number { .. } | FieldKind::Bool);
                        typed = no_coalesce && modifier.is_none();
                        Leaf::Column {
                            column,
                            lower: modifier.is_some(),
                            length: false,
                        }
                    }
                    Some(_) => return Err(unknown(raw)),
                };
                email = field.name == "email" && coll.is_auth() && self.applies_list_rules();
                break;
            }
            match &field.kind {
                FieldKind::Relation { collection_id, .. } => {
                    // `rel.id` of a single relation is the relation field itself: no join, so
                    // no listRule of the related collection either (PocketBase's shortcut).
                    if !field.is_multi() && i + 2 == segments.len() && segments[i + 1] == "id" {
                        leaf = Leaf::Column {
                            column,
                            lower: false,
                            length: false,
                        };
                        break;
                    }
                    let target = self.by_id(collection_id).ok_or_else(|| unknown(raw))?;
                    let table = d.quote(&target.name);
                    if field.is_multi() {
                        st.multi = true;
                        st.guard_whole_row = false;
                    }
                    let rule_of =
                        (self.applies_list_rules() && !st.guard_whole_row).then_some(target);
                    let step = Step::Forward {
                        column: &column,
                        multi: field.is_multi(),
                        table: &table,
                    };
                    self.step(&mut st, name, step, rule_of, "_kr");
                    if st.guard_whole_row && self.applies_list_rules() {
                        self.guard_row(raw, segments, i, target, &st, b)?;
                    }
                    coll = target;
                    i += 1;
                }
                FieldKind::Json { .. } | FieldKind::GeoPoint => {
                    // The rest is a JSON path, each segment reduced as PocketBase's Columnify
                    // reduces it (no modifiers: `x:lower` is the key `xlower`).
                    let keys: Vec<String> =
                        segments[i + 1..].iter().map(|s| columnify(s)).collect();
                    if keys.iter().any(|k| !is_key(k)) {
                        return Err(unknown(raw));
                    }
                    if matches!(field.kind, FieldKind::GeoPoint)
                        && (keys.len() != 1 || !matches!(keys[0].as_str(), "lon" | "lat"))
                    {
                        return Err(unknown(raw));
                    }
                    leaf = Leaf::Json { column, keys };
                    break;
                }
                _ => return Err(unknown(raw)),
            }
        }
        // PocketBase compares a JSON path as it is, without its NULL fallback.
        let strict = matches!(leaf, Leaf::Json { .. });
        // PocketBase ANDs `emailVisibility = TRUE` of the email's row to the comparison.
        let visible = |alias: &str| email.then(|| format!("{alias}.\"emailVisibility\" = TRUE"));
        if st.multi {
            for p in std::mem::take(&mut st.pending) {
                self.joins.add(p.key, p.alias, p.text);
            }
            for (alias, target) in std::mem::take(&mut st.ruled) {
                if target.list_rule.is_none() {
                    // only superusers may list it, whoever joined the row first
                    return Err(unknown(raw));
                }
                if !self.joins.rule_once(&alias) {
                    continue;
                }
                if let Some(cond) = self.list_rule_sql(raw, target, &alias, b)? {
                    // a missing row passes (PocketBase: `id = '' || (listRule)`)
                    self.joins
                        .require(format!("({alias}.\"id\" IS NULL OR ({cond}))"));
                }
            }
            let unit = self.alias("_kd");
            return Ok(Resolved {
                expr: self.leaf_sql(&leaf, &st.shared),
                multi: Some(Multi {
                    source: format!("FROM (SELECT 1) {unit}{} WHERE 1=1", st.chain),
                    shared_item: Some(self.leaf_sql(&leaf, &st.alias)),
                }),
                no_coalesce: false,
                typed,
                also: visible(&st.shared),
                strict,
            });
        }
        let expr = self.leaf_sql(&leaf, &st.alias);
        if st.from.is_empty() {
            return Ok(Resolved {
                expr,
                multi: None,
                no_coalesce,
                typed,
                also: visible(&st.alias),
                strict,
            });
        }
        let (from, wheres) = st.inner();
        let also = visible(&st.alias)
            .map(|v| format!("EXISTS (SELECT 1 FROM {from} WHERE {wheres} AND {v})"));
        let value = format!("(SELECT {expr} FROM {from} WHERE {wheres} LIMIT 1)");
        // the length of a missing row's field is 0 (PocketBase's LEFT JOIN of no row)
        let length = matches!(leaf, Leaf::Column { length: true, .. });
        Ok(Resolved {
            expr: if length {
                format!("COALESCE({value}, 0)")
            } else {
                value
            },
            multi: None,
            no_coalesce: length,
            typed,
            also,
            strict,
        })
    }

    /// Whether PocketBase's walk of `segments` from a row of `coll` meets a name that is no
    /// field: a missing field anywhere, a back-relation that does not resolve, or a path that
    /// ends in a back-relation. From an `@request.*` value (the auth record, a submitted
    /// relation) such a path is NULL (its `nullifyMisingField`); the caller answers NULL before
    /// binding anything. Any other fault is left to [`Self::resolve_path`] to refuse.
    fn names_no_field(&self, mut coll: &'a Collection, segments: &[&str]) -> bool {
        for (i, seg) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let (name, modifier) = split_modifier(seg);
            if modifier.is_some() && !last {
                return false;
            }
            match coll.field(name) {
                None if last => return true,
                None => {
                    let back = back_relation(name).and_then(|(c, f)| {
                        let target = self.by_name(c)?;
                        match &target.field(f)?.kind {
                            FieldKind::Relation { collection_id, .. }
                                if collection_id == &coll.id =>
                            {
                                Some(target)
                            }
                            _ => None,
                        }
                    });
                    match back {
                        Some(target) => coll = target,
                        None => return true,
                    }
                }
                Some(_) if last => return false,
                Some(f) => match &f.kind {
                    FieldKind::Relation { collection_id, .. } => match self.by_id(collection_id) {
                        Some(target) => coll = target,
                        None => return false,
                    },
                    // a JSON path, or a step through a plain field (refused)
                    _ => return false,
                },
            }
        }
        false
    }

    /// A bound value (PocketBase's static `@request.*` fields); arrays become a set over the bound
    /// JSON, except under `:lower`.
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
                typed: false,
                also: None,
                strict: false,
            }),
            (Some("length"), _) => Ok(Resolved {
                expr: b.push(Param::Int(0)),
                multi: None,
                no_coalesce: true,
                typed: false,
                also: None,
                strict: false,
            }),
            (None | Some("each"), Value::Array(_)) => {
                let p = b.push(Param::Text(v.to_string()));
                let j = self.alias("_kj");
                Ok(Resolved {
                    expr: format!("{j}.value"),
                    multi: Some(Multi {
                        source: format!("FROM {} WHERE 1=1", d.json_each_from(&p, &j)),
                        shared_item: None,
                    }),
                    no_coalesce: false,
                    typed: false,
                    also: None,
                    strict: false,
                })
            }
            (None | Some("each") | Some("lower"), Value::Null) => Ok(Resolved::null()),
            // an array or object is lowered as its JSON text (PocketBase binds it encoded)
            (Some("lower"), v) => Ok(Resolved {
                expr: d.lower(&b.push(json_param(v))),
                multi: None,
                no_coalesce: false,
                typed: false,
                also: None,
                strict: false,
            }),
            (None | Some("each"), v) => Ok(Resolved {
                expr: b.push(json_param(v)),
                multi: None,
                no_coalesce: false,
                typed: false,
                also: None,
                strict: false,
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
        self.dynamic.set(true);
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
                // a key the request does not have is NULL, as in PocketBase (not '': `!~`
                // and `~ ''` do not hold for it)
                let v = map.get(key).map(|s| single(s)).unwrap_or(Value::Null);
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
                if self.names_no_field(coll, &segments[1..]) {
                    // a field this auth collection does not have: NULL (see above)
                    return Ok(Resolved::null());
                }
                let id = self.joins.param("@request.auth", || {
                    b.push(Param::Text(auth.id().to_owned()))
                });
                let table = self.d.quote(&coll.name);
                let mut st = PathState::new("", "@request.auth", false);
                let step = Step::Auth {
                    table: &table,
                    id: &id,
                };
                self.step(&mut st, "", step, None, "_ka");
                self.resolve_path(raw, coll, &segments[1..], st, b)
            }
            "body" if segments.len() >= 2 => {
                let (name, m) = split_modifier(segments[1]);
                let field = self.base.field(name);
                let present = self.req.body.contains_key(name);
                let v = self.req.body.get(name).cloned().unwrap_or(Value::Null);
                // `:each` / `:length` need a multi-valued field (PocketBase: "doesn't support
                // multivalue operations").
                if matches!(m, Some("each" | "length")) && !field.is_some_and(|f| f.is_multi()) {
                    let multi_valuer = |f: &Field| {
                        matches!(
                            f.kind,
                            FieldKind::Relation { .. }
                                | FieldKind::Select { .. }
                                | FieldKind::File { .. }
                        )
                    };
                    return Err(match field {
                        // PocketBase's words for a field that never holds several values
                        Some(f) if segments.len() == 2 && !multi_valuer(f) => {
                            FilterError::Unresolved(format!(
                                "field {name:?} doesn't support multivalue operations"
                            ))
                        }
                        _ => unknown(raw),
                    });
                }
                if segments.len() == 2 {
                    return match m {
                        Some("isset") => Ok(Resolved {
                            expr: b.push(Param::Bool(present)),
                            multi: None,
                            no_coalesce: true,
                            typed: false,
                            also: None,
                            strict: false,
                        }),
                        Some("changed") => {
                            let f = field.ok_or_else(|| unknown(raw))?;
                            if !present {
                                return Ok(Resolved {
                                    expr: b.push(Param::Bool(false)),
                                    multi: None,
                                    no_coalesce: true,
                                    typed: false,
                                    also: None,
                                    strict: false,
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
                                typed: false,
                                also: None,
                                strict: false,
                            })
                        }
                        // PocketBase lowers a field's submitted value as text (Go's
                        // `cast.ToString`): missing, null, an array are '', never NULL.
                        Some("lower") if field.is_some() => {
                            let p = b.push(Param::Text(go_string(&v)));
                            Ok(Resolved::value(self.d.lower(&p), false))
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
                if self.names_no_field(target, &segments[2..]) {
                    return Ok(Resolved::null());
                }
                let ids = match &v {
                    Value::Array(_) => v.to_string(),
                    Value::String(s) => Value::Array(vec![Value::String(s.clone())]).to_string(),
                    _ => "[]".into(),
                };
                let key = format!("@request.body.{name}");
                let ids = self.joins.param(&key, || b.push(Param::Text(ids)));
                let table = self.d.quote(&target.name);
                let mut st = PathState::new("", &key, false);
                st.multi = f.is_multi();
                let step = Step::Body {
                    table: &table,
                    ids: &ids,
                };
                self.step(&mut st, "", step, None, "_kq");
                self.resolve_path(raw, target, &segments[2..], st, b)
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
        self.dynamic.set(true);
        let segments: Vec<&str> = rest.split('.').collect();
        if segments.len() < 2 {
            return Err(unknown(raw));
        }
        // `name` or `name:alias`: each alias is its own row of the collection
        let (cname, _) = split_modifier(segments[0]);
        let coll = self.by_name(cname).ok_or_else(|| unknown(raw))?;
        let table = self.d.quote(&coll.name);
        let mut st = PathState::new("", "@collection", false);
        st.multi = true;
        self.step(
            &mut st,
            segments[0],
            Step::Every { table: &table },
            None,
            "_kc",
        );
        self.resolve_path(raw, coll, &segments[1..], st, b)
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
        let st = PathState::new(self.base_alias, self.base_alias, true);
        self.resolve_path(raw, base, &segments, st, b)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{back_relation, go_string};

    #[test]
    fn back_relations_split_as_pocketbase_splits_them() {
        assert_eq!(
            back_relation("comments_via_post"),
            Some(("comments", "post"))
        );
        // the collection part is greedy: the last `_via_`
        assert_eq!(back_relation("a_via_b_via_c"), Some(("a_via_b", "c")));
        // ...that leaves both parts non-empty
        assert_eq!(back_relation("a_via_b_via_"), Some(("a", "b_via_")));
        assert_eq!(back_relation("_via_post"), None);
        assert_eq!(back_relation("comments_via_"), None);
        assert_eq!(back_relation("title"), None);
    }

    #[test]
    fn body_values_are_text_as_go_casts_them() {
        assert_eq!(go_string(&json!("Spam")), "Spam");
        assert_eq!(go_string(&json!("")), "");
        // a missing or null value is '', never NULL: `:lower !~ "spam"` holds for it
        assert_eq!(go_string(&json!(null)), "");
        assert_eq!(go_string(&json!(true)), "true");
        // numbers are float64 in PocketBase's decoded body
        assert_eq!(go_string(&json!(12)), "12");
        assert_eq!(go_string(&json!(1.0)), "1");
        assert_eq!(go_string(&json!(1.5)), "1.5");
        assert_eq!(go_string(&json!(1e21)), "1000000000000000000000");
        assert_eq!(go_string(&json!(9007199254740993_u64)), "9007199254740992");
        assert_eq!(go_string(&json!(["SPAM"])), "");
        assert_eq!(go_string(&json!({"a": "SPAM"})), "");
    }
}
