//! SQL generation for one comparison: operand values, PocketBase's null/empty rules, LIKE
//! patterns, and the quantification over multi-valued operands.
//!
//! Nothing here sees user text: literals were bound by the compiler before and arrive as
//! placeholders; the only SQL constants written here are fixed (`''`, `NULL`, `'%'`, `1=0`, ...).

use crate::ast::{Op, OpKind};
use crate::dialect::SqlDialect;

/// What is known about an operand's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The `null` literal: `''` in `=`/`!=`, SQL `NULL` elsewhere (as PocketBase).
    Null,
    /// The stand-in for an empty multi-valued set: `''` in `=`/`!=` and `~`, `NULL` in ordering
    /// comparisons and function arguments.
    EmptySet,
    /// Known to be the empty text; `sql` is `''` or the placeholder of a bound `''`.
    EmptyText,
    /// Known to be non-NULL and non-empty (bound literal, macro, known parameter).
    NonEmpty,
    /// A column or expression; `nullable` unless the resolver said `no_coalesce`; `typed`: a
    /// number or boolean, never text (see `Resolved::typed`).
    Unknown { nullable: bool, typed: bool },
    /// A column or expression compared as it is (see `Resolved::strict`): NULL-safe equality,
    /// no `''` stand-in.
    Strict,
}

/// One rendered operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Val {
    pub sql: String,
    pub kind: Kind,
    /// `sql` already is a complete LIKE pattern (used on the right of `~`/`!~`).
    pub like_ready: bool,
    /// `sql` is the placeholder of a bound number.
    pub bound_number: bool,
}

impl Val {
    pub(crate) fn new(sql: impl Into<String>, kind: Kind) -> Val {
        Val {
            sql: sql.into(),
            kind,
            like_ready: false,
            bound_number: false,
        }
    }

    pub(crate) fn like_ready(sql: impl Into<String>, kind: Kind) -> Val {
        Val {
            sql: sql.into(),
            kind,
            like_ready: true,
            bound_number: false,
        }
    }

    /// A bound number's placeholder (`sql`), non-empty.
    pub(crate) fn bound_number(sql: impl Into<String>) -> Val {
        Val {
            sql: sql.into(),
            kind: Kind::NonEmpty,
            like_ready: false,
            bound_number: true,
        }
    }

    fn empty_set() -> Val {
        Val::new("NULL", Kind::EmptySet)
    }

    fn is_empty(&self) -> bool {
        matches!(self.kind, Kind::Null | Kind::EmptySet | Kind::EmptyText)
    }

    /// The SQL of the value in `=`/`!=`: null-ish stand-ins read as `''`.
    fn eq_sql(&self) -> &str {
        match self.kind {
            Kind::Null | Kind::EmptySet => "''",
            _ => &self.sql,
        }
    }

    /// The SQL of the value as a function argument or in `<`, `>`...: null-ish reads as `NULL`.
    pub(crate) fn arg_sql(&self) -> &str {
        match self.kind {
            Kind::Null | Kind::EmptySet => "NULL",
            _ => &self.sql,
        }
    }
}

/// A compiled operand, rendered once per assignment of its multi-valued sources (each source is
/// either enumerated, or replaced by the empty-set stand-in).
#[derive(Debug, Clone)]
pub(crate) enum COp {
    Val(Val),
    /// One item of source `src`.
    Item {
        src: usize,
        item: Val,
    },
    /// `geoDistance(lonA, latA, lonB, latB)`.
    Geo(Vec<COp>),
    /// `strftime(format, [value], modifiers...)`; format and modifiers are placeholders.
    Strftime {
        format: String,
        value: Option<Box<COp>>,
        mods: Vec<String>,
    },
}

/// A multi-valued source of a comparison.
#[derive(Debug, Clone)]
pub(crate) struct Src {
    /// `FROM ... WHERE ...`.
    pub from: String,
    /// Always quantified with "any" (geoDistance arguments, as PocketBase).
    pub any_only: bool,
    /// A value of the shared join rows: `COp::Item` renders the value in the combination being
    /// tested, this the same value over `from` (see `Multi::shared_item`).
    pub shared_item: Option<Val>,
}

impl COp {
    /// Renders the operand; `picks[i]`, when set, replaces the items of source `i` (the
    /// empty-set stand-in, or a shared source's own item).
    fn render(&self, d: &dyn SqlDialect, picks: &[Option<Val>]) -> Val {
        match self {
            COp::Val(v) => v.clone(),
            COp::Item { src, item } => match picks.get(*src) {
                Some(Some(v)) => v.clone(),
                _ => item.clone(),
            },
            COp::Geo(args) => {
                let a: Vec<Val> = args.iter().map(|a| a.render(d, picks)).collect();
                let s = |i: usize| {
                    a.get(i)
                        .map(|v| v.arg_sql().to_string())
                        .unwrap_or_else(|| "NULL".into())
                };
                Val::new(
                    d.geo_distance(&s(0), &s(1), &s(2), &s(3)),
                    Kind::Unknown {
                        nullable: true,
                        typed: true,
                    },
                )
            }
            COp::Strftime {
                format,
                value,
                mods,
            } => {
                let v = match value {
                    Some(v) => v.render(d, picks).arg_sql().to_string(),
                    None => "'now'".to_string(),
                };
                Val::new(
                    d.strftime(format, &v, mods),
                    Kind::Unknown {
                        nullable: true,
                        typed: false,
                    },
                )
            }
        }
    }
}

