//! A test dialect (`?N` placeholders, SQLite-like snippets) and a test resolver.

use kiln_filter::{
    compile, parse, CompileOptions, FilterError, Ident, Limits, Multi, Param, Resolved, Resolver,
    SqlBuilder, SqlDialect,
};

/// 2024-05-01 10:00:00.000Z, a Wednesday.
pub const NOW: i64 = 1_714_557_600_000;

pub struct TestDialect;

impl SqlDialect for TestDialect {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }
    fn like(&self, lhs: &str, rhs: &str, negate: bool) -> String {
        let not = if negate { "NOT " } else { "" };
        format!("{lhs} {not}LIKE {rhs} ESCAPE '\\'")
    }
    fn geo_distance(&self, lon_a: &str, lat_a: &str, lon_b: &str, lat_b: &str) -> String {
        format!("geo({lon_a}, {lat_a}, {lon_b}, {lat_b})")
    }
    fn strftime(&self, format: &str, value: &str, modifiers: &[String]) -> String {
        let mut s = format!("strftime({format}, {value}");
        for m in modifiers {
            s.push_str(", ");
            s.push_str(m);
        }
        s.push(')');
        s
    }
    fn concat(&self, parts: &[&str]) -> String {
        format!("({})", parts.join(" || "))
    }
}

/// Resolves:
/// - `n_*` → `t.n_*` with `no_coalesce`;
/// - `tags`, `tags:each` → multi `FROM json_each(t.tags) AS je WHERE 1=1`, item `je.value`;
/// - `rel.<f>` → multi `FROM rel AS r WHERE r.id IN (SELECT value FROM json_each(t.rel))`,
///   item `r.<f>`; `other.<f>` → same with table `other` / alias `o`;
/// - `nowhere` → multi `FROM json_each(t.nowhere) AS nw` (no WHERE);
/// - `@request.auth.id` → binds `auth_id`, expr is the placeholder (a known value);
/// - `@request.auth.null` → binds NULL; `@request.body.empty` → binds `''`;
/// - `@request.auth.x` → binds `auth_id` inside an expression (not a known value);
/// - `lowered` → `lower(t.title)`; `unknown*` → UnknownField; `@request.secret` → Forbidden;
/// - any other identifier (letters, digits, `_`, `.`, `:`) → `t.<ident with . and : as _>`.
pub struct TestResolver {
    pub auth_id: String,
    pub calls: Vec<String>,
}

impl Default for TestResolver {
    fn default() -> Self {
        TestResolver {
            auth_id: "u123".into(),
            calls: Vec::new(),
        }
    }
}

pub fn single(expr: impl Into<String>) -> Resolved {
    Resolved {
        expr: expr.into(),
        multi: None,
        no_coalesce: false,
        typed: false,
        also: None,
        strict: false,
    }
}

pub fn multi(expr: impl Into<String>, source: impl Into<String>) -> Resolved {
    Resolved {
        expr: expr.into(),
        multi: Some(Multi {
            source: source.into(),
            shared_item: None,
        }),
        no_coalesce: false,
        typed: false,
        also: None,
        strict: false,
    }
}

impl Resolver for TestResolver {
    fn resolve(&mut self, ident: &Ident, b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError> {
        let raw = ident.raw.as_str();
        self.calls.push(raw.to_string());
        Ok(match raw {
            "tags" | "tags:each" => multi("je.value", "FROM json_each(t.tags) AS je WHERE 1=1"),
            "nowhere" => multi("nw.value", "FROM json_each(t.nowhere) AS nw"),
            "@request.auth.id" => single(b.push(Param::Text(self.auth_id.clone()))),
            "@request.auth.null" => single(b.push(Param::Null)),
            "@request.body.empty" => single(b.push(Param::Text(String::new()))),
            "@request.auth.x" => single(format!(
                "upper({})",
                b.push(Param::Text(self.auth_id.clone()))
            )),
            "@request.secret" => return Err(FilterError::Forbidden(raw.into())),
            "lowered" => single("lower(t.title)"),
            _ if raw.starts_with("unknown") => return Err(FilterError::UnknownField(raw.into())),
            _ if raw.starts_with("n_") => Resolved {
                expr: format!("t.{raw}"),
                multi: None,
                no_coalesce: true,
                typed: false,
                also: None,
                strict: false,
            },
            _ if raw.starts_with("rel.") => multi(
                format!("r.{}", &raw[4..]),
                "FROM rel AS r WHERE r.id IN (SELECT value FROM json_each(t.rel))",
            ),
            _ if raw.starts_with("other.") => multi(
                format!("o.{}", &raw[6..]),
                "FROM other AS o WHERE o.id IN (SELECT value FROM json_each(t.other))",
            ),
            _ => single(format!("t.{}", raw.replace(['.', ':', '@', '#'], "_"))),
        })
    }
}

/// Parses and compiles with the default limits and [`NOW`].
pub fn try_sql(filter: &str) -> Result<(String, Vec<Param>), FilterError> {
    try_sql_with(filter, &mut TestResolver::default())
}

pub fn try_sql_with(
    filter: &str,
    r: &mut dyn Resolver,
) -> Result<(String, Vec<Param>), FilterError> {
    let expr = parse(filter, Limits::default())?;
    let mut b = SqlBuilder::new(&TestDialect);
    let sql = compile(&expr, r, &mut b, &CompileOptions { now_ms: NOW })?;
    let params = b.into_params();
    assert_params_used(&sql, params.len());
    Ok((sql, params))
}

/// Compiles `filter`, panicking on error.
pub fn sql(filter: &str) -> (String, Vec<Param>) {
    try_sql(filter).unwrap_or_else(|e| panic!("{filter:?}: {e:?}"))
}

/// The SQL text only.
pub fn s(filter: &str) -> String {
    sql(filter).0
}

pub fn text(s: &str) -> Param {
    Param::Text(s.into())
}

/// Every bound parameter must be referenced (PostgreSQL rejects unused ones) and no placeholder
/// may point past the parameters.
pub fn assert_params_used(sql: &str, n: usize) {
    let mut seen = vec![false; n];
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'?' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j > start {
                let k: usize = sql[start..j].parse().unwrap();
                assert!(
                    k >= 1 && k <= n,
                    "placeholder ?{k} out of range (n={n}) in {sql}"
                );
                seen[k - 1] = true;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    for (k, used) in seen.iter().enumerate() {
        assert!(used, "parameter ?{} is never used in {sql}", k + 1);
    }
}

/// Error of a filter that must fail.
pub fn err(filter: &str) -> FilterError {
    match try_sql(filter) {
        Err(e) => e,
        Ok(ok) => panic!("{filter:?} compiled to {ok:?}"),
    }
}

/// Message of a filter that must fail with a syntax error.
pub fn syntax(filter: &str) -> String {
    match err(filter) {
        FilterError::Syntax(m) => m,
        other => panic!("{filter:?}: expected a syntax error, got {other:?}"),
    }
}
