//! Fuzzes the filter language end to end: arbitrary UTF-8 is parsed (with limits high enough to
//! reach deep inputs) and, when it parses, compiled with a resolver that accepts every
//! identifier. Neither step may panic, and the compiled SQL must reference every bound parameter
//! and no other.
//!
//! Run: `cd fuzz && cargo +nightly fuzz run filter_parse`

#![no_main]

use kiln_filter::{
    compile, parse, CompileOptions, FilterError, Ident, Limits, Multi, Param, Resolved, Resolver, SqlBuilder,
    SqlDialect,
};
use libfuzzer_sys::fuzz_target;

struct Dialect;

impl SqlDialect for Dialect {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }
    fn like(&self, lhs: &str, rhs: &str, negate: bool) -> String {
        format!("{lhs} {}LIKE {rhs} ESCAPE '\\'", if negate { "NOT " } else { "" })
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

/// Accepts every identifier: `@request.*` become bound values, identifiers with a `:` are
/// multi-valued, the others plain columns.
struct Permissive;

impl Resolver for Permissive {
    fn resolve(&mut self, ident: &Ident, b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError> {
        if ident.raw.starts_with("@request") {
            let v = if ident.raw.len() % 3 == 0 { Param::Null } else { Param::Text(ident.raw.clone()) };
            return Ok(Resolved { expr: b.push(v), multi: None, no_coalesce: false, also: None });
        }
        let multi = ident.raw.contains(':').then(|| Multi { source: "FROM j AS j WHERE 1=1".into(), empty_fails: false, joined_rows: false });
        Ok(Resolved { expr: "t.c".into(), multi, no_coalesce: ident.raw.len() % 2 == 0, also: None })
    }
}

fn check_placeholders(sql: &str, n: usize) {
    let mut seen = vec![false; n];
    let mut rest = sql;
    while let Some(at) = rest.find('?') {
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            let k: usize = rest[..digits].parse().expect("placeholder number");
            assert!(k >= 1 && k <= n, "placeholder ?{k} beyond {n} params");
            seen[k - 1] = true;
        }
    }
    assert!(seen.iter().all(|s| *s), "unused parameter in {sql}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits { max_len: 1 << 16, max_exprs: 10_000 };
    let Ok(expr) = parse(text, limits) else { return };
    let dialect = Dialect;
    let mut b = SqlBuilder::new(&dialect);
    if let Ok(sql) = compile(&expr, &mut Permissive, &mut b, &CompileOptions { now_ms: 1_714_557_600_000 }) {
        check_placeholders(&sql, b.params().len());
    }
});