/// A whole comparison ready to be rendered.
pub(crate) struct Comparison {
    pub left: COp,
    pub op: Op,
    pub right: COp,
    pub srcs: Vec<Src>,
}

impl Comparison {
    /// The boolean SQL of the comparison, parenthesised.
    ///
    /// Values of the shared join rows are compared as they are in the combination being
    /// tested; for an all-of operator, no item of theirs may compare false either (PocketBase's
    /// multi-match subquery: `NOT EXISTS (... WHERE NOT (item op other))`, where an item that
    /// compares NULL does not count).
    pub(crate) fn sql(&self, d: &dyn SqlDialect) -> String {
        let mut picks = vec![None; self.srcs.len()];
        let main = self.quantify(d, 0, &mut picks).0;
        let all_of: Vec<usize> = if self.op.any {
            Vec::new()
        } else {
            (0..self.srcs.len())
                .filter(|&i| self.srcs[i].shared_item.is_some() && !self.srcs[i].any_only)
                .collect()
        };
        if all_of.is_empty() {
            return main;
        }
        for &i in &all_of {
            picks[i] = self.srcs[i].shared_item.clone();
        }
        let items = self.quantify(d, 0, &mut picks).0;
        let mut fails = format!("NOT {items}");
        for &i in all_of.iter().rev() {
            fails = format!("EXISTS (SELECT 1 {} AND {fails})", self.srcs[i].from);
        }
        format!("({main} AND NOT {fails})")
    }

    /// Quantifies sources `i..` (outermost first). Returns the SQL and, when it is a constant
    /// that the SQL engine would compute anyway, its value (used only to simplify the empty-set
    /// branch; the SQL it replaces references no placeholder that is not also referenced by the
    /// item branch).
    fn quantify(
        &self,
        d: &dyn SqlDialect,
        i: usize,
        picks: &mut Vec<Option<Val>>,
    ) -> (String, Option<bool>) {
        let Some(src) = self.srcs.get(i) else {
            let l = self.left.render(d, picks);
            let r = self.right.render(d, picks);
            return leaf(d, &l, self.op, &r);
        };
        if src.shared_item.is_some() {
            // compared in the combination being tested (or as `picks` says): no quantifier
            return self.quantify(d, i + 1, picks);
        }
        picks[i] = None;
        let (item_sql, _) = self.quantify(d, i + 1, picks);
        picks[i] = Some(Val::empty_set());
        let (empty_sql, konst) = self.quantify(d, i + 1, picks);
        picks[i] = None;
        let from = &src.from;
        let some = format!("EXISTS (SELECT 1 {from} AND {item_sql})");
        let sql = if self.op.any || src.any_only {
            // some item matches; or there is no item and the empty value matches
            match konst {
                Some(true) => format!("({some} OR NOT EXISTS (SELECT 1 {from}))"),
                Some(false) => format!("({some})"),
                None => format!("({some} OR (NOT EXISTS (SELECT 1 {from}) AND {empty_sql}))"),
            }
        } else {
            // no item fails (an unknown/NULL result fails); and if there is no item, the empty
            // value matches
            let none_fails =
                format!("NOT EXISTS (SELECT 1 {from} AND NOT COALESCE({item_sql}, 1=0))");
            match konst {
                Some(true) => format!("({none_fails})"),
                Some(false) => format!("(EXISTS (SELECT 1 {from}) AND {none_fails})"),
                None => {
                    format!("({none_fails} AND (EXISTS (SELECT 1 {from}) OR {empty_sql}))")
                }
            }
        };
        (sql, None)
    }
}

