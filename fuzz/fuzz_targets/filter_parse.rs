//! Fuzzes the filter language end to end: arbitrary UTF-8 is parsed (with limits high enough to
//! reach deep inputs) and, when it parses, compiled with a resolver that accepts every
//! identifier. Neither step may panic, and the compiled SQL must reference every bound parameter
//! and no other. The same text, quoted with `quote_text`, must parse back to exactly itself, and
//! `like_pattern` must leave no wildcard of it unescaped unless it holds an unescaped `%`.
//!
//! Run: `scripts/fuzz 60 filter_parse` (or `cd fuzz && cargo +nightly fuzz run filter_parse`).
//! kiln-filter has no sort or fields parser (those are in kiln-core); this covers its only one.

#![no_main]

use kiln_filter::{
    compile, like_pattern, parse, quote_text, CompileOptions, Expr, FilterError, Ident, Limits,
    Literal, Multi, Op, OpKind, Operand, Param, Resolved, Resolver, SqlBuilder, SqlDialect,
};
use libfuzzer_sys::fuzz_target;

struct Dialect;

impl SqlDialect for Dialect {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }
    fn like(&self, lhs: &str, rhs: &str, negate: bool) -> String {
        format!(
            "{lhs} {}LIKE {rhs} ESCAPE '\\'",
            if negate { "NOT " } else { "" }
        )
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
/// multi-valued (with `.` also shared join rows), the others plain columns; the identifier's
/// length picks the remaining flags so that every combination is reached.
struct Permissive;

impl Resolver for Permissive {
    fn resolve(&mut self, ident: &Ident, b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError> {
        let n = ident.raw.len();
        if ident.raw.starts_with("@request") {
            let v = if n % 3 == 0 {
                Param::Null
            } else {
                Param::Text(ident.raw.clone())
            };
            return Ok(Resolved::value(b.push(v), false));
        }
        let mut r = Resolved::value("t.c", n % 2 == 0);
        r.multi = ident.raw.contains(':').then(|| Multi {
            source: "FROM j AS j WHERE 1=1".into(),
            shared_item: ident.raw.contains('.').then(|| "j.c".into()),
        });
        r.typed = n % 5 == 0;
        r.also = (n % 7 == 0).then(|| "t.visible = 1".into());
        r.strict = n % 11 == 0;
        Ok(r)
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
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    // Quoting round-trips any text.
    let quoted = format!("x = {}", quote_text(text));
    let unlimited = Limits {
        max_len: usize::MAX,
        max_exprs: usize::MAX,
    };
    assert_eq!(
        parse(&quoted, unlimited),
        Ok(Expr::Cmp {
            left: Operand::Ident(Ident { raw: "x".into() }),
            op: Op {
                kind: OpKind::Eq,
                any: false
            },
            right: Operand::Literal(Literal::Text(text.to_owned())),
        }),
        "quote_text({text:?}) does not parse back"
    );

    // LIKE patterns (PocketBase's rule): a text with an unescaped % is the pattern as it is;
    // any other text is wrapped in %...% with no unescaped wildcard and no dangling escape.
    let pattern = like_pattern(text);
    if pattern != text {
        let inner = pattern
            .strip_prefix('%')
            .and_then(|p| p.strip_suffix('%'))
            .unwrap_or_else(|| panic!("like_pattern({text:?}) = {pattern:?}"));
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => assert!(chars.next().is_some(), "dangling escape: {pattern:?}"),
                '%' | '_' => panic!("unescaped wildcard in like_pattern({text:?}) = {pattern:?}"),
                _ => {}
            }
        }
    }

    // Parse and compile.
    let limits = Limits {
        max_len: 1 << 16,
        max_exprs: 10_000,
    };
    let Ok(expr) = parse(text, limits) else {
        return;
    };
    let dialect = Dialect;
    let mut b = SqlBuilder::new(&dialect);
    if let Ok(sql) = compile(
        &expr,
        &mut Permissive,
        &mut b,
        &CompileOptions {
            now_ms: 1_714_557_600_000,
        },
    ) {
        check_placeholders(&sql, b.params().len());
    }
});