/// One comparison of two single values.
///
/// The constant is reported where SQL yields a known result: `=`/`!=` between known values, and
/// NULL (reported as `false`) for an ordering comparison or LIKE with a `NULL` operand.
fn leaf(d: &dyn SqlDialect, l: &Val, op: Op, r: &Val) -> (String, Option<bool>) {
    let is_null = |v: &Val| matches!(v.kind, Kind::Null | Kind::EmptySet);
    let ord = |sym: &str| {
        let konst = if is_null(l) || is_null(r) {
            Some(false)
        } else {
            None
        };
        // Two bound numbers have no column to take a type from: PostgreSQL would infer text
        // and compare "6" with "10" as strings. Both engines compare them as numbers this way.
        if l.bound_number && r.bound_number {
            return (
                format!(
                    "(CAST({} AS DOUBLE PRECISION) {sym} CAST({} AS DOUBLE PRECISION))",
                    l.sql, r.sql
                ),
                konst,
            );
        }
        (format!("({} {sym} {})", l.arg_sql(), r.arg_sql()), konst)
    };
    // in LIKE `null` reads as NULL (no match); an empty set as ''
    let like_null = |v: &Val| v.kind == Kind::Null;
    let like_konst = if like_null(l) || (like_null(r) && !r.like_ready) {
        Some(false)
    } else {
        None
    };
    match op.kind {
        OpKind::Eq => equality(l, r, false),
        OpKind::Neq => equality(l, r, true),
        OpKind::Gt => ord(">"),
        OpKind::Gte => ord(">="),
        OpKind::Lt => ord("<"),
        OpKind::Lte => ord("<="),
        OpKind::Like => (format!("({})", like(d, l, r, false)), like_konst),
        OpKind::NotLike => (format!("({})", like(d, l, r, true)), like_konst),
    }
}

fn like(d: &dyn SqlDialect, l: &Val, r: &Val, negate: bool) -> String {
    let lhs = match l.kind {
        Kind::EmptySet => "''",
        _ => l.arg_sql(),
    };
    let rhs = if r.like_ready {
        r.sql.clone()
    } else {
        match r.kind {
            Kind::EmptySet => "'%%'".to_string(),
            _ => d.concat(&["'%'", r.arg_sql(), "'%'"]),
        }
    };
    d.like(lhs, &rhs, negate)
}

/// `=` / `!=` with PocketBase's rules: NULL and `''` are the same value, and comparisons are
/// written so that they never yield NULL.
fn equality(l: &Val, r: &Val, neq: bool) -> (String, Option<bool>) {
    // PocketBase's `a IS b` / `a IS NOT b` for a value without NULL fallback.
    if l.kind == Kind::Strict || r.kind == Kind::Strict {
        let op = if neq {
            "IS DISTINCT FROM"
        } else {
            "IS NOT DISTINCT FROM"
        };
        return (format!("({} {op} {})", l.arg_sql(), r.arg_sql()), None);
    }
    let op = if neq { "!=" } else { "=" };
    let plain = || {
        if l.bound_number && r.bound_number {
            // as in `leaf`'s ordering: compared as numbers on both engines
            return format!(
                "(CAST({} AS DOUBLE PRECISION) {op} CAST({} AS DOUBLE PRECISION))",
                l.sql, r.sql
            );
        }
        format!("({} {op} {})", l.eq_sql(), r.eq_sql())
    };
    let nullable = |v: &Val| matches!(v.kind, Kind::Unknown { nullable: true, .. });
    let typed = |v: &Val| matches!(v.kind, Kind::Unknown { typed: true, .. });
    let known = |v: &Val| v.is_empty() || v.kind == Kind::NonEmpty;

    // A number or boolean is never the empty text: it equals `''` only as NULL. Written without
    // `''` (PostgreSQL cannot read `''` as a number), with SQLite's answer.
    if typed(l) && r.is_empty() || typed(r) && l.is_empty() {
        let x = if typed(l) { l } else { r };
        if !nullable(x) {
            return (if neq { "(1=1)" } else { "(1=0)" }.to_owned(), Some(neq));
        }
        let sql = if neq {
            format!("({} IS NOT NULL)", x.sql)
        } else {
            format!("({} IS NULL)", x.sql)
        };
        return (sql, None);
    }
    // Two numbers or booleans, one NULL-able: NULL equals NULL (PocketBase's COALESCE to '').
    if typed(l) && typed(r) && (nullable(l) || nullable(r)) {
        let op = if neq {
            "IS DISTINCT FROM"
        } else {
            "IS NOT DISTINCT FROM"
        };
        return (format!("({} {op} {})", l.sql, r.sql), None);
    }

    // both known: the engine computes a constant, and so do we
    if known(l) && known(r) {
        let konst = match (l.is_empty(), r.is_empty()) {
            (true, true) => Some(!neq),
            (false, false) => None,
            _ => Some(neq),
        };
        return (plain(), konst);
    }
    // one side empty, the other a nullable expression x: `x = '' OR x IS NULL`
    if l.is_empty() && nullable(r) || r.is_empty() && nullable(l) {
        let x = if nullable(r) { &r.sql } else { &l.sql };
        let sql = if neq {
            format!("({} != {} AND {x} IS NOT NULL)", l.eq_sql(), r.eq_sql())
        } else {
            format!("({} = {} OR {x} IS NULL)", l.eq_sql(), r.eq_sql())
        };
        return (sql, None);
    }
    // one side known non-empty: a NULL on the other side can only make `!=` true
    if l.kind == Kind::NonEmpty || r.kind == Kind::NonEmpty {
        let other = if l.kind == Kind::NonEmpty { r } else { l };
        if neq && nullable(other) {
            return (
                format!(
                    "({} != {} OR {} IS NULL)",
                    l.eq_sql(),
                    r.eq_sql(),
                    other.sql
                ),
                None,
            );
        }
        return (plain(), None);
    }
    // two expressions: COALESCE the nullable ones
    let side = |v: &Val| {
        if nullable(v) {
            format!("COALESCE({}, '')", v.sql)
        } else {
            v.eq_sql().to_string()
        }
    };
    (format!("({} {op} {})", side(l), side(r)), None)
}

/// The LIKE pattern PocketBase binds for a `~`/`!~` right operand: the text as it is if it
/// contains an unescaped `%`, otherwise the text with `\`, `%` and `_` escaped by `\` (unless
/// already escaped) and wrapped in `%...%` ("contains").
pub fn like_pattern(text: &str) -> String {
    if contains_unescaped(text, '%') {
        return text.to_string();
    }
    let special = |c: char| matches!(c, '\\' | '%' | '_');
    let mut out = String::with_capacity(text.len() + 4);
    out.push('%');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            // an existing escape pair is kept
            Some(&next) if c == '\\' && special(next) => {
                out.push(c);
                out.push(next);
                chars.next();
            }
            _ if special(c) => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push('%');
    out
}

/// Whether `ch` occurs in `s` without a preceding (itself unescaped) backslash.
fn contains_unescaped(s: &str, ch: char) -> bool {
    let mut escaped = false;
    for c in s.chars() {
        if c == ch && !escaped {
            return true;
        }
        escaped = c == '\\' && !escaped;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(sql: &str) -> Val {
        Val::new(
            sql,
            Kind::Unknown {
                nullable: true,
                typed: false,
            },
        )
    }
    fn nn(sql: &str) -> Val {
        Val::new(
            sql,
            Kind::Unknown {
                nullable: false,
                typed: false,
            },
        )
    }
    fn k(sql: &str) -> Val {
        Val::new(sql, Kind::NonEmpty)
    }
    fn null() -> Val {
        Val::new("NULL", Kind::Null)
    }
    fn et() -> Val {
        Val::new("''", Kind::EmptyText)
    }

    #[test]
    fn equality_rules() {
        assert_eq!(
            equality(&null(), &et(), false),
            ("('' = '')".into(), Some(true))
        );
        assert_eq!(
            equality(&null(), &et(), true),
            ("('' != '')".into(), Some(false))
        );
        assert_eq!(
            equality(&k("?1"), &null(), false),
            ("(?1 = '')".into(), Some(false))
        );
        assert_eq!(
            equality(&k("?1"), &k("?2"), true),
            ("(?1 != ?2)".into(), None)
        );
        assert_eq!(equality(&u("a"), &null(), false).0, "(a = '' OR a IS NULL)");
        assert_eq!(
            equality(&et(), &u("a"), true).0,
            "('' != a AND a IS NOT NULL)"
        );
        assert_eq!(equality(&nn("n"), &null(), false).0, "(n = '')");
        assert_eq!(equality(&u("a"), &k("?1"), false).0, "(a = ?1)");
        assert_eq!(
            equality(&u("a"), &k("?1"), true).0,
            "(a != ?1 OR a IS NULL)"
        );
        assert_eq!(equality(&nn("n"), &k("?1"), true).0, "(n != ?1)");
        assert_eq!(
            equality(&u("a"), &u("b"), false).0,
            "(COALESCE(a, '') = COALESCE(b, ''))"
        );
        assert_eq!(
            equality(&u("a"), &nn("n"), true).0,
            "(COALESCE(a, '') != n)"
        );
        assert_eq!(equality(&nn("m"), &nn("n"), false).0, "(m = n)");
    }

    #[test]
    fn like_patterns() {
        assert_eq!(like_pattern("abc"), "%abc%");
        assert_eq!(like_pattern(""), "%%");
        assert_eq!(like_pattern("a_b"), r"%a\_b%");
        assert_eq!(like_pattern("__"), r"%\_\_%");
        assert_eq!(like_pattern(r"a\b"), r"%a\\b%");
        assert_eq!(like_pattern(r"a\_b"), r"%a\_b%");
        assert_eq!(like_pattern(r"50\%"), r"%50\%%");
        assert_eq!(like_pattern("a%"), "a%");
        assert_eq!(like_pattern("%a_"), "%a_");
        assert_eq!(like_pattern(r"\\%"), r"\\%");
        assert_eq!(like_pattern(r"a\"), r"%a\\%");
        assert_eq!(like_pattern("ü_😀"), r"%ü\_😀%");
    }
}
